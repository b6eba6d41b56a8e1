"""Fonts and line widths for the draft slate's words in any script.

The bundled DejaVu Sans Mono draws Latin, Greek and Cyrillic; a prompt in another script (Japanese,
Chinese, Korean, Arabic, Hindi, Thai, ...) is drawn with an installed font that covers every one of its
characters, found through fontconfig (`fc-list :charset=...`). When none is installed the bundled font
is kept and the slate's plan says which characters no font here can draw (they would show as boxes).
Widths are counted in columns of the monospaced font: East Asian wide characters take two.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "DejaVuSansMono.ttf"
# Blocks DejaVu Sans Mono draws (its cmap): Latin with extensions and IPA, spacing and combining marks,
# Greek, Cyrillic, general punctuation, currency, letterlike symbols, arrows, maths, box drawing, shapes.
_BUNDLED_BLOCKS = (
    (0x0020, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1E00, 0x1FFF),
    (0x2000, 0x22FF),
    (0x2300, 0x23FF),
    (0x2500, 0x25FF),
    (0x2600, 0x26FF),
    (0xFB00, 0xFB06),
    (0xFFFD, 0xFFFD),
)


@dataclass(frozen=True)
class SlateFont:
    path: Path
    missing: str = ""  # characters no installed font draws (empty: every one is covered)


def _bundled(ch: str) -> bool:
    code = ord(ch)
    return ch in "\n\t " or any(a <= code <= b for a, b in _BUNDLED_BLOCKS)


def font_for(text: str) -> SlateFont:
    """The bundled font when it draws all of `text`; else an installed font that draws all the rest."""
    others = "".join(sorted({ch for ch in text if not _bundled(ch) and unicodedata.category(ch)[0] != "C"}))
    if not others:
        return SlateFont(BUNDLED)
    found = _fontconfig(others[:64])  # a sample is enough to pick the script's font
    if found is not None:
        return SlateFont(found)
    return SlateFont(BUNDLED, missing=others)


@lru_cache(maxsize=64)
def _fontconfig(chars: str) -> Path | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    charset = " ".join(f"{ord(c):x}" for c in chars)
    try:
        out = subprocess.run([fc_list, f":charset={charset}", "file"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    files = sorted({line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip()})
    # TrueType/OpenType files drawtext opens (not bitmap fonts); the first by name, so the choice is stable.
    usable = [Path(f) for f in files if f.lower().endswith((".ttf", ".otf", ".ttc"))]
    return usable[0] if usable else None


def columns(text: str) -> int:
    """Width in monospace columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def wrap(paragraph: str, width: int) -> list[str]:
    """Greedy wrap to `width` columns: at spaces, anywhere between wide characters (scripts written without
    spaces), and inside a word only when it is longer than a line."""
    width = max(1, width)
    tokens: list[str] = []
    for word in paragraph.split(" "):
        run = ""
        for ch in word:
            if unicodedata.east_asian_width(ch) in "WF":
                if run:
                    tokens.append(run)
                    run = ""
                tokens.append(ch)
            else:
                run += ch
        tokens.append(run)
        tokens.append(" ")
    lines, line = [], ""
    for token in tokens[:-1]:
        if token == " ":
            if line and columns(line) + 1 <= width:
                line += " "
            continue
        while columns(token) > width:  # a word longer than a line is broken
            room = width - columns(line)
            if room <= 0:
                lines.append(line.rstrip())
                line, room = "", width
            cut = _cut(token, room)
            line += token[:cut]
            token = token[cut:]
            lines.append(line.rstrip())
            line = ""
        if columns(line) + columns(token) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    lines.append(line.rstrip())
    return [x for x in lines if x] or [""]


def _cut(text: str, room: int) -> int:
    """How many characters of `text` fit in `room` columns (at least one)."""
    used = 0
    for i, ch in enumerate(text):
        used += columns(ch)
        if used > room:
            return max(i, 1)
    return len(text)
