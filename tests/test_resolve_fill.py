"""Fill, verify and revert in Resolve, through both gateways, against the double (quirks included)."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from promptreel.core.made import MadeClip
from promptreel.core.request import Slot
from promptreel.resolve_plugin import bins, edits
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.errors import (
    NoPlaceholders,
    NoProject,
    NoTimeline,
    PlaceholderProblem,
    ResolveUnavailable,
)
from promptreel.resolve_plugin.fill import fill, revert
from promptreel.resolve_plugin.gateway import BridgeGateway, DirectGateway
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import FakeResolve, cut_with_placeholders, pool_bins


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))


@pytest.fixture(params=["direct", "bridge"])
def connect(request):
    """connect(resolve) -> a gateway of the parametrized kind."""
    running = []

    def make(resolve):
        if request.param == "direct":
            return DirectGateway(resolve)
        bridge = Bridge(resolve)
        thread = threading.Thread(target=bridge.serve_forever)
        thread.start()
        running.append((bridge, thread))
        return BridgeGateway(*bridge.address, token=bridge.token)

    yield make
    for bridge, thread in running:
        bridge.stop()
        thread.join(10)


@pytest.fixture
def maker(tmp_path):
    return TestPatternMaker(tmp_path / "made")


def _ours(timeline):
    return [it for it in timeline._items() if it._mpi is not None]


def test_fill_places_each_clip_frame_exact_above_its_placeholder(connect, maker):
    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = connect(resolve)
    report = fill(gw, maker)
    assert report.failed == []
    assert [s.frames for s in maker.slots] == [30, 17]
    assert {s.rate for s in maker.slots} == {Fraction(24000, 1001)}
    assert str(maker.slots[0].size) == "320x180" and maker.slots[0].prompt == "a red fox in snow"
    placed = sorted(_ours(timeline), key=lambda it: it._start)
    assert [(it._track, it._start, it._duration) for it in placed] == [(2, 86410, 30), (2, 86440, 17)]
    v1 = timeline.GetItemListInTrack("video", 1)
    assert [it.GetClipEnabled() for it in v1] == [False, False, True]  # kept, disabled; Text+ untouched
    clip = placed[0].GetMediaPoolItem()
    assert clip._folder.GetName() == "draft" and clip._folder._parent.GetName() == "promptreel"
    assert clip.GetMetadata("Description") == "a red fox in snow"
    assert clip.GetMetadata("Keywords") == "AI generated"
    assert "job-" in clip.GetMetadata("Comments")
    assert clip.GetThirdPartyMetadata("promptreel.job_id") == report.edits[0].job_id
    assert clip.GetClipColor() == bins.clip_color("draft")
    assert len(edits.all_records()) == 2
    assert gw.round_trips <= 2 + 8 * 2  # project + timeline, then at most 8 per placeholder


def test_refill_finds_nothing_and_revert_restores_exactly(connect, maker):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    before = [(it._track, it._start, it._duration, it._enabled) for it in timeline._items()]
    report = fill(gw, maker)
    with pytest.raises(NoPlaceholders):
        fill(gw, maker)
    for record in report.edits:
        assert revert(gw, record.id).reverted
    assert [(it._track, it._start, it._duration, it._enabled) for it in timeline._items()] == before
    assert revert(gw, report.edits[0].id).reverted  # a second revert changes nothing
    assert [(it._track, it._start, it._duration, it._enabled) for it in timeline._items()] == before


def test_overlap_that_append_drops_silently_is_caught_by_read_back(connect, maker):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    # An editor's clip lands on V2 over the first slot between promptreel's read and its append (quirk 3).
    resolve.faults["occupy_before_append"] = (2, 86405, 10, "editor's clip")
    report = fill(gw, maker)
    assert len(report.failed) == 1 and "Solid Color" in report.failed[0][0]
    assert "did not land" in report.failed[0][1]
    solid = timeline.GetItemListInTrack("video", 1)[0]
    assert solid.GetClipEnabled() is True  # re-enabled
    assert [it._name for it in _ours(timeline)] == ["draft-002.mov"]  # only the second fill stands
    assert len(edits.all_records()) == 1


def test_mixed_rate_clip_landing_short_is_undone(connect, tmp_path):
    resolve, timeline = cut_with_placeholders(rate="24")
    gw = connect(resolve)
    report = fill(gw, TestPatternMaker(tmp_path / "m", rate=Fraction(25)))
    assert len(report.failed) == 2  # quirk 5: each landed a frame short, so neither stands
    assert _ours(timeline) == []
    assert all(it.GetClipEnabled() for it in timeline._items())


def test_track_choice_skips_occupied_and_locked_tracks(connect, maker):
    resolve, timeline = cut_with_placeholders()
    timeline._add(2, 86400, 12, "B-roll on V2")  # overlaps the first slot (86410..86440)
    timeline._add(3, 86500, 5, "far away on V3")
    timeline._add(4, 86300, 5, "V4")
    timeline.SetTrackLock("video", 3, True)
    gw = connect(resolve)
    report = fill(gw, maker, item_ids=[timeline.GetItemListInTrack("video", 1)[0].GetUniqueId()])
    (record,) = report.edits
    assert record.placed.track == 4 and record.placed.added_track is False


def test_locked_placeholder_and_transition_over_an_edge_are_refused_before_generating(connect, maker):
    resolve, timeline = cut_with_placeholders()
    timeline.SetTrackLock("video", 1, True)
    gw = connect(resolve)
    with pytest.raises(PlaceholderProblem, match="locked"):
        fill(gw, maker)
    timeline.SetTrackLock("video", 1, False)
    timeline._add(1, 86436, 8, "Cross Dissolve", kind="transition")
    with pytest.raises(PlaceholderProblem, match="transition"):
        fill(gw, maker)
    assert maker.slots == []  # nothing generated, nothing paid


def test_no_project_no_timeline(connect, maker):
    resolve = FakeResolve()
    gw = connect(resolve)
    with pytest.raises(NoProject):
        fill(gw, maker)
    resolve._new_project()
    with pytest.raises(NoTimeline):
        fill(gw, maker)


def test_custom_timeline_settings_and_drop_frame_make_the_slot(connect, maker):
    resolve, timeline = cut_with_placeholders(rate="29.97 DF", width=640, height=360)
    timeline.SetSetting("useCustomSettings", "1")
    timeline._settings.update(timelineResolutionWidth="320", timelineResolutionHeight="240")
    gw = connect(resolve)
    fill(gw, maker, item_ids=[timeline.GetItemListInTrack("video", 1)[0].GetUniqueId()])
    (slot,) = maker.slots
    assert slot.rate == Fraction(30000, 1001) and str(slot.size) == "320x240"


def test_draft_fill_replaces_media_everywhere_and_reverts(connect, maker, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    slot = Slot(frames=48, rate=24, size="320x180", prompt="a lighthouse at dusk")
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "drafts", model="draft"), slot)
    # The editor cuts the draft twice with different in/out points.
    gw.add_track(), gw.add_track()
    gw.place(draft.id, 5, 25, 2, 86500)
    gw.place(draft.id, 30, 40, 3, 86600)
    uses_before = sorted((it._track, it._start, it._duration, it._left) for it in _ours(timeline))
    uses = [i.id for t in gw.timeline().tracks for i in t.items if i.clip_id == draft.id]
    report = fill(gw, maker, item_ids=uses[:1])
    (record,) = report.edits
    assert record.kind == "draft" and maker.slots[0].frames == 48
    after = gw.clip(draft.id)
    assert after.path == record.replaced.new_path != draft.path
    assert after.third_party["promptreel.role"] == "take" and after.metadata["Keywords"] == "AI generated"
    assert sorted((it._track, it._start, it._duration, it._left) for it in _ours(timeline)) == uses_before
    revert(gw, record.id)
    back = gw.clip(draft.id)
    assert back.path == draft.path and back.third_party["promptreel.role"] == "draft"
    assert back.metadata.get("Comments", "") == draft.metadata.get("Comments", "")


def test_draft_fill_of_the_wrong_length_is_restored(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    slot = Slot(frames=24, rate=24, size="320x180", prompt="rain on glass")
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "d"), slot)
    gw.add_track()
    gw.place(draft.id, 0, 24, 2, 86700)
    item_id = [i.id for t in gw.timeline().tracks for i in t.items if i.clip_id == draft.id]
    report = fill(gw, TestPatternMaker(tmp_path / "short", frames_delta=-3), item_ids=item_id)
    assert len(report.failed) == 1
    back = gw.clip(draft.id)
    assert back.path == draft.path and back.third_party["promptreel.role"] == "draft"


def test_generate_takes_into_bins_and_odd_bin_names(connect, maker):
    resolve, _ = cut_with_placeholders()
    gw = connect(resolve)
    slot = Slot(frames=12, rate=24, size="320x180", prompt="dust in sunlight")
    takes = bins.generate_takes(gw, maker, slot, ["draft"], 2, "AI takes/ {model} \x07").clips
    assert len(takes) == 2
    assert ("AI takes", "draft") in pool_bins(resolve)
    assert all(t.third_party["promptreel.ai_generated"] == "1" for t in takes)
    with pytest.raises(Exception, match="empty"):
        bins.bin_path(" / \x01 /", "m")


def test_keys_never_reach_resolve_metadata(connect, maker, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-very-secret-value")
    resolve, timeline = cut_with_placeholders()
    timeline.GetItemListInTrack("video", 1)[1].SetName("GEN: waves sk-test-very-secret-value")
    gw = connect(resolve)
    fill(gw, maker)
    for it in _ours(timeline):
        mpi = it.GetMediaPoolItem()
        blob = repr(mpi.GetMetadata()) + repr(mpi.GetThirdPartyMetadata())
        assert "sk-test-very-secret-value" not in blob


def test_resolve_gone_mid_session_is_a_clear_error(tmp_path):
    resolve, _ = cut_with_placeholders()
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    gw = BridgeGateway(*bridge.address, token=bridge.token)
    assert gw.timeline().start_frame == 86400
    bridge.stop()
    thread.join(10)
    with pytest.raises(ResolveUnavailable, match="Scripts"):
        gw.timeline()


def test_stills_and_timeline_export_through_the_gateway(connect, maker, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    fill(gw, maker)
    still = gw.export_still(86415, tmp_path / "before.png")  # quirk 23: the gateway moves the playhead first
    assert still.read_bytes()[:4] == b"\x89PNG"
    assert resolve.GetCurrentPage() == "media"  # the page the editor was on is restored
    import opentimelineio as otio

    out = otio.adapters.read_from_file(str(gw.export_timeline(tmp_path / "cut.otio")))
    assert [c.name for c in out.tracks[1].find_clips()] == ["draft-001.mov", "draft-002.mov"]


def test_a_restarted_bridge_refuses_the_old_token(tmp_path):
    resolve, _ = cut_with_placeholders()
    old = Bridge(resolve)
    old_token = old.token
    old._listener.close()
    new = Bridge(resolve)
    thread = threading.Thread(target=new.serve_forever)
    thread.start()
    try:
        with pytest.raises(ResolveUnavailable):
            BridgeGateway(*new.address, token=old_token).timeline()
    finally:
        new.stop()
        thread.join(10)


def test_neighbouring_frames_go_to_the_model_as_first_and_last_frames(connect, maker, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    shot = bins.import_tagged(gw, maker(Slot(frames=10, rate=24, size="320x180", prompt="shot a")))
    gw.place(shot.id, 0, 10, 1, 86400)  # a real shot cut just before the first placeholder
    maker.slots.clear()
    first = timeline.GetItemListInTrack("video", 1)[1]  # the Solid Color placeholder
    fill(gw, maker, item_ids=[first.GetUniqueId()], stills_dir=tmp_path / "stills")
    (slot,) = maker.slots
    assert slot.first_frame is not None and slot.first_frame.read_bytes()[:4] == b"\x89PNG"
    assert slot.last_frame is None  # the title after it is a placeholder, not a shot


def test_append_refuses_when_the_editor_switched_timelines(connect, maker):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    state = gw.timeline()
    clip = bins.import_tagged(gw, maker(Slot(frames=5, rate=24, size="320x180", prompt="x")))
    resolve.GetProjectManager().GetCurrentProject().GetMediaPool().CreateEmptyTimeline("Other")  # becomes current
    with pytest.raises(NoTimeline, match="changed"):
        gw.place(clip.id, 0, 5, 1, 86400, timeline_id=state.id)
    assert _ours(timeline) == []


def test_a_fill_that_cannot_be_undone_says_so(connect, tmp_path):
    resolve, timeline = cut_with_placeholders(rate="24")
    gw = connect(resolve)

    # A 25 fps clip lands short (quirk 5), and a dialog is up, so DeleteClips fails too (quirks 6, 13).
    original = resolve.GetProjectManager().GetCurrentProject().GetMediaPool().AppendToTimeline

    def append_then_modal(infos):
        out = original(infos)
        resolve._modal_open = True
        return out

    resolve.GetProjectManager().GetCurrentProject().GetMediaPool().AppendToTimeline = append_then_modal
    first = timeline.GetItemListInTrack("video", 1)[0].GetUniqueId()
    report = fill(gw, TestPatternMaker(tmp_path / "m", rate=Fraction(25)), item_ids=[first])
    assert len(report.failed) == 1 and "would not remove it" in report.failed[0][1]
    assert "by hand" in report.failed[0][1]


def test_revert_removes_the_track_a_fill_added_once_it_is_empty_again(connect, maker):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    report = fill(gw, maker)  # the first fill adds V2; the second, later on the cut, lands on it too
    first, second = report.edits
    assert first.placed.added_track and not second.placed.added_track
    assert timeline.GetTrackCount("video") == 2 and timeline.GetTrackName("video", 2) == "promptreel"
    revert(gw, first.id)
    assert timeline.GetTrackCount("video") == 2  # the second fill is still on it
    revert(gw, second.id)
    assert timeline.GetTrackCount("video") == 1 and [it._track for it in timeline._items()] == [1, 1, 1]


@pytest.mark.parametrize("claim", ["cut onto it", "renamed it"])
def test_revert_keeps_an_added_track_the_editor_has_made_theirs(connect, maker, claim):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    (record,) = fill(gw, maker, item_ids=[timeline.GetItemListInTrack("video", 1)[0].GetUniqueId()]).edits
    assert record.placed.added_track and timeline.GetTrackCount("video") == 2
    if claim == "cut onto it":
        timeline._add(2, 86600, 5, "editor's shot")
    else:
        timeline.SetTrackName("video", 2, "VFX")
    revert(gw, record.id)
    assert timeline.GetTrackCount("video") == 2 and _ours(timeline) == []
    assert [it._name for it in timeline.GetItemListInTrack("video", 2)] == (
        ["editor's shot"] if claim == "cut onto it" else []
    )


def test_fill_through_the_real_engine_and_conform(connect):
    """The worker's clip maker: plan, the job engine (draft model), conform to the project settings."""
    from promptreel.core.conform.probe import probe
    from promptreel.resolve_plugin.worker import clip_maker

    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = connect(resolve)
    report = fill(gw, clip_maker(gw))
    assert report.failed == []
    placed = sorted(_ours(timeline), key=lambda it: it._start)
    assert [(it._track, it._start, it._duration) for it in placed] == [(2, 86410, 30), (2, 86440, 17)]
    for item, frames in zip(placed, (30, 17)):
        info = probe(item.GetMediaPoolItem()._path)
        assert (info.frames, info.rate, info.width, info.height) == (frames, Fraction(24000, 1001), 320, 180)
        assert info.pix_fmt == "yuv422p10le"  # ProRes 422 HQ, the panel's default codec
    assert report.edits[0].job_id.startswith("job_")
    # One engine batch for the whole fill (shared route limits, concurrency and budget), and every job
    # on the ledger under the Resolve project's name.
    from promptreel.core.journal import Journal

    journal = Journal.open_default()
    jobs = journal.jobs()
    assert len(jobs) == 2 and len({j.batch_id for j in jobs}) == 1
    assert journal.spend(by="project") == [("Spot", 0.0, 2)]


class _OneFails:
    """A batch maker (has `many`, as the engine's does) whose second slot gets no clip."""

    def __init__(self, inner: TestPatternMaker):
        self.inner, self.batches = inner, []

    def many(self, slots):
        self.batches.append(len(slots))
        return [
            self.inner(s) if i != 1 else MadeClip.failed(s, "No clip for 'storm': the provider refused the prompt.")
            for i, s in enumerate(slots)
        ]


def test_a_batch_is_made_in_one_call_and_a_failed_slot_does_not_stop_the_others(connect, maker):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    batch = _OneFails(maker)
    report = fill(gw, batch)
    assert batch.batches == [2]
    assert [(it._track, it._start, it._duration) for it in _ours(timeline)] == [(2, 86410, 30)]
    ((label, error),) = report.failed
    assert "GEN: storm" in label and "refused the prompt" in error
    v1 = timeline.GetItemListInTrack("video", 1)
    assert [it.GetClipEnabled() for it in v1] == [False, True, True]  # the failed slot's placeholder untouched
