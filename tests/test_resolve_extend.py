"""Extend a clip in Resolve (connected), through both gateways, against the double: the model gets the clip's
last shown frame, the extension lands right after the clip (its own track, else the track above, else a new
one) from the take's second frame, nothing else changes, and the recorded edit reverts it."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from promptreel.core.errors import UserError
from promptreel.resolve_plugin import edits
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.extend import extend
from promptreel.resolve_plugin.fill import revert
from promptreel.resolve_plugin.gateway import BridgeGateway, DirectGateway
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import FakeResolve, MediaPoolItem
from tests.test_otio_extend import _luma, _ramp


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))


@pytest.fixture(params=["direct", "bridge"])
def connect(request):
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


def _cut(tmp_path, gap: int, length: int = 12, media: int = 48):
    """V1: A (ramp source 10.., `length` frames) at the start, B `gap` frames after A's end, a Text+ after B."""
    ramp = _ramp(tmp_path / "ramp.mov", frames=media)
    resolve = FakeResolve()
    project = resolve._new_project(rate="24", width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Cut 1")
    mpi = MediaPoolItem(ramp, Fraction(24), 320, 180, media)
    mpi._folder = pool.GetRootFolder()
    mpi._folder._clips.append(mpi)
    start = timeline.GetStartFrame()
    a = timeline._add(1, start, length, "A", mpi, left=10)
    timeline._add(1, start + length + gap, 12, "B", mpi, left=30)
    title = timeline._add(1, start + length + 12 + gap, 24, "Text+", kind="generator")
    return resolve, timeline, ramp, a, title


def _layout(timeline):
    return sorted((it._track, it._start, it._duration, it._name, it._left) for it in timeline._items())


@pytest.mark.parametrize("frames, gap, track", [(12, 30, 1), (60, 30, 2)])
def test_a_tail_extension_lands_after_the_clip_and_reverts(connect, tmp_path, frames, gap, track):
    resolve, timeline, ramp, a, _ = _cut(tmp_path, gap)
    before = _layout(timeline)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="kling-v3")
    record = extend(gw, maker, a.GetUniqueId(), frames, model="kling-v3", prompt="the light keeps rising")
    (slot,) = maker.slots
    assert slot.frames == frames + 1 and slot.prompt == "the light keeps rising"
    assert _luma(slot.first_frame) == _luma(ramp, 21)  # A's last shown frame
    ours = [it for it in timeline._items() if it._mpi is not None and it._mpi._path.parent == tmp_path / "made"]
    (placed,) = ours
    start = timeline.GetStartFrame()
    assert (placed._track, placed._start, placed._duration, placed._left) == (track, start + 12, frames, 1)
    assert [x for x in _layout(timeline) if x[3] != placed._name] == before  # nothing else moved
    assert record.kind == "extend" and record.placed.added_track == (track == 2)
    assert [r.id for r in edits.all_records()] == [record.id]

    revert(gw, record.id)
    assert _layout(timeline) == before
    assert sorted(timeline._tracks) == [1]  # the track the extension added is gone


@pytest.mark.parametrize(
    "case, message",
    [
        ("generator", "is a generator"),
        ("offline", "its media is offline"),
        ("draft", "the draft model takes no first frame"),
        ("too long", "at most 359 frames"),
    ],
)
def test_refusals_come_before_any_spend(connect, tmp_path, case, message):
    resolve, timeline, ramp, a, title = _cut(tmp_path, 30)
    if case == "offline":
        a._mpi._path = tmp_path / "gone.mov"
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="kling-v3")
    item = title if case == "generator" else a
    with pytest.raises(UserError) as e:
        extend(
            gw,
            maker,
            item.GetUniqueId(),
            400 if case == "too long" else 12,
            model=None if case == "draft" else "kling-v3",
        )
    assert message in str(e.value)
    assert maker.slots == [] and edits.all_records() == []


def test_find_item_by_name_is_unique_or_refused(connect, tmp_path):
    from promptreel.resolve_plugin.extend import find_item

    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30)
    state = connect(resolve).timeline()
    assert find_item(state, "A") == a.GetUniqueId()
    with pytest.raises(UserError, match="No clip"):
        find_item(state, "Z")


def test_the_panel_extends_the_selected_clip_and_reverts_it(tmp_path, monkeypatch):
    import httpx

    from promptreel.resolve_plugin.panel import Panel

    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30)
    before = _layout(timeline)
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    panel = Panel(BridgeGateway(*bridge.address, token=bridge.token), TestPatternMaker(tmp_path / "made", "kling-v3"))
    panel.start()
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token}
        ) as client:
            page = client.get(panel.sign_in_url(), follow_redirects=True).text
            assert "Extend selected clip" in page
            clips = client.get("/api/state").json()["clips"]
            assert [c["name"] for c in clips] == ["A", "B"]
            refused = client.post("/api/extend", json={"item_id": clips[0]["id"], "frames": 400, "model": "kling-v3"})
            assert refused.status_code != 200 and "at most 359 frames" in refused.text
            r = client.post("/api/extend", json={"item_id": clips[0]["id"], "frames": 12, "model": "kling-v3"})
            assert r.status_code == 200, r.text
            answer = r.json()
            assert (answer["track"], answer["start"]) == (1, timeline.GetStartFrame() + 12)
            assert len(_layout(timeline)) == len(before) + 1
            assert client.post("/api/revert", json={"edit_id": answer["edit"]}).status_code == 200
    finally:
        panel.stop()
        bridge.stop()
        thread.join(10)
    assert _layout(timeline) == before
