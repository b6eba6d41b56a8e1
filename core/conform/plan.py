"""The conform plan: a pure function of probe + target + choices, readable in words and as ffmpeg.

One ffmpeg pass does everything, in this order: pick the source frames (in-point, length;
never a partial or duplicated last frame), change the rate (speed / nearest / blend /
minterpolate), hold or slow a short source, cut to exactly N frames, fit the frame size,
convert range and pixel format, encode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..conform_choices import Fit, FpsMode
from ..errors import BadInput, UnsupportedRequest
from ..frames import rate_label, rate_str
from .probe import AudioInfo, MediaInfo
from .target import Target, codec_families

if TYPE_CHECKING:
    from ffmpeg.nodes import OutputStream  # ffmpeg-python ships no types: this names what it is

Anchor = Literal["start", "centre", "end"]
Short = Literal["hold", "slow", "refuse"]
Hdr = Literal["tonemap", "keep"]

# Rates within this of each other are "the same speed": a speed change is invisible (24 <-> 25 is 4.2%).
SPEED_TOLERANCE = Fraction(5, 100)
# Rates this close to an integer multiple drop or repeat frames evenly (24 -> 48, 23.976 -> 48).
MULTIPLE_TOLERANCE = Fraction(1, 200)
# atempo takes 0.5..100 per instance; slower tempos chain instances.
ATEMPO_MIN = Fraction(1, 2)
AUDIO_CODEC = "pcm_s24le"
# HDR transfers (ffmpeg's names) and what an editor calls them.
HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
# Mobius leaves everything below its knee as mastered (skin, midtones, SDR-level white) and rolls
# only the highlights off; hable, the other common choice, darkens the whole picture by a third.
TONEMAP = "mobius"
# Nominal peak luminance (cd/m²) that linear 1.0 stands for: SDR reference white.
REFERENCE_WHITE = 100
TAG_WORDS = {"color_primaries": "primaries", "color_trc": "transfer", "colorspace": "matrix", "color_range": "range"}


class Choices(BaseModel):
    """How to get from the source to the target, where more than one way exists."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fps_mode: FpsMode = "auto"
    fit: Fit = "fill"  # Resolve's "scale full frame with crop": generations are planned to cover the frame
    anchor: Anchor = "start"
    in_point: int | None = Field(None, ge=0, description="source frame the clip starts at (overrides anchor)")
    drop_last: int = Field(0, ge=0, description="source frames left unused at the end (before the anchor)")
    short: Short = "refuse"
    hdr: Hdr = Field("tonemap", description="an HDR (PQ or HLG) source: tone-map to Rec.709, or keep it HDR")


Filter = tuple[str, tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class ConformPlan:
    source: MediaInfo
    target: Target
    choices: Choices
    strategy: str  # "same", "speed", "nearest", "blend", "minterpolate"
    in_frame: int  # first source frame used
    source_frames: int  # source frames used
    hold_frames: int  # copies of the last frame added at the end (short source, "hold")
    stretch: Fraction  # source time scaled by this before the rate change (short source, "slow")
    tempo: Fraction | None  # audio tempo (None: no audio out)
    size_steps: list[str]  # in words
    video_filters: list[Filter]
    audio_filters: list[Filter]
    pix_fmt: str
    colour: dict[str, str]  # ffmpeg output tags
    range_converted: bool
    tone_mapped: bool  # an HDR source made SDR Rec.709
    notes: list[str] = field(default_factory=list)
    silent_audio: bool = False  # the audio out is generated silence (the source has none)

    @property
    def frames(self) -> int:
        return self.target.frames

    @property
    def has_audio(self) -> bool:
        return self.tempo is not None

    def output_args(self) -> dict[str, Any]:
        t = self.target
        fam = t.family
        # No -frames:v: the graph already cuts at N, and ffmpeg ends the whole file when a stream reaches its
        # frame limit, cutting the audio short of the picture.
        args: dict[str, Any] = {
            "c:v": fam.encoder,
            **fam.args,
            "pix_fmt": self.pix_fmt,
            "r": rate_str(t.rate),
            "fps_mode": "cfr",
            "timecode": t.timecode,
            **self.colour,
        }
        if self.has_audio:
            args.update({"c:a": AUDIO_CODEC, "ar": t.audio_rate, "ac": t.audio_channels})
        return args

    def stream(self, output: Path | str) -> OutputStream:
        """The ffmpeg-python graph for this plan (building it runs nothing)."""
        import ffmpeg

        inp = ffmpeg.input(str(self.source.path))
        video = inp["v:0"]
        for name, args, kwargs in self.video_filters:
            video = video.filter(name, *args, **kwargs)
        streams = [video]
        if self.has_audio:
            audio = ffmpeg.input(self._silence(), f="lavfi").audio if self.silent_audio else inp["a:0"]
            for name, args, kwargs in self.audio_filters:
                audio = audio.filter(name, *args, **kwargs)
            streams.append(audio)
        return ffmpeg.output(*streams, str(output), **self.output_args())

    def _silence(self) -> str:
        """A lavfi source of silence with exactly the target's channel count (any count: aevalsrc
        needs no channel layout name, which ffmpeg has only for some counts)."""
        t = self.target
        return f"aevalsrc={'|'.join(['0'] * t.audio_channels)}:s={t.audio_rate}"

    def command(self, output: Path | str, *, global_args: tuple[str, ...] = ()) -> list[str]:
        """The ffmpeg command line. Global options go first (ffmpeg-python would put them after the
        output, where ffmpeg warns that trailing options may be ignored)."""
        from ..ffmpeg import ffmpeg_exe

        exe, *rest = self.stream(output).compile(cmd=ffmpeg_exe())
        return [exe, "-hide_banner", "-nostdin", "-y", *global_args, *rest]

    def describe(self) -> list[str]:
        s, t = self.source, self.target
        dw, dh = s.display_size
        usable = s.usable_frames
        why = "partial" if s.last_frame_partial else "a duplicate"
        lines = [
            f"Source: {s.path.name}: {s.width}x{s.height}"
            + (f" (shown {dw}x{dh}, rotated {s.rotation}°)" if (dw, dh) != (s.width, s.height) else "")
            + f", {rate_label(s.rate)} fps{' (variable rate)' if s.variable_rate else ''}, {s.frames} frames"
            + (f" ({usable} usable: the last is {why})" if usable != s.frames else "")
            + f", {s.pix_fmt} {s.bit_depth}-bit {s.chroma}.",
            f"Target: {t.frames} frames at {rate_label(t.rate)} fps ({float(t.seconds):.3f} s), {t.size}, "
            f"{t.family.label} {t.bit_depth}-bit ({self.pix_fmt}), timecode {t.timecode}.",
            "Frame rate: " + self._rate_words(),
            "Length: " + self._length_words(),
            "Frame size: " + "; ".join(self.size_steps) + ".",
            "Colour: " + self._colour_words(),
            "Audio: " + self._audio_words(),
        ]
        return lines + self.notes

    def _audio_words(self) -> str:
        t = self.target
        if not self.has_audio:
            return "none." if t.audio_channels else "none (the target asks for none)."
        pcm = f"{t.audio_rate} Hz PCM 24-bit, {t.audio_channels} channels, {float(t.seconds):.3f} s"
        if self.silent_audio:
            return f"silence (the source has none), {pcm}."
        return (
            f"first stream to {pcm}"
            + (f", tempo ×{float(self.tempo):.4f}" if self.tempo is not None and self.tempo != 1 else "")
            + "."
        )

    def _colour_words(self) -> str:
        s = self.source
        hdr = HDR_TRANSFERS.get(s.color_transfer or "")
        if self.tone_mapped:
            words = f"HDR ({hdr}, {_primaries(s)}) tone-mapped to SDR Rec.709 (zscale, tonemap {TONEMAP}); "
        elif hdr:
            words = f"HDR ({hdr}) kept; "
        else:
            words = ""
        words += "tags " + ", ".join(f"{TAG_WORDS[k]} {v}" for k, v in self.colour.items())
        return words + ("; full range converted to limited." if self.range_converted else ".")

    def _rate_words(self) -> str:
        s, t = self.source, self.target
        change = f"{rate_label(s.rate)} → {rate_label(t.rate)}"
        return {
            "same": f"same rate ({rate_label(t.rate)}): frames copied one for one.",
            "speed": f"speed change {change}: every frame kept, duration ×{float(s.rate / t.rate):.4f}, audio follows.",
            "nearest": f"nearest frame {change}: frames dropped or repeated, duration kept.",
            "blend": f"frame blend {change}: neighbouring frames mixed, duration kept.",
            "minterpolate": f"motion interpolation {change}: new frames computed, duration kept (slow).",
        }[self.strategy]

    def _length_words(self) -> str:
        end = self.in_frame + self.source_frames - 1
        text = f"source frames {self.in_frame}–{end} of {self.source.usable_frames} usable"
        if self.hold_frames:
            text += f", then the last frame held for {self.hold_frames} frames"
        if self.stretch != 1:
            text += f", slowed ×{float(self.stretch):.4f} to fit"
        return text + f"; exactly {self.target.frames} frames out."

    @property
    def cropped(self) -> bool:
        """Part of the picture is cut away to fill the frame."""
        return any(name == "crop" for name, _, _ in self.video_filters)

    @property
    def scale(self) -> Fraction:
        """How much the picture is enlarged (above 1) or reduced (below 1) on its way to the target."""
        w, h = fit_geometry(self.source, self.target, self.choices.fit)
        sw, sh = self.source.display_size
        return max(Fraction(w, sw), Fraction(h, sh))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source.path),
            "frames": self.target.frames,
            "rate": rate_str(self.target.rate),
            "size": str(self.target.size),
            "codec": self.target.codec,
            "pix_fmt": self.pix_fmt,
            "timecode": self.target.timecode,
            "strategy": self.strategy,
            "in_frame": self.in_frame,
            "source_frames": self.source_frames,
            "hold_frames": self.hold_frames,
            "stretch": str(self.stretch),
            "audio": self.has_audio,
            "silent_audio": self.silent_audio,
            "colour": self.colour,
            "range_converted": self.range_converted,
            "tone_mapped": self.tone_mapped,
            "words": self.describe(),
        }


def choose_strategy(source: MediaInfo, target: Target, mode: FpsMode = "auto") -> str:
    """The issue's default rule: nearest when the rates are close multiples, else speed change within 5%,
    else nearest. A variable-rate source is resampled by its timestamps (nearest)."""
    if mode != "auto":
        return mode
    if source.variable_rate:
        return "nearest"
    if source.rate == target.rate:
        return "same"
    ratio = max(source.rate, target.rate) / min(source.rate, target.rate)
    multiple = round(ratio)
    if multiple >= 2 and abs(ratio - multiple) <= multiple * MULTIPLE_TOLERANCE:
        return "nearest"
    if ratio - 1 <= SPEED_TOLERANCE:
        return "speed"
    return "nearest"


def _needed(strategy: str, source: MediaInfo, target: Target) -> int:
    """Source frames the target's N frames consume."""
    if strategy in ("same", "speed"):
        return target.frames
    return math.ceil(target.frames * source.rate / target.rate)


def plan_conform(source: MediaInfo, target: Target, choices: Choices | None = None) -> ConformPlan:
    choices = choices or Choices()
    notes: list[str] = []
    timing = _timing(source, target, choices, notes)
    video = _time_filters(timing, source, target)
    picture = _picture(source, target, choices, notes)
    video += picture.filters
    tempo, audio, silent = _audio_filters(source, target, timing)
    return ConformPlan(
        source,
        target,
        choices,
        timing.strategy,
        timing.in_frame,
        timing.take,
        timing.hold,
        timing.stretch,
        tempo,
        picture.size_steps,
        video,
        audio,
        picture.pix_fmt,
        picture.colour,
        picture.range_converted,
        picture.tone_mapped,
        notes,
        silent,
    )


@dataclass(frozen=True)
class _Timing:
    """Which source frames make the target's, and how they are retimed."""

    strategy: str  # same, speed, nearest, blend, minterpolate
    in_frame: int  # the first source frame used
    take: int  # source frames used
    hold: int  # times the last frame is repeated at the end (--short hold)
    stretch: Fraction  # how much slower the source plays (--short slow); 1 otherwise
    margin: int  # extra source frames kept for a resampler to look ahead into


def _timing(source: MediaInfo, target: Target, choices: Choices, notes: list[str]) -> _Timing:
    """The frame-rate strategy, the in-point, and what is done when the clip is short."""
    usable = source.usable_frames - choices.drop_last
    strategy = choose_strategy(source, target, choices.fps_mode)
    if (
        choices.fps_mode == "auto"
        and strategy == "speed"
        and usable < _needed("speed", source, target) <= usable * target.rate / source.rate
    ):
        strategy = "nearest"
        notes.append("Note: a speed change would leave the clip short, so frames are repeated instead.")
    need = _needed(strategy, source, target)

    if choices.in_point is not None:
        if choices.in_point >= usable:
            raise BadInput(
                f"In-point {choices.in_point} is past the clip's last usable frame ({usable - 1}).",
                f"Give an in-point below {usable}.",
            )
        in_frame = choices.in_point
    else:
        spare = max(usable - need, 0)
        in_frame = {"start": 0, "centre": spare // 2, "end": spare}[choices.anchor]
    available = usable - in_frame

    one_to_one = strategy in ("same", "speed")
    hold, stretch = 0, Fraction(1)
    short = choices.short
    # A partial or duplicated last frame (none counts when the end is dropped on purpose).
    uncounted = 0 if choices.drop_last else source.frames - usable
    if short == "refuse" and available < need <= available + uncounted:
        # Short only by the frame that was not counted: hold the one before it, which looks the same.
        short = "hold"
        notes.append("Note: the clip's last frame is partial or a repeat; the frame before it is held in its place.")
    if available < need:
        have = Fraction(available) / source.rate
        if short == "refuse":
            raise UnsupportedRequest(
                f"The clip is short: {available} usable frames ({float(have):.3f} s) from frame {in_frame}, but "
                f"{target.frames} frames at {rate_label(target.rate)} fps ({float(target.seconds):.3f} s) take {need} "
                f"source frames ({'speed change' if one_to_one else 'duration kept'}).",
                "Generate a longer clip or extend this one, or choose --short hold or --short slow.",
            )
        if short == "hold":
            produced = available if one_to_one else max(1, math.floor(available * target.rate / source.rate))
            hold = max(target.frames - produced, 0)
        else:  # slow: stretch the source so its frames span the slot, then resample in time
            stretch = Fraction(target.frames) * source.rate / (target.rate * available)
            if one_to_one:
                strategy, one_to_one = "nearest", False
                notes.append("Note: slowing to fit repeats frames (nearest); choose --fps-mode blend to mix them.")
    take = min(available, need)
    margin = 0 if one_to_one else min(available - take, math.ceil(source.rate / target.rate) + 1)
    return _Timing(strategy, in_frame, take, hold, stretch, margin)


def _time_filters(timing: _Timing, source: MediaInfo, target: Target) -> list[Filter]:
    """Cut the source frames out, retime them to the target rate, and stamp exactly N frames."""
    one_to_one = timing.strategy in ("same", "speed")
    start = timing.in_frame
    video: list[Filter] = [
        ("trim", (), {"start_frame": start, "end_frame": start + timing.take + timing.margin}),
        ("setpts", ("PTS-STARTPTS",), {}),
    ]
    if not one_to_one:
        stretch = timing.stretch
        if stretch != 1:
            video.append(("setpts", (f"PTS*{stretch.numerator}/{stretch.denominator}",), {}))
        rate = rate_str(target.rate)
        retime: dict[str, Filter] = {
            "nearest": ("fps", (), {"fps": rate}),
            "blend": ("framerate", (), {"fps": rate}),
            "minterpolate": ("minterpolate", (), {"fps": rate, "mi_mode": "mci", "mc_mode": "aobmc", "vsbmc": 1}),
        }
        video.append(retime[timing.strategy])
    if timing.hold or not one_to_one:
        # Time-based resampling can end one frame early at the end of the stream; the frame it
        # would have shown is the last one, so a clone is exact. Trimming to N removes any excess.
        video.append(("tpad", (), {"stop_mode": "clone", "stop": timing.hold + 2}))
    # Frame k is shown at k / rate, exactly: cloned frames and retimed ones carry the timestamps
    # of the source rate, which the encoder's constant-rate clock would otherwise drop or repeat.
    video += [
        ("trim", (), {"end_frame": target.frames}),
        ("setpts", (f"N*{target.rate.denominator}/{target.rate.numerator}/TB",), {}),
    ]
    return video


@dataclass(frozen=True)
class _Picture:
    """Size, colour and pixel format: the filters after the timing ones, and what they make."""

    filters: list[Filter]
    size_steps: list[str]
    pix_fmt: str
    colour: dict[str, str]
    range_converted: bool
    tone_mapped: bool


def _picture(source: MediaInfo, target: Target, choices: Choices, notes: list[str]) -> _Picture:
    """Scale and pad or crop to the target size; tone-map HDR or carry the colour through, labelled."""
    size_filters, size_steps = _size_filters(source, target, choices.fit)
    pix_fmt = target.pix_fmt(alpha=source.has_alpha)
    hdr = _hdr(source, target, choices.hdr)
    tone_mapped = hdr is not None and choices.hdr == "tonemap"
    range_converted = source.color_range == "pc" and not source.is_rgb
    video: list[Filter] = []
    if tone_mapped:  # zscale converts the range with everything else
        video += _tone_map(source) + [("format", (pix_fmt,), {})]
    else:
        scale_range = {"in_range": "full", "out_range": "limited"} if range_converted else {}
        if source.is_rgb:
            scale_range = {"out_color_matrix": source.color_matrix or "bt709", "out_range": "limited"}
        if scale_range:
            if size_filters and size_filters[0][0] == "scale":
                size_filters[0][2].update(scale_range)
            else:
                size_filters.insert(0, ("scale", (), {**scale_range}))
    colour = {"color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709", "color_range": "tv"}
    if not tone_mapped:  # carried through; what the source does not say is written as Rec.709
        said = {
            "color_primaries": _primaries(source),
            "color_trc": source.color_transfer,
            "colorspace": _matrix(source),
        }
        colour.update({k: v for k, v in said.items() if v})
        missing = [TAG_WORDS[k] for k, v in said.items() if not v]
        if missing:
            notes.append(f"Note: the source does not say its {', '.join(missing)}; written as Rec.709.")
    # Encoders take colour tags from the frames (ffmpeg's output options do not override unset ones):
    # label the frames with what they now are.
    labels = {"range" if k == "color_range" else k: v for k, v in colour.items()}
    video += size_filters
    video += [("setsar", (str(target.pixel_aspect),), {}), ("setparams", (), labels), ("format", (pix_fmt,), {})]
    return _Picture(video, size_steps, pix_fmt, colour, range_converted, tone_mapped)


def _audio_filters(source: MediaInfo, target: Target, timing: _Timing) -> tuple[Fraction | None, list[Filter], bool]:
    """(tempo, filters, silent): the source's first audio stream cut and retimed with the picture, or
    silence when the target asks for audio the source lacks, or nothing."""
    tempo: Fraction | None = None
    audio: list[Filter] = []
    silent = False
    end = round(Fraction(target.frames) / target.rate * target.audio_rate)  # samples: exactly the clip's length
    if target.audio_channels > 0 and source.audio:
        src_rate = source.audio[0].rate or target.audio_rate
        tempo = (target.rate / source.rate) if timing.strategy == "speed" else 1 / timing.stretch
        audio = [
            ("atrim", (), {"start_sample": int(Fraction(timing.in_frame) / source.rate * src_rate)}),
            ("asetpts", ("PTS-STARTPTS",), {}),
        ]
        audio += [("atempo", (f"{float(step):.6f}",), {}) for step in _atempo_steps(tempo)]
        audio += [("aresample", (target.audio_rate,), {}), ("apad", (), {}), ("atrim", (), {"end_sample": end})]
    elif target.audio_channels > 0:  # the target asks for audio the source lacks: silence, as long as the clip
        tempo, silent = Fraction(1), True
        audio = [("atrim", (), {"end_sample": end})]
    return tempo, audio, silent


def plan_for_take(
    rate: Fraction,
    width: int,
    height: int,
    frames: int,
    target: Target,
    audio: bool = False,
    choices: Choices | None = None,
) -> ConformPlan:
    """What conform would do to a take not yet made: `frames` clean constant-rate frames at `rate` and
    `width` x `height`, as the planner asks the model for. Pure: nothing is probed."""
    source = MediaInfo(
        path=Path("planned take"),
        width=width,
        height=height,
        rate=Fraction(rate),
        frames=frames,
        pix_fmt="yuv420p",
        has_audio=audio,
        audio=(AudioInfo(48000, 2, "aac"),) if audio else (),
    )
    return plan_conform(source, target, choices)


def _hdr(source: MediaInfo, target: Target, choice: str) -> str | None:
    """'PQ' or 'HLG' for an HDR source (None for SDR); refuses keeping HDR in a codec that cannot carry it."""
    hdr = HDR_TRANSFERS.get(source.color_transfer or "")
    if hdr and choice == "keep" and not (target.family.hdr and target.bit_depth >= 10):
        carriers = [n for n, f in codec_families().items() if f.hdr]
        raise UnsupportedRequest(
            f"{target.family.label} at {target.bit_depth}-bit cannot carry HDR ({hdr}).",
            f"Tone-map it to Rec.709 (--hdr tonemap), or write a 10-bit codec that carries HDR: {', '.join(carriers)}.",
        )
    return hdr


# An HDR source's unstated primaries and matrix are BT.2020's (no HDR format uses others).
def _primaries(source: MediaInfo) -> str | None:
    return source.color_primaries or ("bt2020" if source.color_transfer in HDR_TRANSFERS else None)


def _matrix(source: MediaInfo) -> str | None:
    return source.color_matrix or ("bt2020nc" if source.color_transfer in HDR_TRANSFERS else None)


def _tone_map(source: MediaInfo) -> list[Filter]:
    """PQ/HLG BT.2020 -> SDR Rec.709 limited range: to linear light in float RGB, to Rec.709 primaries,
    compress the highlights, then Rec.709's transfer and matrix (zscale + tonemap)."""
    linear = {
        "tin": source.color_transfer,
        "pin": _primaries(source),
        "min": "gbr" if source.is_rgb else _matrix(source),
        "rin": "full" if source.color_range == "pc" else "limited",
        "t": "linear",
        "npl": REFERENCE_WHITE,
    }
    return [
        ("zscale", (), linear),
        ("format", ("gbrpf32le",), {}),
        ("zscale", (), {"p": "bt709"}),
        ("tonemap", (), {"tonemap": TONEMAP, "desat": 0}),
        ("zscale", (), {"t": "bt709", "m": "bt709", "r": "limited"}),
    ]


def _atempo_steps(tempo: Fraction) -> list[Fraction]:
    steps = []
    while tempo < ATEMPO_MIN:
        steps.append(ATEMPO_MIN)
        tempo /= ATEMPO_MIN
    if tempo != 1:
        steps.append(tempo)
    return steps


def _even(value: Fraction) -> int:
    return max(2, 2 * round(value / 2))


def fit_geometry(source: MediaInfo, target: Target, fit: Fit) -> tuple[int, int]:
    """Size the picture is scaled to before the centre crop or pad to the target. Pure Fraction maths."""
    W, H = target.size.width, target.size.height
    sw, sh = source.display_size  # square-pixel picture as shown
    if fit == "stretch":
        return W, H
    if fit == "crop":  # no resize: only square pixels made the target's shape
        return _even(Fraction(sw) / target.pixel_aspect), sh
    scale = (min if fit == "fit" else max)(W * target.pixel_aspect / sw, Fraction(H, sh))
    w, h = _even(sw * scale / target.pixel_aspect), _even(sh * scale)
    return (min(w, W), min(h, H)) if fit == "fit" else (max(w, W), max(h, H))


def _size_filters(source: MediaInfo, target: Target, fit: Fit) -> tuple[list[Filter], list[str]]:
    W, H = target.size.width, target.size.height
    w, h = fit_geometry(source, target, fit)
    # ffmpeg turns the picture by its rotation metadata before the graph sees it.
    arriving = (source.height, source.width) if source.rotation in (90, 270) else (source.width, source.height)
    filters: list[Filter] = []
    words = [
        {
            "fit": "fit (whole picture, padded)",
            "fill": "fill (cover, cropped)",
            "crop": "crop (no resize)",
            "stretch": "stretch",
        }[fit]
    ]
    if source.rotation:
        words.append(f"rotation {source.rotation}° applied")
    if (w, h) != arriving:
        filters.append(("scale", (), {"w": w, "h": h}))
        words.append(f"scale {source.display_size[0]}x{source.display_size[1]} to {w}x{h}")
    if w > W or h > H:
        cw, ch = min(w, W), min(h, H)
        filters.append(("crop", (), {"w": cw, "h": ch, "x": (w - cw) // 2, "y": (h - ch) // 2}))
        words.append(f"centre crop to {cw}x{ch}")
        w, h = cw, ch
    if w < W or h < H:
        filters.append(("pad", (), {"w": W, "h": H, "x": (W - w) // 2, "y": (H - h) // 2, "color": "black"}))
        words.append(f"pad with black to {W}x{H}")
    if not filters:
        words.append(f"{W}x{H} already")
    return filters, words
