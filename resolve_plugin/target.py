"""The conform target a Resolve timeline asks for, read from its settings strings.

`timelineFrameRate` reads "23.976", "24", "29.97 DF" (a ` DF` suffix means drop-frame timecode);
21.1's plural `GetSettings` returns numbers. Rates become exact `Fraction`s: 23.976 is 24000/1001.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict

from promptreel.core.catalog import Size
from promptreel.core.conform_choices import Fit
from promptreel.core.errors import BadInput
from promptreel.core.frames import parse_rate
from promptreel.core.request import Rate, Slot

# Resolve's "mismatched resolution files" choice -> conform fit mode.
FIT_MODES = {"scaleToFit": "fit", "scaleToCrop": "fill", "centerCrop": "crop", "stretch": "stretch"}
_NTSC = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))


class ConformTarget(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    rate: Rate
    drop_frame: bool = False
    width: int
    height: int
    fit: Fit = "fit"
    bit_depth: Literal[8, 10, 12] = 10
    pixel_aspect: str = "square"

    @property
    def size(self) -> Size:
        return Size(width=self.width, height=self.height)

    def slot(self, frames: int, prompt: str, name: str = "", **hints) -> Slot:
        return Slot(
            frames=frames, rate=self.rate, size=self.size, bit_depth=self.bit_depth, prompt=prompt, name=name, **hints
        )


def parse_timeline_rate(value: str | int | float) -> tuple[Fraction, bool]:
    """'29.97 DF' -> (30000/1001, True). Numbers from 21.1's GetSettings are matched to NTSC rates exactly."""
    text = str(value).strip()
    drop = text.upper().endswith("DF")
    text = text[:-2].strip() if drop else text
    try:
        return parse_rate(text), drop
    except BadInput:
        pass
    try:
        approx = Fraction(text)
    except (ValueError, ZeroDivisionError):
        approx = None
    if approx is not None:
        for rate in _NTSC:  # "23.976023976..." from a float: the NTSC rate it stands for
            if abs(approx - rate) < Fraction(1, 200):
                return rate, drop
    raise BadInput(
        f"Resolve reports the timeline frame rate as '{value}', which promptreel cannot read.",
        "Check Project Settings > Master Settings > Timeline frame rate.",
    )


def target_from_settings(settings: dict[str, str], bit_depth: int | None = None) -> ConformTarget:
    """The target from the effective project/timeline settings; `bit_depth` overrides the project's."""
    rate, drop = parse_timeline_rate(settings.get("timelineFrameRate") or "")
    drop = drop or settings.get("timelineDropFrameTimecode") == "1"
    try:
        width = int(settings.get("timelineResolutionWidth") or 0)
        height = int(settings.get("timelineResolutionHeight") or 0)
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        raise BadInput("Resolve reports no timeline resolution.", "Check Project Settings > Master Settings.")
    depth = bit_depth
    if depth is None:
        monitor = str(settings.get("videoMonitorBitDepth") or "")
        depth = int(monitor) if monitor in ("8", "10", "12") else 10
    return ConformTarget(
        rate=rate,
        drop_frame=drop,
        width=width,
        height=height,
        fit=FIT_MODES.get(settings.get("timelineInputResMismatchBehavior") or "", "fit"),
        bit_depth=depth,
        pixel_aspect=settings.get("timelinePixelAspectRatio") or "square",
    )
