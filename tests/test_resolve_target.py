"""The conform target from Resolve's settings strings: exact rates, drop-frame, fit, bit depth."""

from __future__ import annotations

from fractions import Fraction

import pytest

from promptreel.core.errors import BadInput
from promptreel.resolve_plugin.bins import bin_path
from promptreel.resolve_plugin.target import parse_timeline_rate, target_from_settings


@pytest.mark.parametrize(
    "text, rate, drop",
    [
        ("23.976", Fraction(24000, 1001), False),
        ("24", Fraction(24), False),
        ("25", Fraction(25), False),
        ("29.97", Fraction(30000, 1001), False),
        ("29.97 DF", Fraction(30000, 1001), True),
        ("59.94 DF", Fraction(60000, 1001), True),
        (23.976023976023978, Fraction(24000, 1001), False),  # 21.1's GetSettings returns numbers
        (30, Fraction(30), False),
    ],
)
def test_parse_timeline_rate(text, rate, drop):
    assert parse_timeline_rate(text) == (rate, drop)


@pytest.mark.parametrize("text", ["", "fast", "23.5"])
def test_unreadable_rate_is_a_user_error(text):
    with pytest.raises(BadInput, match="Timeline frame rate"):
        parse_timeline_rate(text)


def test_target_from_settings():
    settings = {
        "timelineFrameRate": "29.97",
        "timelineDropFrameTimecode": "1",
        "timelineResolutionWidth": "3840",
        "timelineResolutionHeight": "2160",
        "timelineInputResMismatchBehavior": "scaleToCrop",
        "videoMonitorBitDepth": "12",
        "timelinePixelAspectRatio": "square",
    }
    t = target_from_settings(settings)
    assert (t.rate, t.drop_frame, str(t.size), t.fit, t.bit_depth) == (
        Fraction(30000, 1001),
        True,
        "3840x2160",
        "fill",
        12,
    )
    assert target_from_settings(settings, bit_depth=10).bit_depth == 10  # the user's override wins
    assert target_from_settings({**settings, "videoMonitorBitDepth": ""}).bit_depth == 10
    slot = t.slot(48, "a prompt", name="sh010")
    assert slot.frames == 48 and slot.rate == Fraction(30000, 1001) and slot.bit_depth == 12
    with pytest.raises(BadInput, match="resolution"):
        target_from_settings({**settings, "timelineResolutionWidth": ""})


@pytest.mark.parametrize(
    "template, model, path",
    [
        ("promptreel/{model}", "veo-3.1", ["promptreel", "veo-3.1"]),
        ("AI: takes / {model} ", "sora-2", ["AI: takes", "sora-2"]),
        ("bin\twith\ncontrols", "m", ["binwithcontrols"]),
    ],
)
def test_bin_path(template, model, path):
    assert bin_path(template, model) == path


def test_bin_path_refusals():
    with pytest.raises(BadInput, match="placeholder other than"):
        bin_path("promptreel/{job}", "m")
    with pytest.raises(BadInput, match="empty"):
        bin_path("//", "m")
