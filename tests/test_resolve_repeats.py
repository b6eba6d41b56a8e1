"""Repeated uses in one fill (issue 11, item 3): placeholders that ask for the identical generation make one
job; a draft cut several times is replaced once, with one edit record covering every use; any revert order
restores the timeline and the pool exactly; a revert that finds the clip changed says so and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptreel.core.request import Slot
from promptreel.resolve_plugin import bins
from promptreel.resolve_plugin.errors import PlacementFailed
from promptreel.resolve_plugin.fill import fill, promote, revert
from promptreel.resolve_plugin.gateway import DirectGateway
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import CALLS, cut_with_placeholders


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))


def _pool(resolve) -> dict[str, tuple]:
    """Every pool item: path, metadata, third-party metadata (what a revert must give back exactly)."""
    out, folders = {}, [resolve.GetProjectManager().GetCurrentProject().GetMediaPool().GetRootFolder()]
    while folders:
        folder = folders.pop()
        folders.extend(folder._subfolders)
        for c in folder._clips:
            out[c._id] = (str(c._path), dict(c._metadata), dict(c._third_party))
    return out


def _cut(timeline) -> list[tuple]:
    return [
        (it._id, it._track, it._start, it._duration, it._left, it._enabled, it._mpi and it._mpi._id)
        for it in timeline._items()
    ] + [("tracks", timeline.GetTrackCount("video"))]


def _draft_cut_twice(gw, tmp_path: Path, frames: int = 48):
    """A draft slate cut into the timeline twice, with different in and out points, on two new tracks."""
    slot = Slot(frames=frames, rate=24, size="320x180", prompt="a lighthouse at dusk")
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "drafts", model="draft"), slot)
    gw.add_track(), gw.add_track()
    gw.place(draft.id, 5, 25, 2, 86500)
    gw.place(draft.id, 30, 40, 3, 86600)
    return draft


def test_a_draft_cut_twice_is_one_job_and_one_replace_through_the_engine(tmp_path):
    from promptreel.core.journal import Journal
    from promptreel.resolve_plugin.worker import clip_maker

    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    draft = _draft_cut_twice(gw, tmp_path)
    uses = sorted(it._id for it in timeline._items() if it._mpi is not None)
    before = _cut(timeline)
    CALLS.reset()
    report = fill(gw, clip_maker(gw), item_ids=uses)
    assert report.failed == []
    assert CALLS.by_name.get("ReplaceClip") == 1
    (record,) = report.edits
    assert record.kind == "draft" and sorted(u.item_id for u in record.uses) == uses
    assert [(u.track, u.start, u.duration, u.left_offset) for u in sorted(record.uses, key=lambda u: u.track)] == [
        (2, 86500, 20, 5),
        (3, 86600, 10, 30),
    ]
    journal = Journal.open_default()
    assert len(journal.jobs()) == 1  # one paid generation for the two uses
    journal.close()
    assert _cut(timeline) == before  # every use keeps its in and out points
    revert(gw, record.id)
    assert gw.clip(draft.id).path == draft.path


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_any_revert_order_restores_the_timeline_and_the_pool(tmp_path, order):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    _draft_cut_twice(gw, tmp_path)
    cut, pool = _cut(timeline), _pool(resolve)
    maker = TestPatternMaker(tmp_path / "made")
    report = fill(gw, maker)  # the two foreign placeholders and both uses of the draft
    assert report.failed == [] and len(maker.slots) == 3
    records = report.edits if order == "oldest first" else report.edits[::-1]
    for record in records:
        assert revert(gw, record.id).reverted
    assert _cut(timeline) == cut
    assert {k: v for k, v in _pool(resolve).items() if k in pool} == pool  # the fills' clips stay in their bins


def test_placeholders_asking_for_the_same_generation_share_one_job(tmp_path):
    from promptreel.core.journal import Journal
    from promptreel.resolve_plugin.worker import clip_maker

    resolve, timeline = cut_with_placeholders()
    v1 = timeline.GetItemListInTrack("video", 1)
    v1[1].SetName("GEN: a red fox in snow")
    v1[1]._duration = 30  # the title now asks for exactly what the Solid Color asks for
    v1[2]._start += 13
    gw = DirectGateway(resolve)
    cut = _cut(timeline)
    report = fill(gw, clip_maker(gw))
    assert report.failed == []
    journal = Journal.open_default()
    assert len(journal.jobs()) == 1
    journal.close()
    first, second = report.edits
    assert first.job_id == second.job_id and first.placed.clip_id == second.placed.clip_id
    assert [(e.placed.track, e.placed.start, e.placed.duration) for e in report.edits] == [
        (2, 86410, 30),
        (2, 86440, 30),
    ]
    for record in (first, second):
        revert(gw, record.id)
    assert _cut(timeline) == cut


def test_a_revert_that_finds_the_draft_changed_says_so_and_changes_nothing(tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    draft = _draft_cut_twice(gw, tmp_path)
    maker = TestPatternMaker(tmp_path / "made")
    (record,) = fill(gw, maker, item_ids=[it._id for it in timeline._items() if it._mpi is not None]).edits
    # The fill's take is promoted to a final: a later record replaces the same pool item again.
    later, _ = promote(gw, maker, draft.id, maker.slots[0])
    cut, pool = _cut(timeline), _pool(resolve)
    with pytest.raises(PlacementFailed) as refused:
        revert(gw, record.id)
    assert "no longer holds" in refused.value.problem and later.id in refused.value.fix
    assert _cut(timeline) == cut and _pool(resolve) == pool
    revert(gw, later.id)
    revert(gw, record.id)
    back = gw.clip(draft.id)
    assert back.path == draft.path and back.third_party["promptreel.role"] == "draft"


def test_a_revert_that_finds_the_draft_relinked_by_hand_changes_nothing(tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    draft = _draft_cut_twice(gw, tmp_path)
    (record,) = fill(
        gw, TestPatternMaker(tmp_path / "made"), item_ids=[it._id for it in timeline._items() if it._mpi is not None]
    ).edits
    other = TestPatternMaker(tmp_path / "editor")(Slot(frames=48, rate=24, size="320x180", prompt="x")).path
    mpi = next(it._mpi for it in timeline._items() if it._mpi is not None)
    mpi.ReplaceClip(str(other))  # the editor relinks the clip to their own file
    pool = _pool(resolve)
    with pytest.raises(PlacementFailed, match="no longer holds"):
        revert(gw, record.id)
    assert _pool(resolve) == pool and gw.clip(draft.id).path == str(other)


def test_variants_on_a_draft_cut_twice_replace_it_once(tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    draft = _draft_cut_twice(gw, tmp_path)
    cut = _cut(timeline)
    maker = TestPatternMaker(tmp_path / "made")
    CALLS.reset()
    report = fill(
        gw, maker, item_ids=[it._id for it in timeline._items() if it._mpi is not None], model="draft", variants=2
    )
    assert report.failed == [] and len(maker.slots) == 2  # two takes, not four
    assert CALLS.by_name.get("ReplaceClip") == 1
    (record,) = report.edits
    assert len(record.uses) == 2 and report.takes[0].in_bin  # the second take side by side in the bin
    assert _cut(timeline) == cut
    revert(gw, record.id)
    assert gw.clip(draft.id).path == draft.path


def test_the_estimate_counts_one_job_per_identical_request(tmp_path):
    from promptreel.resolve_plugin import panel_settings
    from promptreel.resolve_plugin.panel import Panel

    resolve, timeline = cut_with_placeholders()
    v1 = timeline.GetItemListInTrack("video", 1)
    v1[1].SetName("GEN: a red fox in snow")
    v1[1]._duration = 30
    v1[2]._start += 13
    gw = DirectGateway(resolve)
    _draft_cut_twice(gw, tmp_path)
    panel_settings.update({"model": "veo-3.1"})
    cost = Panel(gw, TestPatternMaker(tmp_path / "made")).estimate({})
    labels = [line["label"] for line in cost["lines"]]
    assert len(labels) == 3  # the Solid Color, the title asking the same, the draft once for its two uses
    assert [line["cost_usd"] for line in cost["lines"]] == [1.6, 0.0, 1.6] and cost["total_usd"] == 3.2
    assert "the same job as 'Solid Color'" in labels[1]
