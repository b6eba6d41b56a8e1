"""A/B and variants fills of Resolve placeholders: the first take placed as any fill, the others in the
placed item's Take Selector (frame-exact, read back), else side by side in the bin; revert; promote."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import pytest

from promptreel.core.errors import UserError
from promptreel.core.journal import Journal
from promptreel.core.takes import list_takes, promote_slot
from promptreel.resolve_plugin import bins, edits
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.errors import ResolveRefused
from promptreel.resolve_plugin.fill import fill, promote, revert
from promptreel.resolve_plugin.gateway import BridgeGateway, Clip, ClipImport
from promptreel.resolve_plugin.placeholders import find_placeholders
from tests.fakes import resolve as fake
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import cut_with_placeholders, pool_bins
from tests.test_resolve_browser import browser_page, open_panel, worker  # noqa: F401  (Chromium; the worker's panel)
from tests.test_resolve_fill import connect, home  # noqa: F401  (fixtures: both gateways, a private home)  # noqa: F401  (fixtures: both gateways, a private home)
from tests.test_resolve_panel import scene  # noqa: F401  (the panel over real HTTP, the bridge behind it)

AB = ["draft", "ltx-2.3-fast"]


class PerModel:
    """A test-pattern clip per slot, made as the slot's model (at `rates[model]` where given)."""

    def __init__(self, out: Path, rates: dict[str, Fraction] | None = None):
        self.out, self.rates, self.makers = out, rates or {}, {}
        self.slots = []

    def __call__(self, slot):
        self.slots.append(slot)
        maker = self.makers.setdefault(
            slot.model, TestPatternMaker(self.out / slot.model, model=slot.model, rate=self.rates.get(slot.model))
        )
        return maker(slot)


def _solid(timeline):
    return timeline.GetItemListInTrack("video", 1)[0]


def _placed(timeline):
    (item,) = [it for it in timeline._items() if it._mpi is not None]
    return item


def _snapshot(timeline):
    return [(it._track, it._start, it._duration, it._enabled, it._mpi) for it in timeline._items()]


def _journal():
    j = Journal.open_default()
    try:
        return list_takes(j)
    finally:
        j.close()


def test_ab_fill_puts_the_other_take_in_the_take_selector_frame_exact(connect, tmp_path):
    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = connect(resolve)
    maker = PerModel(tmp_path / "made")
    report = fill(gw, maker, item_ids=[_solid(timeline).GetUniqueId()], models=AB)
    assert report.failed == []
    assert [(s.model, s.frames, s.rate) for s in maker.slots] == [
        ("draft", 30, Fraction(24000, 1001)),
        ("ltx-2.3-fast", 30, Fraction(24000, 1001)),
    ]
    item = _placed(timeline)
    assert (item._track, item.GetStart(), item.GetDuration()) == (2, 86410, 30)
    assert item.GetTakesCount() == 2 and item.GetSelectedTakeIndex() == 1  # the first take still shows
    takes = [item.GetTakeByIndex(i) for i in (1, 2)]
    assert [t["mediaPoolItem"].GetName() for t in takes] == ["Solid Color — draft", "Solid Color — ltx-2.3-fast"]
    assert [(t["startFrame"], t["endFrame"]) for t in takes] == [(0, 30), (0, 30)]
    assert item.SelectTakeByIndex(2) and (item.GetStart(), item.GetDuration()) == (86410, 30)
    (shot,) = report.takes
    assert (shot.placed, shot.selector, shot.in_bin) == ("Solid Color — draft", ["Solid Color — ltx-2.3-fast"], [])
    # Both recorded as one A/B group, each knowing its pool item, so either can be promoted.
    recorded = _journal()
    assert {t.kind for t in recorded} == {"ab"} and [t.model for t in recorded] == AB
    assert [t.provenance["resolve_clip"] for t in recorded] == [t["mediaPoolItem"].GetUniqueId() for t in takes]
    assert [t.provenance["resolve_take"] for t in recorded] == ["placed", "selector"]
    (record,) = edits.all_records()
    assert record.placed.takes == [takes[1]["mediaPoolItem"].GetUniqueId()]
    # Neither the filled placeholder nor its take selector is a placeholder any more.
    assert [p.item.name for p in find_placeholders(gw.timeline())] == ["GEN: storm over the sea"]


def test_an_ab_fill_imports_each_placeholders_takes_in_one_round_trip(tmp_path):
    """Bridge round trips (the bench's counter) for an A/B fill of N placeholders: project and timeline once,
    one track added, then per placeholder one import of both takes (imported, tagged, named, read back),
    one place (append, disable the placeholder, read the track back over the slot), AddTake — 3, as against
    6 with a timeline read before and after each append, and 11 importing take by take."""
    n = 3
    resolve = fake.FakeResolve()
    timeline = resolve._new_project(rate="24", width=320, height=180).GetMediaPool().CreateEmptyTimeline("AB")
    for i in range(n):
        timeline._add(1, 86400 + 12 * i, 12, f"GEN: shot {i}", kind="generator")
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    try:
        gw = BridgeGateway(*bridge.address, token=bridge.token)
        report = fill(gw, PerModel(tmp_path / "made"), models=AB)
        assert report.failed == [] and [len(t.selector) for t in report.takes] == [1] * n
        assert gw.round_trips == 2 + 1 + 3 * n
    finally:
        bridge.stop()
        thread.join(10)
    placed = [it for it in timeline._items() if it._mpi is not None]
    assert [(it.GetStart(), it.GetDuration(), it.GetTakesCount()) for it in placed] == [
        (86400 + 12 * i, 12, 2) for i in range(n)
    ]
    taken = [it.GetTakeByIndex(2)["mediaPoolItem"] for it in placed]
    assert [m.GetName() for m in taken] == [f"GEN: shot {i} — ltx-2.3-fast" for i in range(n)]
    assert all(
        m._folder.GetName() == "ltx-2.3-fast"
        and m.GetMetadata("Keywords") == "AI generated"
        and m.GetThirdPartyMetadata("promptreel.model") == "ltx-2.3-fast"
        for m in taken
    )


def test_import_clips_answers_per_file_and_restores_the_current_folder(connect, tmp_path):
    resolve, _ = cut_with_placeholders()
    gw = connect(resolve)
    pool = resolve.GetProjectManager().GetCurrentProject().GetMediaPool()
    before = pool.GetCurrentFolder()
    good = TestPatternMaker(tmp_path / "made")(fake_slot(6)).path
    bad = tmp_path / "not-video.mov"
    bad.write_bytes(b"not a movie")
    got = gw.import_clips(
        [
            ClipImport(path=str(good), bin=["promptreel", "a"], name="shot — a", color="Teal"),
            ClipImport(path=str(bad), bin=["promptreel", "a"]),
            ClipImport(path=str(good), bin=["promptreel", "b"], metadata={"Keywords": "AI generated"}, color="Mauve"),
        ]
    )
    assert isinstance(got[0], Clip) and got[0].name == "shot — a" and got[0].failed == []
    assert got[1] == "Resolve did not import not-video.mov."
    assert isinstance(got[2], Clip) and got[2].metadata["Keywords"] == "AI generated" and got[2].failed == ["color"]
    assert set(pool_bins(resolve)) >= {("promptreel", "a"), ("promptreel", "b")}
    assert pool.GetCurrentFolder() is before


def test_an_import_refused_as_a_whole_fails_each_take_and_still_records_them(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    before = _snapshot(timeline)
    report = fill(
        gw, PerModel(tmp_path / "made"), item_ids=[_solid(timeline).GetUniqueId()], models=AB, bin_template="{scene}"
    )  # refused as the takes are imported, after they were made
    assert [label for label, _ in report.failed] == ["'Solid Color' on V1 at frame 86410", "Solid Color — ltx-2.3-fast"]
    assert all("other than {model}" in why for _, why in report.failed)
    assert report.edits == [] and _snapshot(timeline) == before
    assert [(t.model, "other than {model}" in t.error) for t in _journal()] == [(m, True) for m in AB]


def test_variants_are_takes_with_their_own_seeds(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    maker = PerModel(tmp_path / "made")
    report = fill(gw, maker, item_ids=[_solid(timeline).GetUniqueId()], model="draft", variants=3)
    assert report.failed == []
    item = _placed(timeline)
    assert item.GetTakesCount() == 3
    assert [item.GetTakeByIndex(i)["mediaPoolItem"].GetName() for i in (1, 2, 3)] == [
        f"Solid Color — draft #{n}" for n in (1, 2, 3)
    ]
    assert len({s.seed for s in maker.slots}) == 3
    assert [t.kind for t in _journal()] == ["variants"] * 3


def test_a_take_landing_a_frame_short_is_refused_and_rolled_back(connect, tmp_path):
    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = connect(resolve)
    # ltx's clip comes at 24 fps on a 23.976 timeline: AddTake floors its extent to 29 frames (quirk 5).
    maker = PerModel(tmp_path / "made", rates={"ltx-2.3-fast": Fraction(24)})
    report = fill(gw, maker, item_ids=[_solid(timeline).GetUniqueId()], models=AB)
    item = _placed(timeline)
    assert item.GetTakesCount() == 0 and item.GetSelectedTakeIndex() == 0  # finalized back to the plain fill
    assert (item.GetStart(), item.GetDuration(), item.GetMediaPoolItem().GetName()) == (
        86410,
        30,
        "Solid Color — draft",
    )
    ((label, why),) = report.failed
    assert label == "Solid Color — ltx-2.3-fast" and "lasts 29 frames" in why and "in the bin" in why
    assert report.takes[0].selector == [] and report.takes[0].in_bin == ["Solid Color — ltx-2.3-fast"]
    assert "Solid Color — ltx-2.3-fast" in [n for names in pool_bins(resolve).values() for n in names]
    short = _journal()[1]
    assert short.model == "ltx-2.3-fast" and "lasts 29 frames" in short.error
    assert edits.all_records()[0].placed.takes == []


def test_a_short_take_among_good_ones_leaves_the_good_ones_in_the_selector(connect, tmp_path):
    resolve, timeline = cut_with_placeholders(rate="24")
    gw = connect(resolve)
    maker = PerModel(tmp_path / "made", rates={"ltx-2.3-fast": Fraction(25)})
    report = fill(
        gw, maker, item_ids=[_solid(timeline).GetUniqueId()], models=["draft", "ltx-2.3-fast", "veo-3.1-fast"]
    )
    item = _placed(timeline)
    assert [item.GetTakeByIndex(i)["mediaPoolItem"].GetName() for i in (1, 2)] == [
        "Solid Color — draft",
        "Solid Color — veo-3.1-fast",
    ]
    assert item.GetTakesCount() == 2 and item.GetSelectedTakeIndex() == 1 and item.GetDuration() == 30
    assert [name for name, _ in report.failed] == ["Solid Color — ltx-2.3-fast"]


def test_revert_removes_the_takes_and_restores_exactly(connect, tmp_path, monkeypatch):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    before = _snapshot(timeline)
    report = fill(gw, PerModel(tmp_path / "made"), models=AB, variants=2)
    assert len(report.edits) == 2 and report.failed == []
    assert [len(s.selector) for s in report.takes] == [3, 3]
    first, second = sorted((it for it in timeline._items() if it._mpi is not None), key=lambda it: it._start)
    first.SelectTakeByIndex(3)  # the editor switched to another take meanwhile,
    assert second.SelectTakeByIndex(2) and second.FinalizeTake()  # and settled on one for the other shot
    calls = []
    for name in ("DeleteTakeByIndex", "FinalizeTake"):
        monkeypatch.setattr(fake.TimelineItem, name, _spy(getattr(fake.TimelineItem, name), name, calls))
    for record in report.edits:
        assert revert(gw, record.id).reverted
    assert calls.count("DeleteTakeByIndex") == 3 and calls.count("FinalizeTake") == 1
    assert _snapshot(timeline) == before
    assert timeline.GetTrackCount("video") == 1  # the track the fill added is gone again
    # Paid media is never lost: all eight takes are still in the bins.
    assert sum(len(names) for names in pool_bins(resolve).values()) == 8


def _spy(real, name, calls):
    def wrapper(self, *args):
        calls.append(name)
        return real(self, *args)

    return wrapper


@pytest.mark.parametrize("how", ["refused", "absent"])
def test_without_a_take_selector_the_takes_land_side_by_side_in_the_bin(connect, tmp_path, monkeypatch, how):
    resolve, timeline = cut_with_placeholders()
    if how == "refused":
        resolve.faults["refuse_add_take"] = True
    else:  # an API without AddTake: dir() does not list it (quirk 11), calling it gives None
        monkeypatch.delattr(fake.TimelineItem, "AddTake")
    gw = connect(resolve)
    report = fill(gw, PerModel(tmp_path / "made"), item_ids=[_solid(timeline).GetUniqueId()], models=AB)
    assert report.failed == []
    item = _placed(timeline)
    assert item.GetTakesCount() == 0 and (item.GetStart(), item.GetDuration()) == (86410, 30)
    (shot,) = report.takes
    assert shot.selector == [] and shot.in_bin == ["Solid Color — ltx-2.3-fast"]
    assert "side by side in the bin" in shot.note
    assert pool_bins(resolve)[("promptreel", "ltx-2.3-fast")] == ["Solid Color — ltx-2.3-fast"]
    assert [t.provenance["resolve_take"] for t in _journal()] == ["placed", "bin"]


def test_a_draft_is_replaced_in_place_and_its_other_takes_go_to_the_bin(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "drafts"), fake_slot(24))
    gw.add_track()
    gw.place(draft.id, 0, 24, 2, 86700)
    (use,) = [it for it in timeline._items() if it._mpi is not None]
    report = fill(gw, PerModel(tmp_path / "made"), item_ids=[use.GetUniqueId()], models=AB)
    (record,) = report.edits
    assert record.kind == "draft" and use.GetTakesCount() == 0
    assert use._mpi.GetUniqueId() == draft.id and use._mpi._path != Path(draft.path)
    (shot,) = report.takes
    assert shot.in_bin == ["draft-001.mov — ltx-2.3-fast"] and "replaced in place" in shot.note
    revert(gw, record.id)
    assert use._mpi._path == Path(draft.path)


def fake_slot(frames):
    from promptreel.core.request import Slot

    return Slot(frames=frames, rate=24, size="320x180", prompt="a lighthouse at dusk")


def test_promote_works_on_a_take_in_the_selector(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    fill(gw, PerModel(tmp_path / "made"), item_ids=[_solid(timeline).GetUniqueId()], models=AB)
    b = _journal()[1]
    item = _placed(timeline)
    old = item.GetTakeByIndex(2)["mediaPoolItem"]._path
    record, made = promote(
        gw, TestPatternMaker(tmp_path / "final"), b.provenance["resolve_clip"], promote_slot(b.slot, b, "draft")
    )
    take = item.GetTakeByIndex(2)
    assert take["mediaPoolItem"]._path == made.path != old and (take["startFrame"], take["endFrame"]) == (0, 30)
    assert item.GetSelectedTakeIndex() == 1 and item.GetDuration() == 30
    revert(gw, record.id)
    assert item.GetTakeByIndex(2)["mediaPoolItem"]._path == old


def test_the_panel_fills_with_takes_and_prices_every_take_first(scene):
    _, client, timeline = scene
    solid = client.get("/api/state").json()["placeholders"][0]
    body = {"item_ids": [solid["id"]], "models": ["draft", "veo-3.1-fast"]}
    one = client.post("/api/estimate", json={"item_ids": [solid["id"]]}).json()
    both = client.post("/api/estimate", json={**body, "variants": 2}).json()
    assert [x["model"] for x in one["lines"]] == ["draft"]
    assert [x["model"] for x in both["lines"]] == ["draft", "veo-3.1-fast"] and both["total_usd"] > 0
    r = client.post("/api/fill", json={**body, "models": ["draft"]})  # one model is no A/B: refused, nothing made
    assert r.status_code == 400 and "two models" in r.json()["error"]
    assert [it for it in timeline._items() if it._mpi is not None] == []
    r = client.post("/api/fill", json=body)
    assert r.status_code == 200, r.text
    (shot,) = r.json()["takes"]
    assert shot["placed"] == "Solid Color — draft" and shot["selector"] == ["Solid Color — veo-3.1-fast"]
    assert _placed(timeline).GetTakesCount() == 2
    takes = client.get("/api/takes").json()["takes"]
    assert [(t["kind"], t["shot"], t["frames"]) for t in takes] == [("ab", "Solid Color", 30)] * 2
    assert client.post("/api/revert", json={"edit_id": r.json()["filled"][0]}).status_code == 200
    assert [it for it in timeline._items() if it._mpi is not None] == []


def test_variants_through_the_real_engine_are_one_batch_of_takes(connect):
    """The worker's clip maker (plan, job engine on the draft model, conform): two seeds, two jobs, one batch."""
    from promptreel.resolve_plugin.worker import clip_maker

    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = connect(resolve)
    report = fill(gw, clip_maker(gw), item_ids=[_solid(timeline).GetUniqueId()], model="draft", variants=2)
    assert report.failed == []
    item = _placed(timeline)
    takes = [item.GetTakeByIndex(i) for i in (1, 2)]
    assert [(t["startFrame"], t["endFrame"]) for t in takes] == [(0, 30), (0, 30)]
    j = Journal.open_default()
    try:
        jobs = j.jobs()
        recorded = list_takes(j)
    finally:
        j.close()
    assert len(jobs) == 2 and len({x.batch_id for x in jobs}) == 1
    assert sorted(t.job_id for t in recorded) == sorted(x.id for x in jobs)
    assert len({t.seed for t in recorded}) == 2


def test_takes_without_a_model_are_refused_before_anything_is_made(connect, tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    maker = PerModel(tmp_path / "made")
    with pytest.raises(UserError, match="No model was named"):
        fill(gw, maker, variants=2)
    with pytest.raises(UserError, match="more than once"):
        fill(gw, maker, models=["draft", "draft"])
    assert maker.slots == [] and gw.timeline().tracks[0].items[0].enabled


def test_take_operations_check_their_arguments_and_the_item(connect):
    resolve, _ = cut_with_placeholders()
    gw = connect(resolve)
    with pytest.raises(ResolveRefused, match="needs item_id, takes, frames"):
        gw.call("add_takes", item_id="x")
    with pytest.raises(ResolveRefused, match="no longer on the current timeline"):
        gw.remove_takes("item-gone", ["mpi-x"])


def test_fill_with_ab_takes_from_the_browser(browser_page, worker):
    """The panel's Fill control: A/B takes on the chosen model and model B, through the engine and the bridge."""
    page = browser_page
    panel, gw, resolve, timeline = worker
    before = _snapshot(timeline)
    open_panel(page, panel)
    page.wait_for_function("document.querySelectorAll('#fill-model-b option').length > 1")
    page.select_option("#model", "draft")
    page.check("#fill-ab")
    page.select_option("#fill-model-b", "ltx-2.3-fast")
    page.locator("#placeholders tbody tr", has_text="Solid Color").locator("input[type=checkbox]").check()
    page.evaluate("document.getElementById('message').textContent = ''")
    page.click("#fill-selected")
    page.wait_for_function("document.getElementById('message').textContent !== ''")
    message = page.inner_text("#message")
    assert (
        "Filled." in message
        and "Solid Color — draft placed; in the Take Selector: Solid Color — ltx-2.3-fast" in message
    )
    page.wait_for_function("document.querySelector('#edits tbody').textContent.includes('Take Selector')")
    assert "in the Take Selector: Solid Color — ltx-2.3-fast" in page.inner_text("#edits")
    item = _placed(timeline)
    assert (item._track, item.GetStart(), item.GetDuration(), item.GetTakesCount()) == (2, 86410, 30, 2)
    assert [item.GetTakeByIndex(i)["mediaPoolItem"].GetName() for i in (1, 2)] == [
        "Solid Color — draft",
        "Solid Color — ltx-2.3-fast",
    ]
    assert item.GetTakeByIndex(2)["mediaPoolItem"].GetMetadata("Comments").startswith("ltx-2.3-fast")
    page.locator("#edits button", has_text="Revert").first.click()
    page.wait_for_function("document.querySelectorAll('#edits button').length === 0")
    assert _snapshot(timeline) == before
