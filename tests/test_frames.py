from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from promptreel.core.errors import BadInput
from promptreel.core.frames import (
    parse_rate,
    rate_label,
    rate_str,
    seconds_to_frames_ceil,
    seconds_to_frames_floor,
    timecode,
)


@pytest.mark.parametrize(
    "text,rate",
    [
        ("24", Fraction(24)),
        ("23.976", Fraction(24000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        ("29.97", Fraction(30000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        (25, Fraction(25)),
    ],
)
def test_parse_rate_is_exact(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", ["fast", "0", "-24", "23.9", "1/0", "5000"])
def test_parse_rate_refuses_with_a_fix(bad):
    with pytest.raises(BadInput) as e:
        parse_rate(bad)
    assert e.value.fix


def test_rate_spellings():
    assert rate_str(Fraction(24000, 1001)) == "24000/1001"
    assert rate_str(Fraction(25)) == "25"
    assert rate_label(Fraction(24000, 1001)) == "23.976 (24000/1001)"


def test_frames_and_seconds():
    ntsc = Fraction(24000, 1001)
    assert seconds_to_frames_ceil(4, ntsc) == 96  # 95.904 -> 96 frames to cover 4 s
    assert seconds_to_frames_floor(4, ntsc) == 95  # a partial last frame is not a frame


@pytest.mark.parametrize(
    "frame,rate,tc",
    [
        (0, Fraction(24), "00:00:00:00"),
        (86399, Fraction(24), "00:59:59:23"),
        (1800, Fraction(30000, 1001), "00:01:00;02"),  # frames ;00 and ;01 are dropped at each minute
        (17982, Fraction(30000, 1001), "00:10:00;00"),  # but not at every tenth minute
        (107892, Fraction(30000, 1001), "01:00:00;00"),
        (1001, Fraction(24000, 1001), "00:00:41:17"),  # 23.976 counts on a 24 timebase, no drop
        (3600, Fraction(60000, 1001), "00:01:00;04"),
    ],
)
def test_timecode(frame, rate, tc):
    assert timecode(frame, rate) == tc


@given(st.integers(0, 10_000_000))
def test_drop_frame_timecode_never_shows_a_dropped_number(frame):
    tc = timecode(frame, Fraction(30000, 1001))
    mm, ss, ff = int(tc[3:5]), int(tc[6:8]), int(tc[9:11])
    assert not (ss == 0 and ff in (0, 1) and mm % 10 != 0)
