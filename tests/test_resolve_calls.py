"""Scripting calls per filled placeholder (issue 11, item 4): every method call on a Resolve object is a
round trip, so a fill reads the whole timeline once and proves each placement by reading back only its
track's range; what each placeholder costs does not grow with the timeline. Counts, not timings."""

from __future__ import annotations

import pytest

from promptreel.resolve_plugin.fill import fill
from promptreel.resolve_plugin.gateway import DirectGateway
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import CALLS, CallsByOp, long_cut

PER_FILL = ("project", "timeline")  # read once per fill, whatever the number of placeholders


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))


def _fill(items: int, tmp_path) -> CallsByOp:
    resolve, timeline = long_cut(items)
    gw = DirectGateway(resolve)
    counted = CallsByOp(gw)
    report = fill(gw, TestPatternMaker(tmp_path / f"made-{items}"))
    assert report.failed == [] and len(report.edits) == 6
    assert [it._track for it in timeline._items() if it._name.startswith("draft-")] == [2] * 6  # between shots
    return counted


def test_calls_per_placeholder_do_not_grow_with_the_timeline(tmp_path):
    short, long = _fill(14, tmp_path), _fill(200, tmp_path)
    for counted in (short, long):
        assert counted.ops["timeline"] == 1 and counted.ops["project"] == 1  # the whole timeline read once
    per_placeholder = [counted.besides(*PER_FILL) / 6 for counted in (short, long)]
    assert per_placeholder[0] == per_placeholder[1] <= 30
    # The one read of the timeline is the only part that grows with it.
    assert long.total("timeline") > 10 * short.total("timeline")


def test_the_call_counter_counts_each_call_from_outside_the_double():
    resolve, timeline = long_cut(14)
    CALLS.reset()
    timeline.GetEndFrame()  # one call; the double's own GetEnd calls inside it are not round trips
    resolve.NoSuchMethod()  # quirk 11: a missing method answers None, and is still a call
    assert CALLS.total == 2 and CALLS.by_name == {"GetEndFrame": 1, "NoSuchMethod": 1}


def test_a_track_changed_since_the_fills_read_is_still_read_back_exactly(tmp_path):
    """An editor cuts a clip onto the fill's track after the fill read the timeline, before a placement:
    the read-back no longer starts where the fill's read said, bisects, and still proves the placement."""
    from tests.fakes.resolve import cut_with_placeholders

    resolve, timeline = cut_with_placeholders()
    resolve.faults["occupy_before_append"] = (2, 86300, 5, "editor's clip")  # V2, before both slots
    report = fill(DirectGateway(resolve), TestPatternMaker(tmp_path / "made"))
    assert report.failed == []
    assert [(it._name, it._start, it._duration) for it in timeline.GetItemListInTrack("video", 2)] == [
        ("editor's clip", 86300, 5),
        ("draft-001.mov", 86410, 30),
        ("draft-002.mov", 86440, 17),
    ]
