"""Frame arithmetic: rates are `Fraction`s, frames are integers, conversions are named.

24000/1001 is not 23.976: parse rates with `parse_rate` and never compute with floats.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .errors import BadInput

# Common NTSC spellings an editor types; each maps to its exact rate.
_NTSC = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
    "119.88": Fraction(120000, 1001),
}


def parse_rate(value: str | int | Fraction) -> Fraction:
    """'24', '24000/1001', '23.976' or 25 -> an exact rate."""
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, int):
        rate = Fraction(value)
    else:
        text = str(value).strip()
        if text in _NTSC:
            rate = _NTSC[text]
        else:
            try:
                rate = Fraction(text)
            except (ValueError, ZeroDivisionError):
                raise BadInput(
                    f"'{value}' is not a frame rate.",
                    "Give it as 24, 25, 30, 24000/1001 or 23.976.",
                ) from None
            if rate.denominator not in (1, 1001) and "." in text:
                raise BadInput(
                    f"'{value}' is not an exact frame rate.",
                    "Write fractional rates exactly, e.g. 24000/1001 for 23.976.",
                )
    if rate <= 0 or rate > 1000:
        raise BadInput(f"Frame rate {value} is out of range.", "Use a rate between 1 and 1000 fps.")
    return rate


def seconds_to_frames_ceil(seconds: Fraction | int, rate: Fraction) -> int:
    """Frames needed to cover `seconds` at `rate` (rounded up)."""
    return math.ceil(Fraction(seconds) * rate)


def seconds_to_frames_floor(seconds: Fraction | int, rate: Fraction) -> int:
    """Whole frames that fit in `seconds` at `rate` (a partial last frame does not count)."""
    return math.floor(Fraction(seconds) * rate)


def rate_str(rate: Fraction) -> str:
    """Exact, ffmpeg-friendly spelling: '24' or '24000/1001'."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def rate_label(rate: Fraction) -> str:
    """Human label for messages: '23.976 (24000/1001)', '25'."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f} ({rate_str(rate)})"


def is_drop_frame_rate(rate: Fraction) -> bool:
    return rate in (Fraction(30000, 1001), Fraction(60000, 1001))


def timecode(frame: int, rate: Fraction, drop_frame: bool | None = None) -> str:
    """SMPTE timecode for a frame number. Drop-frame (';') for 29.97 / 59.94 by default."""
    if frame < 0:
        raise ValueError("negative frame")
    fps = math.ceil(rate)  # nominal timebase: 24 for 23.976, 30 for 29.97
    drop = is_drop_frame_rate(rate) if drop_frame is None else drop_frame
    if drop:
        dropped = 2 * (fps // 30)  # 2 per minute at 29.97, 4 at 59.94
        per_10min = fps * 600 - dropped * 9
        per_min = fps * 60 - dropped
        tens, rem = divmod(frame, per_10min)
        frame += dropped * 9 * tens
        if rem > dropped:
            frame += dropped * ((rem - dropped) // per_min)
    ff = frame % fps
    ss = (frame // fps) % 60
    mm = (frame // (fps * 60)) % 60
    hh = frame // (fps * 3600)
    sep = ";" if drop else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


def parse_timecode(text: str, rate: Fraction, drop_frame: bool | None = None) -> int:
    """'01:00:00:00' (or ';' before the frames for drop-frame) -> frame number at `rate`.

    The inverse of `timecode`. `drop_frame` None reads drop-frame from the separator.
    A value that names no frame at `rate` is refused.
    """
    value = str(text).strip()
    drop = (";" in value or "." in value) if drop_frame is None else drop_frame
    parts = value.replace(";", ":").replace(".", ":").split(":")
    fps = math.ceil(rate)
    try:
        hh, mm, ss, ff = (int(p) for p in parts)
    except ValueError:
        raise BadInput(f"'{text}' is not a timecode.", "Write it as HH:MM:SS:FF, e.g. 01:00:00:00.") from None
    if len(parts) != 4 or min(hh, mm, ss, ff) < 0 or mm > 59 or ss > 59 or ff >= fps:
        raise BadInput(
            f"'{text}' is not a timecode at {rate_label(rate)} fps.",
            f"Write it as HH:MM:SS:FF with frames below {fps}.",
        )
    if drop and not is_drop_frame_rate(rate):
        raise BadInput(
            f"'{text}' is drop-frame timecode, which {rate_label(rate)} fps does not have.",
            "Use ':' before the frames.",
        )
    frame = ((hh * 60 + mm) * 60 + ss) * fps + ff
    if drop:
        dropped = 2 * (fps // 30)
        if ss == 0 and ff < dropped and mm % 10:
            raise BadInput(
                f"'{text}' names a frame number that drop-frame timecode skips.",
                f"Use {hh:02d}:{mm:02d}:00;{dropped:02d}.",
            )
        minutes = hh * 60 + mm
        frame -= dropped * (minutes - minutes // 10)
    return frame
