"""OTIO time at the boundary: OTIO stores rates as doubles, promptreel computes with `Fraction`s.

`exact_rate` turns OTIO's 23.976023976023978 (or a literal 23.976 some tools write) into
24000/1001; `frames_at` counts an OTIO time in whole frames at an exact rate; `rational`
goes back to OTIO's types. Nothing here computes with a float rate.
"""

from __future__ import annotations

import math
from fractions import Fraction

import opentimelineio as otio

from ..errors import BadInput
from ..frames import timecode

_SMPTE = [
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(48000, 1001),
    Fraction(48),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
    Fraction(120000, 1001),
    Fraction(120),
]


class NotFrameAligned(ValueError):
    """A time that is not a whole number of frames at the rate asked for."""


class BadTime(BadInput):
    """A time OTIO holds that is no time: a rate of 0, negative, NaN or infinite, or a value that is not a
    number. OTIO stores whatever the file says; the caller names the item it came from."""


def exact_rate(rate: float) -> Fraction:
    """OTIO's double rate -> the exact rate it stands for (23.976, 23.98 or 23.97602... -> 24000/1001)."""
    if not (math.isfinite(rate) and rate > 0):
        raise BadTime(
            f"its rate is {rate:g}, which is no frame rate.",
            "Fix the item's frame rate in the editing application and export the timeline again.",
        )
    for r in _SMPTE:
        if abs(float(r) - rate) < 0.005:
            return r
    return Fraction(rate).limit_denominator(1001)


def frames_at(t: otio.opentime.RationalTime, rate: Fraction) -> int:
    """`t` as a whole number of frames at `rate`; raises NotFrameAligned if it falls between frames."""
    if t.rate == float(rate) and t.value.is_integer():
        return int(t.value)
    if not math.isfinite(t.value):
        raise BadTime(
            f"it holds a time of {t.value:g} frames.",
            "Fix the item's in and out points in the editing application and export the timeline again.",
        )
    exact = Fraction(t.value).limit_denominator(1_000_000) * rate / exact_rate(t.rate)
    if exact.denominator != 1:
        raise NotFrameAligned(f"{t.value}@{t.rate} is {float(exact):.3f} frames at {rate}")
    return int(exact)


def rational(frames: int, rate: Fraction) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, float(rate))


def time_range(start: int, duration: int, rate: Fraction) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(rational(start, rate), rational(duration, rate))


def timecode_to_frame(tc: str, rate: Fraction) -> int:
    """'01:00:00:00' (or '01:00:00;00' drop-frame) -> frame number at `rate`."""
    value: float = otio.opentime.from_timecode(tc, float(rate)).value
    return round(value)


def record_timecode(frame: int, rate: Fraction) -> str:
    return timecode(frame, rate)
