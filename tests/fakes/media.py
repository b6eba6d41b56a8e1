"""Real media for the fakes, made once per test session with the bundled ffmpeg."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import ffmpeg

from promptreel.core.ffmpeg import ffmpeg_exe


@lru_cache(maxsize=None)
def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="promptreel-fake-media-"))


@lru_cache(maxsize=None)
def tiny_mp4() -> bytes:
    """A 1 s, 320x180, 24 fps H.264 clip with a sine-tone AAC track."""
    out = _workdir() / "tiny.mp4"
    video = ffmpeg.input("testsrc2=size=320x180:rate=24:duration=1", f="lavfi")
    audio = ffmpeg.input("sine=frequency=440:sample_rate=48000:duration=1", f="lavfi")
    (ffmpeg.output(video, audio, str(out), vcodec="libx264", pix_fmt="yuv420p", acodec="aac",
                   shortest=None, movflags="+faststart", loglevel="error")
     .overwrite_output().run(cmd=ffmpeg_exe()))
    return out.read_bytes()


@lru_cache(maxsize=None)
def tiny_png(name: str = "frame.png", size: str = "320x180") -> Path:
    """A first/last-frame image (test pattern), as a real PNG file."""
    out = _workdir() / name
    (ffmpeg.input(f"testsrc2=size={size}:rate=1", f="lavfi")
     .output(str(out), vframes=1, loglevel="error").overwrite_output().run(cmd=ffmpeg_exe()))
    return out
