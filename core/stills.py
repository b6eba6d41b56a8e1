"""One frame of a media file as a PNG, by its frame number at the media's own rate (a neighbouring shot's
edge frame for a fill's first or last frame, read from the shot's media rather than exported from an NLE)."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

from .errors import UserError


def frame_still(media: Path, frame: int, rate: Fraction, folder: Path) -> Path:
    """Frame `frame` (0 = the file's first) of `media` at `rate`, as a PNG in `folder`, named by what it holds.
    Seeks half a frame early: the first frame at or after that time is the one."""
    import ffmpeg

    from .ffmpeg import ffmpeg_exe

    media = Path(media)
    key = hashlib.sha256(f"{media.resolve()}|{media.stat().st_mtime_ns}|{frame}|{rate}".encode()).hexdigest()[:16]
    out = Path(folder) / f"frame-{key}.png"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    seek = max(Fraction(frame) / rate - Fraction(1, 2) / rate, Fraction(0))
    partial = out.with_name(f".{out.stem}.partial.png")
    try:
        ffmpeg.run(
            ffmpeg.input(str(media), ss=f"{float(seek):.6f}").output(str(partial), vframes=1),
            cmd=ffmpeg_exe(),
            quiet=True,
            overwrite_output=True,
        )
        if not partial.is_file() or partial.stat().st_size == 0:
            raise UserError(f"{media.name} has no frame {frame}.", "Check that the neighbouring media plays.")
        partial.replace(out)
    except ffmpeg.Error:
        raise UserError(
            f"Could not read frame {frame} of {media}.", "Check that the neighbouring media plays."
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return out
