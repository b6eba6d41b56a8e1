"""Small media for the conform tests, made with the real ffmpeg (ffmpeg-python) and PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import ffmpeg

from promptreel.core.ffmpeg import ffmpeg_exe

SIZE = "320x180"


def _run(stream) -> None:
    stream.global_args("-hide_banner", "-loglevel", "error", "-nostdin").overwrite_output().run(cmd=ffmpeg_exe())


def clip(
    path: Path,
    rate: str = "24",
    seconds: float = 1,
    *,
    audio: bool = True,
    size: str = SIZE,
    vf: list[tuple[str, dict]] = (),
    out: dict | None = None,
    source: str | None = None,
) -> Path:
    """testsrc2 (moving, every frame different) + a sine, H.264 8-bit without B-frames."""
    video = ffmpeg.input(source or f"testsrc2=size={size}:rate={rate}", f="lavfi", t=seconds).video
    for name, kwargs in vf:
        video = video.filter(name, **kwargs)
    streams = [video]
    if audio:
        streams.append(ffmpeg.input("sine=frequency=440:sample_rate=44100", f="lavfi", t=seconds).audio)
    args = {"c:v": "libx264", "pix_fmt": "yuv420p", "bf": 0, "preset": "ultrafast", **(out or {})}
    if audio:
        args["c:a"] = "aac"
    _run(ffmpeg.output(*streams, str(path), **args))
    return path


def halves(path: Path, *, full_range: bool = False, seconds: float = 0.5) -> Path:
    """Left half grey, right half white: shows where a picture was padded, cropped or turned."""
    src = f"color=c=white:size={SIZE}:rate=24"
    video = ffmpeg.input(src, f="lavfi", t=seconds).video.drawbox(0, 0, 160, 180, color="gray", t="fill")
    args = {"c:v": "libx264", "pix_fmt": "yuv420p", "bf": 0, "preset": "ultrafast"}
    if full_range:
        video = video.filter("scale", out_range="full")
        args["color_range"] = "pc"
    _run(ffmpeg.output(video, str(path), **args))
    return path


# Vertical bars, left to right (RGB): black, mid grey, white, red; each 80 px of 320.
BARS = [("black", 0), ("0x808080", 80), ("white", 160), ("red", 240)]


def bars(path: Path, *, full_range: bool = False, seconds: float = 0.25) -> Path:
    """Black / grey / white / red bars in 8-bit Rec.709 YUV, full or limited range, tagged as such."""
    video = ffmpeg.input(f"color=c=black:size={SIZE}:rate=24", f="lavfi", t=seconds).video
    for colour, x in BARS[1:]:
        video = video.drawbox(x, 0, 80, 180, color=colour, t="fill")
    video = video.filter("format", "gbrp").filter(
        "scale", out_color_matrix="bt709", out_range="full" if full_range else "limited"
    )
    args = {
        "c:v": "libx264",
        "pix_fmt": "yuv444p",
        "bf": 0,
        "preset": "ultrafast",
        "color_range": "pc" if full_range else "tv",
        "color_primaries": "bt709",
        "color_trc": "bt709",
        "colorspace": "bt709",
    }
    _run(ffmpeg.output(video, str(path), **args))
    return path


def hdr(path: Path, transfer: str, seconds: float = 0.25) -> Path:
    """Left half grey, right half SDR white (100 cd/m²), as BT.2020 PQ ("smpte2084") or HLG ("arib-std-b67"),
    10-bit H.265, tagged."""
    src = f"color=c=white:size={SIZE}:rate=24"
    video = ffmpeg.input(src, f="lavfi", t=seconds).video.drawbox(0, 0, 160, 180, color="gray", t="fill")
    video = video.filter(
        "zscale", tin="bt709", t=transfer, pin="bt709", p="bt2020", min="bt709", m="bt2020nc", r="limited", npl=100
    ).filter("format", "yuv420p10le")
    args = {
        "c:v": "libx265",
        "preset": "ultrafast",
        "x265-params": "log-level=error",
        "color_primaries": "bt2020",
        "color_trc": transfer,
        "colorspace": "bt2020nc",
        "color_range": "tv",
    }
    _run(ffmpeg.output(video, str(path), **args))
    return path


def vfr(path: Path) -> Path:
    """Frame periods alternate 1.3 and 0.7 of 1/24 s: variable rate, 24 fps on average."""
    periods = [("settb", {"expr": "1/24000"}), ("setpts", {"expr": "(N+0.3*mod(N,2))/24/TB"})]
    return clip(
        path,
        "24",
        1,
        audio=False,
        vf=periods,
        out={"fps_mode": "passthrough", "enc_time_base": "1/24000", "video_track_timescale": 24000},
    )


def rotated(src: Path, path: Path, degrees: int = 90) -> Path:
    _run(ffmpeg.output(ffmpeg.input(str(src), display_rotation=degrees), str(path), c="copy"))
    return path


def short_last_frame(src: Path, path: Path) -> Path:
    """Remux `src` so its last frame lasts a quarter of a frame period (as some generators write)."""
    with av.open(str(src)) as inp, av.open(str(path), "w") as out:
        stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(stream)
        packets = [p for p in inp.demux(stream) if p.size]
        period = packets[1].pts - packets[0].pts
        for i, packet in enumerate(packets):
            packet.stream = out_stream
            if i == len(packets) - 1:
                packet.duration = max(1, period // 4)
            out.mux(packet)
    return path


def assert_conformed(info, target) -> None:
    """`info` (a probed output) is exactly `target`: frames, rate, size, pixel format, profile, timecode."""
    assert info.frames == target.frames and not info.last_frame_partial
    assert info.rate == target.rate and not info.variable_rate
    assert (info.width, info.height) == (target.size.width, target.size.height)
    written = target.pix_fmt()
    assert info.pix_fmt == target.family.reads_as.get(written, written)
    assert info.profile == target.family.profile
    assert info.timecode == target.timecode


def pixel(frame, x: int, y: int, plane: int = 0) -> int:
    """One sample of a decoded frame's plane (8-bit, or 16-bit little-endian for >8-bit formats)."""
    p = frame.planes[plane]
    data = bytes(p)
    wide = max(c.bits for c in frame.format.components) > 8
    if wide:
        i = y * p.line_size + 2 * x
        return data[i] | data[i + 1] << 8
    return data[y * p.line_size + x]


def first_frame(path: Path):
    with av.open(str(path)) as c:
        return next(c.decode(video=0))


def rate(text: str) -> Fraction:
    return Fraction(text)
