"""The choices conform offers, named once: fit modes, frame-rate change modes and codec families.

Every command's options and the conform types read them from here. Kept apart from `core.conform`
so a command lists them without importing ffmpeg and PyAV.
"""

from __future__ import annotations

from typing import Literal, get_args

from .tomlfile import shipped

# How a different frame size is fitted: Resolve's four "mismatched resolution" choices.
Fit = Literal["fit", "fill", "crop", "stretch"]
# How a different frame rate is reached (core/conform/plan.py says what each does).
FpsMode = Literal["auto", "speed", "nearest", "blend", "minterpolate"]

FIT_MODES: tuple[str, ...] = get_args(Fit)
FPS_MODES: tuple[str, ...] = get_args(FpsMode)

DEFAULT_CODEC = "prores-hq"


def codec_names() -> list[str]:
    """The codec families conform writes, in the order of core/data/codecs.toml."""
    return list(shipped("codecs.toml"))
