"""Read what a media file really is, with PyAV (no ffprobe needed).

Frame counts are counted from the packets, never estimated from duration × rate, and the
last frame is examined: generated clips often end on a partial frame (shorter than one
frame period) or on a duplicate of the frame before it, which conform must not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MediaError

if TYPE_CHECKING:
    import av
    import av.container
    import av.stream

# FFmpeg's colour enums (libavutil/pixfmt.h) -> the names ffmpeg's options take.
PRIMARIES = {
    1: "bt709",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    11: "iec61966-2-4",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    18: "arib-std-b67",
}
MATRICES = {
    0: "gbr",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    9: "bt2020nc",
    10: "bt2020c",
    14: "ictcp",
}
RANGES = {1: "tv", 2: "pc"}

# A frame period that differs from the typical one by more than this is variable rate
# (container timebases round, e.g. 33/34 ms at 29.97 in Matroska, so allow a little).
VFR_TOLERANCE = Fraction(2, 100)
# Mean difference, in 8-bit code values, under which the last frame repeats the one before it.
DUPLICATE_TOLERANCE = Fraction(1, 2)
DUPLICATE_MAX_DIFFERENCE = 24  # grey code values: compression noise, not motion


@dataclass(frozen=True)
class AudioInfo:
    rate: int
    channels: int
    codec: str
    duration: Fraction = Fraction(0)  # seconds, as the container says (0: it does not)


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    width: int  # coded size, before rotation
    height: int
    rate: Fraction  # average rate for a variable-rate stream
    frames: int  # every frame the stream holds, counted
    pix_fmt: str
    has_audio: bool
    codec: str = ""
    profile: str = ""
    sample_aspect: Fraction = Fraction(1)
    rotation: int = 0  # degrees counter-clockwise the player turns the picture: 0, 90, 180, 270
    variable_rate: bool = False
    last_frame_partial: bool = False  # held for less than half a frame period
    last_frame_duplicate: bool = False  # identical pixels to the frame before it
    bit_depth: int = 8
    chroma: str = "4:2:0"
    has_alpha: bool = False
    is_rgb: bool = False
    color_primaries: str | None = None  # None: the file does not say
    color_transfer: str | None = None
    color_matrix: str | None = None
    color_range: str | None = None  # "tv" (limited) or "pc" (full)
    timecode: str | None = None
    duration: Fraction = Fraction(0)  # seconds, of the video stream
    audio: tuple[AudioInfo, ...] = field(default=())

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate

    @property
    def usable_frames(self) -> int:
        """Frames conform may use: a partial or duplicated last frame is not a frame."""
        return self.frames - (1 if (self.last_frame_partial or self.last_frame_duplicate) and self.frames > 1 else 0)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown: rotation applied, pixels made square."""
        w, h = (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        sar = self.sample_aspect if self.rotation not in (90, 270) else 1 / self.sample_aspect
        if sar > 1:
            w = round(w * sar)
        elif sar < 1:
            h = round(h / sar)
        return w, h

    @property
    def display_aspect(self) -> Fraction:
        w, h = self.display_size
        return Fraction(w, h)


def probe(path: Path, *, check_duplicate: bool = True) -> MediaInfo:
    """Everything conform needs to know about `path`. Raises MediaError for anything not usable video.

    `check_duplicate` looks for a last frame that repeats the one before it (decoding the end of the
    stream only when the frame sizes suggest one).
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path} does not exist.", "Check the path.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{path} has no video stream.", "Give a video file.")
            stream = container.streams.video[0]
            cc = stream.codec_context
            tb = stream.time_base
            times: list[tuple[int, int, int]] = []  # (pts, duration, bytes) of each video packet
            forward: list[int] = []  # bytes of each frame later than all before it (not a B-frame)
            latest = None
            for packet in container.demux(stream):
                pts = packet.pts if packet.pts is not None else packet.dts
                if packet.size and pts is not None:
                    times.append((pts, packet.duration or 0, packet.size))
                    if latest is None or pts > latest:
                        latest = pts
                        forward.append(packet.size)
            if not times:
                raise MediaError(f"{path} holds no video frames.", "The file is empty or truncated; regenerate it.")
            if stream.frames and len(times) < stream.frames:  # the index lists frames whose data is missing
                raise MediaError(
                    f"{path} is truncated: it lists {stream.frames} frames but holds {len(times)}.",
                    "Download or generate it again.",
                )
            times.sort()
            first_pts = times[0][0]
            deltas = [b[0] - a[0] for a, b in zip(times, times[1:])]
            typical = _median(deltas) if deltas else (times[0][1] or 0)
            variable = bool(deltas) and any(
                abs(d - typical) > max(Fraction(1), typical * VFR_TOLERANCE) for d in deltas
            )
            last_duration = times[-1][1] or typical
            end_pts = times[-1][0] + last_duration
            duration = Fraction(end_pts - first_pts) * tb if tb else Fraction(0)
            partial = len(times) > 1 and typical > 0 and 0 < last_duration * 2 < typical

            rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
            if not variable and typical and tb:
                rate = _exact_rate(1 / (typical * tb), rate)
            if rate <= 0:
                raise MediaError(f"{path} has no frame rate.", "Re-export it with a constant frame rate.")

            container.seek(0)
            first = next(container.decode(stream), None)
            if first is None:
                raise MediaError(f"{path} has no decodable video frame.", "The file is truncated; regenerate it.")
            duplicate = check_duplicate and _may_repeat(forward) and _last_two_identical(container, stream)

            pix_fmt = cc.pix_fmt or first.format.name
            fmt = av.VideoFormat(pix_fmt, 64, 64)
            color_range = RANGES.get(int(first.color_range or cc.color_range or 0))
            if color_range is None and pix_fmt.startswith("yuvj"):
                color_range = "pc"
            timecode = next(filter(None, map(_timecode_tag, (container, *container.streams))), None)
            sar = Fraction(stream.sample_aspect_ratio or 1) or Fraction(1)
            return MediaInfo(
                path=path,
                width=cc.width,
                height=cc.height,
                rate=rate,
                frames=len(times),
                pix_fmt=pix_fmt,
                has_audio=bool(container.streams.audio),
                codec=cc.name,
                profile=stream.profile or "",
                sample_aspect=sar,
                rotation=int(getattr(first, "rotation", 0) or 0) % 360,
                variable_rate=variable,
                last_frame_partial=partial,
                last_frame_duplicate=duplicate,
                bit_depth=max(c.bits for c in fmt.components),
                chroma=_chroma(fmt),
                has_alpha=any(c.is_alpha for c in fmt.components),
                is_rgb=fmt.is_rgb,
                color_primaries=PRIMARIES.get(int(cc.color_primaries or 0)),
                color_transfer=TRANSFERS.get(int(cc.color_trc or 0)),
                color_matrix=MATRICES.get(int(cc.colorspace or 2)) if not fmt.is_rgb else None,
                color_range=color_range,
                timecode=timecode,
                duration=duration,
                audio=tuple(
                    AudioInfo(
                        a.rate or 0,
                        a.channels or 0,
                        a.codec_context.name,
                        Fraction(a.duration or 0) * (a.time_base or 0),
                    )
                    for a in container.streams.audio
                ),
            )
    except MediaError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, StopIteration) as e:
        raise MediaError(
            f"{path} is not readable media ({e.__class__.__name__}).",
            "The file may be truncated or not a video; regenerate or re-download it.",
        ) from None


def _median(values: list[int]) -> int:
    return sorted(values)[len(values) // 2]


def _exact_rate(measured: Fraction, declared: Fraction) -> Fraction:
    """The frame period in ticks gives the rate exactly; prefer the declared spelling when they agree
    (a 1/1000 timebase measures 29.97 as 1000/33)."""
    if declared and abs(measured - declared) / declared < Fraction(1, 100):
        return declared
    return measured


def _chroma(fmt: av.VideoFormat) -> str:
    if len(fmt.components) < 3:
        return "4:0:0"
    w, h = fmt.chroma_width(), fmt.chroma_height()
    horizontal = {64: 4, 32: 2, 16: 1}.get(w, 4)
    return f"4:{horizontal}:{horizontal if h == 64 else 0}"


def _may_repeat(sizes: list[int]) -> bool:
    """Whether the last frame could repeat the one before, judged from the sizes of the frames coded in
    display order (B-frames left out; the last frame is never one) so that most clips need no decoding:
    a repeated frame codes as a tiny inter frame, or (intra-only codecs) as the same size."""
    if len(sizes) < 2:
        return False
    last, before = sizes[-1], sizes[-2]
    return last * 2 < _median(sizes) or abs(last - before) * 50 <= before


def _last_two_identical(container: av.container.InputContainer, stream: av.VideoStream) -> bool:
    """Decode the end of the stream and compare the last two frames' pixels."""
    tail: list[av.VideoFrame] = []
    # Seek to the last keyframe before the end; the decoder runs forward from there.
    end = stream.duration or 0
    try:
        container.seek(max(end - 1, 0) + (stream.start_time or 0), stream=stream, backward=True, any_frame=False)
    except Exception:  # a stream that cannot seek: decode from the start
        container.seek(0)
    for frame in container.decode(stream):
        tail = [*tail[-1:], frame]
    if len(tail) < 2:
        return False
    # Re-encoding leaves a repeated frame a little different from its original: compare small grey
    # copies and call it a duplicate when the mean difference is under half a code value and no
    # pixel differs by more than noise. The second test keeps slow shots (a locked-off landscape,
    # a small moving element on a still frame) from losing a real last frame.
    w = 256  # a multiple of the row alignment, so the plane's bytes hold no padding
    h = max(2, tail[0].height * w // tail[0].width)
    a, b = (bytes(f.reformat(width=w, height=h, format="gray").planes[0]) for f in tail)
    diffs = [abs(x - y) for x, y in zip(a, b)]
    return sum(diffs) < len(a) * DUPLICATE_TOLERANCE and max(diffs) <= DUPLICATE_MAX_DIFFERENCE


def _timecode_tag(holder: av.container.InputContainer | av.stream.Stream) -> str | None:
    # QuickTime and MP4 say `timecode`; Matroska writes its tags in capitals (`TIMECODE`).
    return next((v for k, v in holder.metadata.items() if k.lower() == "timecode"), None)
