"""frames.parse_timecode: the inverse of frames.timecode, drop-frame included."""

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from promptreel.core.errors import BadInput
from promptreel.core.frames import parse_timecode, timecode

RATES = [
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 24 * 3600 * 60 - 1), st.sampled_from(RATES))
def test_round_trip(frame, rate):
    assert parse_timecode(timecode(frame, rate), rate) == frame


def test_known_values():
    df = Fraction(30000, 1001)
    assert parse_timecode("01:00:00:00", Fraction(24000, 1001)) == 86400
    assert parse_timecode("00:01:00;02", df) == 1800
    assert parse_timecode("00:10:00;00", df) == 17982
    assert parse_timecode("01:00:00:00", df, drop_frame=True) == 107892


@pytest.mark.parametrize(
    "text, rate",
    [
        ("1:2:3", 24),
        ("aa:00:00:00", 24),
        ("00:00:00:24", 24),
        ("00:00:00;00", 25),
        ("00:01:00;00", Fraction(30000, 1001)),
    ],
)
def test_refused(text, rate):
    with pytest.raises(BadInput):
        parse_timecode(text, Fraction(rate))
