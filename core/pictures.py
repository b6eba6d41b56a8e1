"""Pictures of clips for people to look at: a thumbnail (the middle frame), a filmstrip sprite (STRIP
frames side by side, for a hover scrub), a proxy a browser can play (H.264 in MP4, made only where the
clip's own codec is not one a browser plays, e.g. ProRes or DNxHR), and a contact sheet of takes.

Each is made once with the bundled ffmpeg and cached beside the clip (`<stem>.thumb.jpg`,
`<stem>.strip.jpg`, `<stem>.proxy.mp4`), written under a temporary name and renamed into place; a
cache older than its clip is made again (a fill that replaces a draft's media in place).
"""

from __future__ import annotations

import base64
import html
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import BadInput
from .ffmpeg import die_with_parent, ffmpeg_exe
from .files import replacing

if TYPE_CHECKING:
    from .conform.probe import MediaInfo

STRIP = 10  # frames in a filmstrip
THUMB_WIDTH = 320
STRIP_WIDTH = 160
# What Chromium, Safari and Firefox all play in a <video>: H.264 in MP4 (or QuickTime) and VP8/VP9/AV1 in WebM.
PLAYABLE = {
    ("h264", ".mp4"),
    ("h264", ".mov"),
    ("h264", ".m4v"),
    ("vp9", ".webm"),
    ("vp8", ".webm"),
    ("av1", ".webm"),
    ("av1", ".mp4"),
}
FFMPEG_SECONDS = 300

Picture = Literal["thumb", "strip", "play"]


def _cached(clip: Path, suffix: str) -> Path:
    return clip.with_name(f"{clip.stem}.{suffix}")


def _fresh(cache: Path, clip: Path) -> bool:
    return cache.is_file() and cache.stat().st_mtime_ns >= clip.stat().st_mtime_ns


def _ffmpeg(clip: Path, out: Path, before: list[str], after: list[str]) -> Path:
    """ffmpeg `before` -i `clip` `after` into `out`, through a temporary name (never a half-written picture)."""
    with replacing(out, suffix=out.suffix) as tmp:  # ffmpeg picks the format by the extension
        done = subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *before, "-i", str(clip), *after, str(tmp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=FFMPEG_SECONDS,
            preexec_fn=die_with_parent,
        )
        if done.returncode != 0:
            raise BadInput(
                f"ffmpeg could not make a picture of {clip.name}: "
                f"{done.stderr.decode(errors='replace').strip()[-200:]}",
                "Check that the clip plays.",
            )
    return out


def _probe(clip: Path) -> MediaInfo:
    from .conform.probe import probe

    return probe(clip, check_duplicate=False)


def thumbnail(clip: Path) -> Path:
    """The clip's middle frame as a JPEG, THUMB_WIDTH wide."""
    clip = _existing(clip)
    out = _cached(clip, "thumb.jpg")
    if _fresh(out, clip):
        return out
    info = _probe(clip)
    middle = Fraction(max(info.frames - 1, 0) // 2) / info.rate
    return _ffmpeg(
        clip, out, ["-ss", f"{float(middle):.4f}"], ["-frames:v", "1", "-vf", f"scale={THUMB_WIDTH}:-2", "-q:v", "4"]
    )


def filmstrip(clip: Path) -> Path:
    """STRIP frames evenly through the clip, side by side in one JPEG (a CSS sprite for a hover scrub)."""
    clip = _existing(clip)
    out = _cached(clip, "strip.jpg")
    if _fresh(out, clip):
        return out
    info = _probe(clip)
    step = max(info.frames // STRIP, 1)
    return _ffmpeg(
        clip,
        out,
        [],
        [
            "-vf",
            f"select='not(mod(n\\,{step}))',scale={STRIP_WIDTH}:-2,tile={STRIP}x1",
            "-frames:v",
            "1",
            "-fps_mode",
            "vfr",
            "-q:v",
            "5",
        ],
    )


def playable(clip: Path) -> Path:
    """The clip itself when a browser plays its codec, else an H.264 proxy made once beside it."""
    clip = _existing(clip)
    info = _probe(clip)
    # 8-bit 4:2:0 only: browsers do not decode H.264 High 10 or 4:2:2, which conform can write.
    if (info.codec, clip.suffix.lower()) in PLAYABLE and info.pix_fmt in ("yuv420p", "yuvj420p"):
        return clip
    out = _cached(clip, "proxy.mp4")
    if _fresh(out, clip):
        return out
    return _ffmpeg(
        clip,
        out,
        [],
        [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "26",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=trunc(min(iw\\,1280)/2)*2:-2",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
        ],
    )


MAKERS = {"thumb": thumbnail, "strip": filmstrip, "play": playable}
TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
}


def picture(clip: Path, kind: Picture) -> tuple[Path, str]:
    """The cached picture of `kind` for `clip`, and its content type."""
    if kind not in MAKERS:
        raise BadInput(f"There is no picture kind {kind!r}.", f"Ask for one of {', '.join(MAKERS)}.")
    path = MAKERS[kind](clip)
    return path, TYPES.get(path.suffix.lower(), "application/octet-stream")


def _existing(clip: Path) -> Path:
    clip = Path(clip)
    if not clip.is_file():
        raise BadInput(f"{clip} does not exist.", "The clip was moved or deleted; make the take again.")
    return clip


# --- contact sheets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetEntry:
    """One picture on a contact sheet and the words under it."""

    clip: Path | None
    title: str  # shot — model
    lines: tuple[str, ...]  # seed, cost, time, chosen


def check_sheet(out: Path) -> Path:
    """Refuse, before anything is done, a sheet that cannot be written."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".html"):
        raise BadInput(
            f"A contact sheet is a .png or an .html file, not {out.name}.", "Name it SHEET.png or SHEET.html."
        )
    if not out.parent.is_dir():
        raise BadInput(f"The folder {out.parent} does not exist.", "Create it, or write the sheet elsewhere.")
    return out


def write_sheet(entries: Sequence[SheetEntry], out: Path, columns: int = 4) -> Path:
    """A contact sheet of `entries`: `.html` (self-contained: thumbnails inline, titles and details under
    each) or `.png` (the thumbnails on a grid, in the order listed). Written to a temporary name, then renamed."""
    out = check_sheet(out)
    suffix = out.suffix.lower()
    if not entries:
        raise BadInput("There are no takes to put on a sheet.", "Pick a shot that has takes (`promptreel takes`).")
    thumbs = [thumbnail(e.clip) if e.clip is not None and Path(e.clip).is_file() else None for e in entries]
    with replacing(out, suffix=out.suffix) as tmp:
        if suffix == ".html":
            tmp.write_text(_sheet_html(entries, thumbs, columns), encoding="utf-8")
        else:
            _sheet_png(thumbs, tmp, columns)
    return out


def _sheet_html(entries: Sequence[SheetEntry], thumbs: list[Path | None], columns: int) -> str:
    cells = []
    for entry, thumb in zip(entries, thumbs):
        img = (
            f'<img alt="" src="data:image/jpeg;base64,{base64.b64encode(thumb.read_bytes()).decode()}">'
            if thumb
            else '<div class="none">no clip</div>'
        )
        words = "".join(f"<div>{html.escape(line)}</div>" for line in entry.lines)
        cells.append(f"<figure>{img}<figcaption><b>{html.escape(entry.title)}</b>{words}</figcaption></figure>")
    return (
        "<!doctype html><meta charset=utf-8><title>promptreel takes</title><style>"
        "body{font:13px system-ui,sans-serif;background:#1e1e1e;color:#ddd}"
        f".sheet{{display:grid;grid-template-columns:repeat({columns},{THUMB_WIDTH}px);gap:12px}}"
        f"figure{{margin:0}}img,.none{{width:{THUMB_WIDTH}px;display:block}}.none{{height:180px;background:#333}}"
        "</style><div class=sheet>" + "".join(cells) + "</div>\n"
    )


def _sheet_png(thumbs: list[Path | None], out: Path, columns: int) -> None:
    """The thumbnails scaled into equal cells (black where a take has no clip), tiled `columns` wide."""
    cell_w, cell_h = THUMB_WIDTH, THUMB_WIDTH * 9 // 16
    args: list[str] = []
    chains = []
    for i, thumb in enumerate(thumbs):
        if thumb is None:
            args += ["-f", "lavfi", "-i", f"color=c=black:s={cell_w}x{cell_h}:d=1"]
        else:
            args += ["-i", str(thumb)]
        chains.append(
            f"[{i}:v]scale={cell_w}:{cell_h}:force_original_aspect_ratio=decrease,"
            f"pad={cell_w}:{cell_h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=rgb24[c{i}]"
        )
    n = len(thumbs)
    cols = min(columns, n)
    layout = "|".join(f"{(i % cols) * cell_w}_{(i // cols) * cell_h}" for i in range(n))
    joined = "".join(f"[c{i}]" for i in range(n))
    stack = f"{joined}xstack=inputs={n}:layout={layout}:fill=black[out]" if n > 1 else f"{joined}null[out]"
    done = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-y",
            *args,
            "-filter_complex",
            ";".join(chains + [stack]),
            "-map",
            "[out]",
            "-frames:v",
            "1",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=FFMPEG_SECONDS,
        preexec_fn=die_with_parent,
    )
    if done.returncode != 0:
        raise BadInput(
            f"ffmpeg could not write the sheet: {done.stderr.decode(errors='replace').strip()[-200:]}",
            "Write it as .html instead.",
        )
