"""The `draft` model: a slate clip rendered locally with ffmpeg. Free, offline, no key, deterministic.

The slate shows the prompt (wrapped to the frame), the shot name, the model the editor asked
for, a running timecode and a 1-based frame counter, over a slowly turning gradient with a
progress bar along the bottom, so it plays like footage. It is exactly the requested frame
count at the requested rate and size, H.264 4:2:0 in MP4, with an optional 48 kHz tone.

Planning (`plan_draft`, pure) is kept apart from running ffmpeg (`render_draft`, `DraftProtocol`).
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import logging
import math
import re
import shutil
import subprocess
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import Size
from ..errors import UnsupportedRequest, UserError
from ..ffmpeg import die_with_parent, ffmpeg_exe
from ..frames import is_drop_frame_rate, rate_label, rate_str, seconds_to_frames_ceil
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .base import LocalProtocol
from .slate_fonts import BUNDLED, font_for, wrap as wrap_columns

if TYPE_CHECKING:
    from ffmpeg.nodes import FilterableStream  # ffmpeg-python ships no types: this names what it is

    from ..settings import Settings

FONT = BUNDLED
# DejaVu Sans Mono: every glyph advances 1233/2048 em, so wrapping to a pixel width is exact arithmetic.
_ADVANCE = Fraction(1233, 2048)
_GLYPH_H = Fraction(1901 + 483, 2048)  # ascender + descender: drawtext's own line height, in em
_LINE = Fraction(5, 4)  # the line pitch we lay out with, in em (drawtext's line_spacing makes up the rest)

DEFAULT_RATE = Fraction(24)
DEFAULT_SIZE = Size(width=1920, height=1080)
DEFAULT_SECONDS = 5
SAMPLE_RATE = 48000
_TURNS_PER_SECOND = Fraction(1, 40)  # gradient rotation: slow, and the same speed at any frame rate

ProgressCallback = Callable[[float], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftPlan:
    """Everything the render needs, decided up front from the request."""

    frames: int
    rate: Fraction
    size: Size
    audio: bool
    prompt_lines: tuple[str, ...]
    prompt_font: int  # px
    chrome_font: int  # px, header and footer
    shot: str
    for_model: str
    colours: tuple[str, str, str]  # 0xRRGGBB, from the prompt and seed
    font: Path = FONT  # the bundled font, or an installed one for a script it does not draw
    font_missing: str = ""  # characters no font here draws (drawn as boxes): said when the plan is made

    @property
    def samples(self) -> int:
        """Audio samples covering exactly `frames` at `rate`."""
        return round(Fraction(self.frames) / self.rate * SAMPLE_RATE)


def _shape(request: GenerationRequest) -> tuple[int, Fraction, Size]:
    """Frames, rate and size the draft for `request` renders."""
    rate = request.fps or DEFAULT_RATE
    if request.frames is not None:
        frames = request.frames
    else:
        frames = seconds_to_frames_ceil(request.seconds or DEFAULT_SECONDS, rate)
    return frames, rate, request.size or DEFAULT_SIZE


def plan_draft(request: GenerationRequest) -> DraftPlan:
    frames, rate, size = _shape(request)
    if size.width % 2 or size.height % 2:
        raise UnsupportedRequest(
            f"The draft model renders H.264 4:2:0, which needs an even width and height; {size} is odd.",
            f"Ask for {size.width + size.width % 2}x{size.height + size.height % 2} (or another even size).",
        )
    w, h = size.width, size.height
    margin = _margin(size)
    chrome = max(8, min(h // 20, int((w - 2 * margin) / (44 * _ADVANCE))))
    band = _band(chrome)
    prompt_font, lines = _fit_prompt(request.prompt, w - 2 * margin, h - 2 * band - 2 * margin, chrome)
    shot = _one_line(request.tags.get("shot", ""))
    font = font_for(request.prompt + shot)
    if font.missing:
        log.warning(
            "No font installed here draws %r of the draft's prompt; they show as boxes on the slate. "
            "Install a font for that script (e.g. the Noto fonts) and render the draft again.",
            font.missing[:20],
        )
    return DraftPlan(
        frames=frames,
        rate=rate,
        size=size,
        audio=bool(request.audio),
        prompt_lines=lines,
        prompt_font=prompt_font,
        chrome_font=chrome,
        shot=shot,
        for_model=_one_line(request.tags.get("for_model", "")) or "draft",
        colours=_colours(request.prompt, request.seed),
        font=font.path,
        font_missing=font.missing,
    )


# A draft is a stand-in: an hour of footage is far past any placeholder, and a typo'd length
# (10^12 frames) would otherwise render until the disk fills.
MAX_SECONDS = 3600
# Measured on the slate at crf 18 (veryfast): 0.002-0.005 bytes per pixel per frame; audio at 192 kb/s.
_BYTES_PER_PIXEL = Fraction(5, 1000)
_AUDIO_BYTES_PER_SECOND = 192_000 // 8
# Rendering ran at 30-80 megapixels a second on a busy 2-core machine: the slow end, so the time is not promised short.
_PIXELS_PER_SECOND = 30_000_000
_NOTE_RENDER_SECONDS = 60  # shorter renders go without a note


@dataclass(frozen=True)
class DraftEstimate:
    """How long the draft for a request is, and what rendering it takes: time and disk."""

    frames: int
    rate: Fraction
    size: Size
    audio: bool

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate

    @property
    def bytes(self) -> int:
        video = self.frames * self.size.width * self.size.height * _BYTES_PER_PIXEL
        return math.ceil(video + (self.seconds * _AUDIO_BYTES_PER_SECOND if self.audio else 0))

    @property
    def render_seconds(self) -> Fraction:
        return Fraction(self.frames * self.size.width * self.size.height, _PIXELS_PER_SECOND)

    def describe(self) -> str:
        return (
            f"{self.frames:,} frames ({_duration(self.seconds)} at {rate_label(self.rate)} fps, {self.size}): "
            f"about {_duration(self.render_seconds)} to render and {_bytes(self.bytes)} of disk"
        )


def estimate_draft(request: GenerationRequest) -> DraftEstimate:
    frames, rate, size = _shape(request)
    return DraftEstimate(frames, rate, size, bool(request.audio))


def check_draft(request: GenerationRequest, settings: Settings | None = None) -> list[str]:
    """Refuse, before anything renders, a draft longer than MAX_SECONDS or bigger than the free disk,
    unless the settings allow long drafts; return a note with the estimate for one that takes a while.
    The settings (loaded when not given) and the disk are read only for such a draft."""
    est = estimate_draft(request)
    if est.seconds <= MAX_SECONDS and est.render_seconds < _NOTE_RENDER_SECONDS:
        return []
    from ..settings import load_settings, output_dir

    settings = settings or load_settings()
    if not settings.allow_long_draft:
        anyway = (
            "To render it anyway, set allow_long_draft = true in settings.toml "
            "(or pass --allow-long-draft to generate)."
        )
        if est.seconds > MAX_SECONDS:
            raise UnsupportedRequest(
                f"The draft would be {est.describe()}; drafts stop at {_duration(MAX_SECONDS)}.",
                f"Check the placeholder's length. {anyway}",
            )
        folder, free = _free_space(output_dir(settings))
        if free is not None and est.bytes > free:
            raise UnsupportedRequest(
                f"The draft would be {est.describe()}; {folder} has {_bytes(free)} free.",
                f"Free some space, or set output_dir in settings.toml to a bigger disk. {anyway}",
            )
    return [f"The draft is {est.describe()}."]


def _free_space(folder: Path) -> tuple[Path, int | None]:
    """Free bytes on the disk that holds `folder` (or its nearest existing parent; None if unknown)."""
    folder = Path(folder).expanduser().absolute()
    for candidate in (folder, *folder.parents):
        try:
            return folder, shutil.disk_usage(candidate).free
        except OSError:
            continue
    return folder, None


def _duration(seconds: Fraction | int) -> str:
    s = math.ceil(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{math.ceil(s / 60)} min"
    h, m = divmod(math.ceil(s / 60), 60)
    return f"{h:,} h {m} min" if m else f"{h:,} h"


def _bytes(n: int) -> str:
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return "under 1 MB"


def _margin(size: Size) -> int:
    return max(4, min(size.width, size.height) // 25)


def _band(chrome_font: int) -> int:
    """Height of the dark header and footer bands."""
    return chrome_font * 2


def _clean(text: str) -> str:
    """Printable text for drawtext: CRLF to LF, tabs and other control characters to spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _wrap(text: str, columns: int) -> list[str]:
    """Wrap each paragraph to `columns`, keeping the editor's own line breaks."""
    lines: list[str] = []
    for paragraph in _clean(text).strip().split("\n"):
        if any(unicodedata.east_asian_width(ch) in "WF" for ch in paragraph):  # two columns each, no spaces needed
            lines.extend(wrap_columns(paragraph, columns))
        else:
            lines.extend(textwrap.wrap(paragraph, columns) or [""])
    return lines


def _fit_prompt(prompt: str, width: int, height: int, smallest: int) -> tuple[int, tuple[str, ...]]:
    """The largest font (down to the chrome size) at which the wrapped prompt fits; else truncate with '…'."""
    largest = max(smallest, height // 6)
    for font in range(largest, smallest - 1, -max(1, (largest - smallest) // 12)):
        lines = _wrap(prompt, max(1, int(width / (font * _ADVANCE))))
        if len(lines) * font * _LINE <= height:
            return font, tuple(lines)
    font = smallest
    columns = max(1, int(width / (font * _ADVANCE)))
    room = max(1, int(height / (font * _LINE)))
    lines = _wrap(prompt, columns)
    if len(lines) > room:
        lines = lines[:room]
        lines[-1] = lines[-1][: columns - 1].rstrip() + "…"
    return font, tuple(lines)


def _colours(prompt: str, seed: int | None) -> tuple[str, str, str]:
    """Three dark, related colours (white text stays legible), fixed by the prompt and seed."""
    digest = hashlib.sha256(f"{seed or 0}\0{prompt}".encode()).digest()
    hue = int.from_bytes(digest[:4], "big") / 2**32
    out = []
    for shift, sat, val in ((0.0, 0.55, 0.22), (0.09, 0.65, 0.50), (0.5, 0.45, 0.35)):
        r, g, b = colorsys.hsv_to_rgb((hue + shift) % 1.0, sat, val)
        out.append(f"0x{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return out[0], out[1], out[2]


def _ellipsize(text: str, columns: int) -> str:
    return text if len(text) <= columns else text[: max(0, columns - 1)] + "…"


def literal_text(stream: FilterableStream, value: str, fontfile: Path = FONT, **kw: Any) -> FilterableStream:
    """drawtext that shows `value` exactly, whatever it holds (quotes, colons, %, backslashes, newlines).

    ffmpeg-python escapes the two levels ffmpeg parses first (the filter option, then the filtergraph);
    `expansion=none` turns off drawtext's own third level, so '%{' and backslashes are plain characters.
    Leading and trailing whitespace is dropped (ffmpeg's option parser would drop it anyway).
    """
    return stream.drawtext(
        text=value.strip(), fontfile=str(fontfile), fontcolor="white", expansion="none", escape_text=False, **kw
    )


def build_command(plan: DraftPlan, dest: Path) -> list[str]:
    """The ffmpeg command line for `plan`, writing MP4 to `dest` (any name: the format is forced)."""
    import ffmpeg

    w, h = plan.size.width, plan.size.height
    rate = rate_str(plan.rate)
    margin = _margin(plan.size)
    font = plan.chrome_font
    band = _band(font)
    columns = int((w - 2 * margin) / (font * _ADVANCE))
    header_y = (band - font) // 2
    footer_y = h - band + (band - font) // 2
    digits = len(str(plan.frames))
    c0, c1, c2 = plan.colours
    speed = float(2 * math.pi * _TURNS_PER_SECOND / plan.rate)  # radians per frame, a filter parameter

    # Source filters carry only numbers and colours, so their descriptions need no escaping.
    # The gradient is smooth, so it is drawn at a quarter size and scaled up: 16 times less work.
    gw, gh = max(2, -(-w // 4)), max(2, -(-h // 4))
    background = (
        ffmpeg.input(
            f"gradients=s={gw}x{gh}:r={rate}:c0={c0}:c1={c1}:c2={c2}:n=3:x0=0:y0=0:x1={gw}:y1={gh}"
            f":seed=1:speed={speed:.9f}",
            f="lavfi",
        )
        # One conversion to Rec.709 limited range 4:2:0, as the output is tagged below.
        .filter("scale", w, h, flags="bilinear", out_color_matrix="bt709", out_range="tv")
        .filter("format", "yuv420p")
    )
    # The still parts (bands, names, prompt) are drawn once on a transparent card: one frame,
    # which overlay repeats over every frame of the moving background.
    card = ffmpeg.input(f"color=s={w}x{h}:r={rate}", f="lavfi").filter("format", "rgba")
    card = card.drawbox(0, 0, w, h, "black@0", thickness="fill", replace=1)
    card = card.drawbox(0, 0, w, band, "black@0.55", thickness="fill", replace=1)
    card = card.drawbox(0, h - band, w, band, "black@0.55", thickness="fill", replace=1)
    right = _ellipsize(f"DRAFT for {plan.for_model}", columns // 2)
    card = literal_text(card, right, fontfile=plan.font, x=f"w-tw-{margin}", y=header_y, fontsize=font)
    if plan.shot:
        shot = _ellipsize(plan.shot, columns - len(right) - 2)
        card = literal_text(card, shot, fontfile=plan.font, x=margin, y=header_y, fontsize=font)
    if "".join(plan.prompt_lines).strip():
        pf = plan.prompt_font
        card = literal_text(
            card,
            "\n".join(plan.prompt_lines),
            fontfile=plan.font,
            x="(w-tw)/2",
            y="(h-th)/2",
            fontsize=pf,
            line_spacing=round(pf * (_LINE - _GLYPH_H)),
            shadowx=max(1, pf // 24),
            shadowy=max(1, pf // 24),
            shadowcolor="black@0.6",
        )
    label = f"{rate_label(plan.rate).split(' ')[0]} fps"
    if columns - len(label) >= 2 * (max(11, 2 * digits + 1) + 1):  # centred, clear of the timecode and counter
        card = literal_text(card, label, fontfile=plan.font, x="(w-tw)/2", y=footer_y, fontsize=font)
    card = card.trim(end_frame=1).filter("scale", out_color_matrix="bt709", out_range="tv").filter("format", "yuva420p")

    bar_h = max(2, h // 90)
    bar = ffmpeg.input(f"color=c=white@0.85:s={w}x{bar_h}:r={rate}", f="lavfi")
    video = (
        background.overlay(card)
        # Progress bar: fills left to right, full on the last frame. The frame index comes from the
        # timestamp (overlay's own `n` runs one ahead in some ffmpeg versions).
        .overlay(bar, x=f"W*(floor(t*{rate}+0.5)+1)/{plan.frames}-W", y=h - bar_h, eval="frame")
    )
    # Timecode counts frames at the exact rate (drop-frame ';' at 29.97 and 59.94), from 00:00:00:00.
    start = "00:00:00;00" if is_drop_frame_rate(plan.rate) else "00:00:00:00"
    video = video.drawtext(
        timecode=start, timecode_rate=rate, fontfile=str(FONT), fontcolor="white", x=margin, y=footer_y, fontsize=font
    )
    video = video.drawtext(
        text=f"%{{eif:n+1:d:{digits}}}/{plan.frames:0{digits}d}",
        fontfile=str(FONT),
        fontcolor="white",
        x=f"w-tw-{margin}",
        y=footer_y,
        fontsize=font,
        escape_text=False,
    )

    streams = [video]
    audio_args = {}
    if plan.audio:
        tone = (
            ffmpeg.input(f"sine=f=440:r={SAMPLE_RATE}:beep_factor=2", f="lavfi")
            .filter("volume", 0.1)
            .filter("atrim", end_sample=plan.samples)
            .filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo")
        )
        streams.append(tone)
        audio_args = {"c:a": "aac", "b:a": "192k", "flags:a": "+bitexact"}

    out = ffmpeg.output(
        *streams,
        str(dest),
        format="mp4",
        r=rate,
        vcodec=_h264_encoder(),
        pix_fmt="yuv420p",
        g=max(1, round(plan.rate)),
        colorspace="bt709",
        color_primaries="bt709",
        color_trc="bt709",
        color_range="tv",
        # Fixed encoder threads (x264's output depends on them), no metadata, no timestamps:
        # the same request gives the same bytes on any machine with the same ffmpeg.
        threads=4,
        fflags="+bitexact",
        **{"frames:v": plan.frames, "flags:v": "+bitexact", "map_metadata": -1, "movflags": "+faststart"},
        **_encoder_settings(),
        **audio_args,
    )
    head = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    return [ffmpeg_exe(), *head, *out.get_args()]


@lru_cache(maxsize=4)
def _encoders(exe: str) -> str:
    return subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout


def _h264_encoder() -> str:
    """libx264 where the ffmpeg has it, else OpenH264 (e.g. distributions that ship ffmpeg without x264)."""
    listing = _encoders(ffmpeg_exe())
    for name in ("libx264", "libopenh264"):
        if re.search(rf"\s{name}\s", listing):
            return name
    raise UserError(f"The ffmpeg at {ffmpeg_exe()} has no H.264 encoder, which the draft model needs.", _FULL_FFMPEG)


_FULL_FFMPEG = (
    "Set PROMPTREEL_FFMPEG to a full ffmpeg build, such as the one imageio-ffmpeg installs "
    '(python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())").'
)


def _encoder_settings() -> dict[str, str | int]:
    if _h264_encoder() == "libx264":
        return {"preset": "veryfast", "crf": 18}
    return {"b:v": "8M"}


def render_draft(request: GenerationRequest, dest: Path) -> Path:
    """Render the draft for `request` to `dest`, blocking (tests, placeholder drafts). Returns `dest`."""
    dest = Path(dest)
    done = subprocess.run(
        build_command(plan_draft(request), dest),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    _check(done.returncode, done.stderr.decode(errors="replace"), dest)
    return dest


async def _render(request: GenerationRequest, dest: Path, on_progress: ProgressCallback) -> Path:
    plan = plan_draft(request)
    proc = await asyncio.create_subprocess_exec(
        *build_command(plan, dest),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    done = 0.0
    try:
        assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
        stderr = asyncio.ensure_future(proc.stderr.read())
        async for raw in proc.stdout:
            # `-progress` writes key=value lines; `frame=` is the count of frames encoded so far.
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "frame" and value.isdigit() and int(value) / plan.frames > done:
                done = min(1.0, int(value) / plan.frames)
                on_progress(done)
        returncode = await proc.wait()
        _check(returncode, (await stderr).decode(errors="replace"), dest)
    finally:
        if proc.returncode is None:  # cancelled: do not leave ffmpeg running
            proc.kill()
            await proc.wait()
    if done < 1.0:
        on_progress(1.0)
    return dest


def _check(returncode: int, stderr: str, dest: Path) -> None:
    if returncode == 0:
        return
    dest.unlink(missing_ok=True)  # leave nothing half-written behind
    if "No space left on device" in stderr:
        raise UserError(
            f"The disk is full: the draft for {dest.name} could not be written.",
            f"Free some space in {dest.parent} and run it again.",
        )
    missing = re.search(r"No such filter: '(\w+)'", stderr)
    if missing:  # an ffmpeg built without libfreetype, or older than 4.4 (no `gradients`)
        raise UserError(
            f"The ffmpeg at {ffmpeg_exe()} lacks the '{missing.group(1)}' filter the draft model needs.", _FULL_FFMPEG
        )
    raise RuntimeError(f"ffmpeg failed rendering the draft (exit {returncode}): {stderr.strip()[-2000:]}")


ROUTE = RouteDescriptor(name="draft", protocol="promptreel.core.providers.draft:DraftProtocol")


class DraftProtocol(LocalProtocol):
    """The local route of the `draft` model."""

    descriptor = ROUTE

    async def render(self, request: GenerationRequest, dest: Path, on_progress: ProgressCallback) -> None:
        await _render(request, Path(dest), on_progress)
