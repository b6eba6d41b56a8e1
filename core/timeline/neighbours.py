"""Neighbour frames: the last frame of the shot before a placeholder and the first of the shot after,
as first/last-frame inputs for models that take them (`--frames-from-neighbours`).

Only where the neighbour is a clip whose media file is reachable; otherwise that side is None.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from ..errors import UserError
from .timebase import exact_rate


def media_file(clip: otio.core.Item) -> Path | None:
    """The clip's media as a local file, if it has one: file:// URLs and bare paths (Resolve) alike."""
    ref = clip.media_reference if isinstance(clip, otio.schema.Clip) else None
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return None
    url = ref.target_url
    path = Path(unquote(urlparse(url).path)) if url.startswith("file:") else Path(url)
    return path if path.is_file() else None


def _sibling(item: otio.core.Item, step: int) -> otio.core.Item | None:
    parent = item.parent()
    if not isinstance(parent, otio.schema.Track):
        return None
    i = parent.index(item) + step
    while 0 <= i < len(parent):
        if not isinstance(parent[i], otio.schema.Transition):
            return parent[i]
        i += step
    return None


def media_frame_seconds(clip: otio.schema.Clip, last: bool) -> Fraction:
    """Where, in seconds from the start of the media file, the clip's first (or last) shown frame is."""
    shown = clip.trimmed_range()
    rate = exact_rate(shown.start_time.rate)
    frame = Fraction(shown.start_time.value).limit_denominator(1_000_000)
    if last:
        frame += Fraction(shown.duration.value).limit_denominator(1_000_000) - 1
    available = clip.media_reference.available_range
    if available is not None:  # source times count from the media's start timecode
        start = available.start_time
        frame -= Fraction(start.value).limit_denominator(1_000_000) * rate / exact_rate(start.rate)
    return max(frame, Fraction(0)) / rate


def extract_frame(media: Path, seconds: Fraction, rate: Fraction, folder: Path) -> Path:
    """One frame of `media` as PNG. Seeks half a frame early: the first frame at or after that is the one."""
    import ffmpeg

    from ..ffmpeg import ffmpeg_exe

    key = hashlib.sha256(f"{media.resolve()}|{media.stat().st_mtime_ns}|{seconds}".encode()).hexdigest()[:16]
    out = Path(folder) / f"neighbour-{key}.png"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    seek = max(seconds - Fraction(1, 2) / rate, Fraction(0))
    stream = ffmpeg.input(str(media), ss=f"{float(seek):.6f}").output(str(out), vframes=1)
    try:
        ffmpeg.run(stream, cmd=ffmpeg_exe(), quiet=True, overwrite_output=True)
    except ffmpeg.Error:
        raise UserError(f"Could not read a frame from {media}.", "Check that the neighbouring media plays.") from None
    return out


def neighbour_frames(item: otio.core.Item, folder: Path, want_last: bool) -> tuple[Path | None, Path | None]:
    """(last frame of the shot before `item`, first frame of the shot after it), where reachable."""
    first = last = None
    prev = _sibling(item, -1)
    if prev is not None and (media := media_file(prev)) is not None:
        rate = exact_rate(prev.trimmed_range().start_time.rate)
        first = extract_frame(media, media_frame_seconds(prev, last=True), rate, folder)
    nxt = _sibling(item, +1)
    if want_last and first is not None and nxt is not None and (media := media_file(nxt)) is not None:
        rate = exact_rate(nxt.trimmed_range().start_time.rate)
        last = extract_frame(media, media_frame_seconds(nxt, last=False), rate, folder)
    return first, last
