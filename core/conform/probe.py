"""Read what a media file really is, with PyAV (no ffprobe needed)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import MediaError


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    width: int
    height: int
    rate: Fraction
    frames: int
    pix_fmt: str
    has_audio: bool

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate


def probe(path: Path) -> MediaInfo:
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path} does not exist.", "Check the path.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path} has no video stream.", "Give a video file.")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
            frames = stream.frames or sum(1 for _ in container.decode(stream))
            return MediaInfo(path, stream.codec_context.width, stream.codec_context.height, rate, frames,
                             stream.codec_context.pix_fmt or "", bool(container.streams.audio))
    except MediaError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise MediaError(f"{path} is not readable media ({e.__class__.__name__}).",
                         "The file may be truncated or not a video; regenerate or re-download it.") from None
