"""Real media for the fakes, rendered with the bundled ffmpeg and cached by spec.

A fake answers with what its model really makes (size, frame rate, length, audio, from the
request); `Limit` scales that down so tests stay small and fast. Each spec is rendered once per
process, so a test session pays for it once.
"""

from __future__ import annotations

import io
import tempfile
import threading
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path

import ffmpeg

from ..ffmpeg import ffmpeg_exe
from ..frames import rate_str, seconds_to_frames_ceil
from .loopback import Call


@dataclass(frozen=True)
class Spec:
    """What a model outputs for one request. `frames` wins over `seconds` when given."""

    width: int
    height: int
    fps: Fraction
    seconds: Fraction = Fraction(1)
    audio: bool = False
    frames: int | None = None

    @property
    def frame_count(self) -> int:
        return self.frames if self.frames is not None else max(1, seconds_to_frames_ceil(self.seconds, self.fps))


@dataclass(frozen=True)
class Limit:
    """The largest media a fake sends: the long and short sides of the frame, and the length.

    None on a field means "as the model would". Rates are never changed: conform must see them.
    """

    long_side: int | None = 320
    short_side: int | None = 180
    seconds: Fraction | None = Fraction(1)

    def apply(self, spec: Spec) -> Spec:
        w, h = spec.width, spec.height
        long_max, short_max = self.long_side or max(w, h), self.short_side or min(w, h)
        scale = min(Fraction(1), Fraction(long_max, max(w, h)), Fraction(short_max, min(w, h)))
        w, h = _even(w * scale), _even(h * scale)
        frames = spec.frame_count
        if self.seconds is not None:
            frames = min(frames, max(1, seconds_to_frames_ceil(Fraction(self.seconds), spec.fps)))
        return Spec(w, h, spec.fps, Fraction(frames) / spec.fps, spec.audio, frames)


FULL = Limit(None, None, None)  # what the models really make (the `sandbox serve` default)
SMALL = Limit()  # 320x180 (or 180x320), at most 1 s: the tests' default


def _even(x: Fraction) -> int:
    return max(2, int(x) // 2 * 2)  # H.264 in yuv420p wants even sides


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="promptreel-sandbox-media-"))


@cache
def _render(spec: Spec) -> bytes:
    rate_part = f"{spec.fps.numerator}-{spec.fps.denominator}"
    out = _workdir() / f"{spec.width}x{spec.height}_{rate_part}_{spec.frame_count}_{int(spec.audio)}.mp4"
    rate = rate_str(spec.fps)
    video = ffmpeg.input(f"testsrc2=size={spec.width}x{spec.height}:rate={rate}", f="lavfi")
    streams = [video]
    kw: dict[str, str | int] = dict(
        vcodec="libx264", pix_fmt="yuv420p", preset="ultrafast", r=rate, movflags="+faststart", loglevel="error"
    )
    kw["frames:v"] = spec.frame_count
    if spec.audio:
        seconds = float(Fraction(spec.frame_count) / spec.fps)  # a duration for ffmpeg's command line only
        streams.append(ffmpeg.input(f"sine=frequency=440:sample_rate=48000:duration={seconds:.6f}", f="lavfi"))
        kw.update(acodec="aac")
    ffmpeg.output(*streams, str(out), **kw).overwrite_output().run(cmd=ffmpeg_exe(), quiet=True)
    return out.read_bytes()


def render(spec: Spec) -> bytes:
    """A real H.264 MP4 (AAC audio when asked) with exactly the spec's frames, size and rate."""
    with _lock:  # one render per spec, even when many fake threads ask at once
        return _render(spec)


def tiny_mp4() -> bytes:
    """The smallest clip a fake sends for a 16:9, 24 fps model with audio: 320x180, 1 s."""
    return render(SMALL.apply(Spec(320, 180, Fraction(24), Fraction(1), audio=True)))


@cache
def png(width: int, height: int) -> bytes:
    """A real PNG still of the given size."""
    out = _workdir() / f"still_{width}x{height}.png"
    (
        ffmpeg.input(f"testsrc2=size={width}x{height}:rate=1", f="lavfi")
        .output(str(out), vframes=1, vcodec="png", loglevel="error")
        .overwrite_output()
        .run(cmd=ffmpeg_exe(), quiet=True)
    )
    return out.read_bytes()


def png_file(name: str = "frame.png", size: str = "320x180") -> Path:
    """A first/last-frame image (test pattern) as a real PNG file."""
    w, h = (int(x) for x in size.split("x"))
    out = _workdir() / f"{size}-{name}"  # cached by name and size: one name at two sizes is two files
    if not out.exists():
        out.write_bytes(png(w, h))
    return out


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image, or None if it is not one the fakes' vendors could decode."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            frame = next(container.decode(video=0))
            return frame.width, frame.height
    except Exception:
        return None


def video_seconds(data: bytes) -> float | None:
    """An MP4/MOV's duration in seconds, or None if it is not a video the fakes' vendors could decode."""
    shape = video_shape(data)
    return shape[3] if shape else None


def video_shape(data: bytes) -> tuple[int, int, Fraction, float] | None:
    """An MP4/MOV's (width, height, frame rate, seconds), or None if it is not a video the fakes' vendors
    could decode."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            if container.format.name.split(",")[0] != "mov" or not container.streams.video:
                return None
            stream = container.streams.video[0]
            frame = next(container.decode(video=0))
            if not container.duration:
                return None
            return frame.width, frame.height, Fraction(stream.average_rate or 24), container.duration / av.time_base
    except Exception:
        return None


def multipart(call: Call) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]] | None:
    """(fields, files) of a request's multipart/form-data body, or None if it is not one."""
    ctype, body = call.headers.get("content-type", ""), call.body
    if not ctype.startswith("multipart/form-data"):
        return None
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):  # every form-data part is named (RFC 7578)
            continue
        filename = part.get_filename()
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if filename is not None:
            files[name] = (filename, payload, part.get_content_type())
        else:
            fields[name] = payload.decode()
    return fields, files
