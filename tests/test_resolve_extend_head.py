"""Extend a clip's head in Resolve (connected), through both gateways, against the double: the model gets the
clip's first shown frame as its last frame (the take's own copy of it left out at conform), the extension lands
right before the clip (its own track, else a new one above), nothing else changes, and the edit reverts it."""

from __future__ import annotations

from fractions import Fraction

import pytest

from promptreel.core.errors import UserError
from promptreel.core.journal import Journal
from promptreel.core.takes import list_takes
from promptreel.resolve_plugin import edits
from promptreel.resolve_plugin.extend import extend
from promptreel.resolve_plugin.fill import revert
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import FakeResolve, MediaPoolItem
from tests.test_otio_extend import _luma, _ramp
from tests.test_resolve_extend import _layout, connect, home  # noqa: F401 - fixtures


def _cut(tmp_path):
    """V1: A (ramp source 10.., 12 frames) 50 frames after the start, B (source 30.., 12 frames) right after it."""
    ramp = _ramp(tmp_path / "ramp.mov")
    resolve = FakeResolve()
    project = resolve._new_project(rate="24", width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Cut 1")
    mpi = MediaPoolItem(ramp, Fraction(24), 320, 180, 48)
    mpi._folder = pool.GetRootFolder()
    mpi._folder._clips.append(mpi)
    start = timeline.GetStartFrame()
    a = timeline._add(1, start + 50, 12, "A", mpi, left=10)
    b = timeline._add(1, start + 62, 12, "B", mpi, left=30)
    return resolve, timeline, ramp, {"A": a, "B": b}


@pytest.mark.parametrize("name, frames, track", [("A", 12, 1), ("B", 12, 2), ("B", 60, 2)])
def test_a_head_extension_lands_before_the_clip_and_reverts(connect, tmp_path, name, frames, track):  # noqa: F811
    resolve, timeline, ramp, clips = _cut(tmp_path)
    before = _layout(timeline)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="ray-3.2")
    clip = clips[name]
    record = extend(gw, maker, clip.GetUniqueId(), frames, model="ray-3.2", prompt="the light comes up", edge="head")
    (slot,) = maker.slots
    # N frames, ending just before the take's last (its copy of the clip's first frame, left out at conform).
    assert (slot.frames, slot.drop_last, slot.first_frame) == (frames, 1, None)
    assert _luma(slot.last_frame) == _luma(ramp, {"A": 10, "B": 30}[name])  # the clip's first shown frame
    ours = [it for it in timeline._items() if it._mpi is not None and it._mpi._path.parent == tmp_path / "made"]
    (placed,) = ours
    assert (placed._track, placed._start, placed._duration, placed._left) == (track, clip._start - frames, frames, 0)
    assert placed._start + placed._duration == clip._start  # it plays straight into the clip
    assert [x for x in _layout(timeline) if x[3] != placed._name] == before  # nothing else moved
    assert record.kind == "extend" and record.placed.added_track == (track == 2)
    journal = Journal.open_default()  # a take of the clip, listed by `promptreel takes`
    try:
        (take,) = list_takes(journal, shot=name)
    finally:
        journal.close()
    assert (take.kind, take.clip, take.as_dict()["edge"], take.kind_label) == (
        "extend",
        name,
        "head",
        f"extend head of '{name}'",
    )

    revert(gw, record.id)
    assert _layout(timeline) == before
    assert sorted(timeline._tracks) == [1]


@pytest.mark.parametrize(
    "name, frames, model, message",
    [
        ("A", 12, "kling-v3", "takes no last frame on its own"),
        ("A", 12, None, "the draft model takes no last frame on its own"),
        ("A", 300, "ray-3.2", "at most 239 frames"),
        ("A", 51, "ray-3.2", "would start before the timeline does"),
    ],
)
def test_head_refusals_come_before_any_spend(connect, tmp_path, name, frames, model, message):  # noqa: F811
    resolve, timeline, ramp, clips = _cut(tmp_path)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="ray-3.2")
    with pytest.raises(UserError) as e:
        extend(gw, maker, clips[name].GetUniqueId(), frames, model=model, edge="head")
    assert message in str(e.value)
    assert maker.slots == [] and edits.all_records() == []
