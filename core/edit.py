"""Changing a clip with a prompt, keeping its timing (video-to-video), the part every editor shares: which
models edit a video file and how long a one, and the source cut that is sent (the clip's used range plus
handles, exactly, at its own rate). The OTIO side (otio_adapters/edit.py) and the Resolve side
(resolve_plugin/edit.py) place the result as a take of the clip.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path

from .catalog import Catalog, Model, Size
from .errors import BadInput, UnsupportedRequest
from .frames import rate_label


def editors(catalog: Catalog) -> list[str]:
    return [m.id for m in catalog.models.values() if "remix" in m.inputs and m.state() != "retired"]


def editing_model(model_id: str | None, catalog: Catalog) -> Model:
    """The model to edit with: one that edits video (`remix`); refused, naming those that do, otherwise."""
    if not model_id:
        raise BadInput("No model to edit with.", f"Give --model, one that edits video: {', '.join(editors(catalog))}.")
    model = catalog.get(model_id)
    if "remix" not in model.inputs:
        raise UnsupportedRequest(f"{model.name} does not edit video.",
                                 f"Choose a model that does: {', '.join(editors(catalog))}.")
    return model


def longest_edit(model: Model) -> Fraction:
    """The longest source (in seconds) `model` edits."""
    if model.edit_max_seconds is not None:
        return Fraction(model.edit_max_seconds).limit_denominator(1000)
    return Fraction(max(model.allowed_durations(), default=0))


def check_edit(where: str, frames: int, head: int, tail: int, rate: Fraction, model: Model) -> None:
    """Refuse, before anything is spent, a range (plus handles) longer than `model` edits, naming its limit."""
    total = head + frames + tail
    longest = longest_edit(model)
    if Fraction(total) / rate > longest:
        raise UnsupportedRequest(
            f"{where} is {frames} frames{f' with {head + tail} handle frames' if head + tail else ''}, "
            f"{float(Fraction(total) / rate):.2f} s; {model.name} edits at most {float(longest):g} s "
            f"({math.floor(longest * rate)} frames at {rate_label(rate)} fps).",
            "Edit a shorter clip, give fewer --handles, or choose a model that edits longer video.")


def handles_within(start: int, frames: int, media_frames: int, handles: int) -> tuple[int, int]:
    """(head, tail): up to `handles` each side of the used range [start, start + frames), as far as the media goes."""
    if handles < 0:
        raise BadInput(f"{handles} handle frames.", "Give --handles 0 or more.")
    return min(handles, start), max(min(handles, media_frames - start - frames), 0)


def cut_range(media: Path, first: int, frames: int, rate: Fraction, folder: Path) -> Path:
    """Frames [first, first + frames) of `media` as an H.264 MP4 at `rate` and its own size, exactly (the format
    every editing route takes). Named by what it holds, so the same cut is the same request."""
    from .conform.execute import conform
    from .conform.plan import Choices
    from .conform.probe import probe
    from .conform.target import Target

    key = hashlib.sha256(f"{media.resolve()}|{media.stat().st_mtime_ns}|{first}|{frames}|{rate}".encode()).hexdigest()
    out = Path(folder) / f"source-{key[:16]}.mp4"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        info = probe(media)
        size = Size(width=info.width - info.width % 2, height=info.height - info.height % 2)
        conform(media, out, Target(frames=frames, rate=rate, size=size, bit_depth=8, codec="h264"),
                Choices(in_point=first))
    return out
