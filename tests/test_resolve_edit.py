"""Edit a clip in Resolve with a prompt (video-to-video, connected), through both gateways, against the double:
the used range plus handles is cut exactly and sent; the result becomes a take of the clip in its Take
Selector showing the clip's own frames, the original still showing; the recorded edit reverts it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import UserError
from promptreel.resolve_plugin import edits
from promptreel.resolve_plugin.edit import edit
from promptreel.resolve_plugin.fill import revert
from tests.fakes.clips import TestPatternMaker
from tests.test_otio_extend import _luma
from tests.test_resolve_extend import _cut, _layout, connect, home  # noqa: F401 - fixtures


def test_an_edit_with_handles_becomes_a_take_of_exactly_the_clip_and_reverts(connect, tmp_path):  # noqa: F811
    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30)  # A shows source 10..21 of a 48-frame ramp
    before = _layout(timeline)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="grok-imagine-video")
    record = edit(gw, maker, a.GetUniqueId(), "make it dusk", model="grok-imagine-video", handles=8)
    (slot,) = maker.slots
    assert (slot.frames, slot.prompt, slot.model) == (28, "make it dusk", "grok-imagine-video")
    sent = probe(slot.remix_of)
    assert (sent.frames, sent.rate) == (28, Fraction(24))  # source 2..29: 8 + 12 + 8, exactly
    assert abs(_luma(slot.remix_of, 0) - _luma(ramp, 2)) <= 1 and abs(_luma(slot.remix_of, 27) - _luma(ramp, 29)) <= 1

    assert a.GetTakesCount() == 2 and a.GetSelectedTakeIndex() == 1  # the original still shows
    take = a.GetTakeByIndex(2)
    assert (take["startFrame"], take["endFrame"]) == (8, 20)  # the clip's 12 frames, inside the handles
    assert take["mediaPoolItem"].GetClipProperty("Frames") in ("28", 28)
    assert _layout(timeline) == before  # nothing moved
    assert record.kind == "edit" and [r.id for r in edits.all_records()] == [record.id]

    revert(gw, record.id)
    assert a.GetTakesCount() == 0 and _layout(timeline) == before
    assert edits.all_records()[0].reverted


@pytest.mark.parametrize(
    "model, handles, message",
    [
        ("kling-v3", 0, "does not edit video"),
        (None, 0, "No model to edit with"),
        ("grok-imagine-video", -1, "-1 handle frames"),
    ],
)
def test_refusals_come_before_any_spend(connect, tmp_path, model, handles, message):  # noqa: F811
    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="grok-imagine-video")
    with pytest.raises(UserError) as e:
        edit(gw, maker, a.GetUniqueId(), "dusk", model=model, handles=handles)
    assert message in str(e.value)
    assert maker.slots == [] and edits.all_records() == []


def test_the_panel_edits_the_selected_clip(tmp_path):
    import threading

    import httpx

    from promptreel.resolve_plugin.bridge.server import Bridge
    from promptreel.resolve_plugin.gateway import BridgeGateway
    from promptreel.resolve_plugin.panel import Panel

    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30)
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    panel = Panel(
        BridgeGateway(*bridge.address, token=bridge.token), TestPatternMaker(tmp_path / "made", "grok-imagine-video")
    )
    panel.start()
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token}
        ) as client:
            assert "Edit selected clip" in client.get(panel.sign_in_url(), follow_redirects=True).text
            item = client.get("/api/state").json()["clips"][0]["id"]
            r = client.post(
                "/api/edit", json={"item_id": item, "instruction": "rain", "model": "grok-imagine-video", "handles": 4}
            )
            assert r.status_code == 200, r.text
            assert a.GetTakesCount() == 2
            assert client.post("/api/revert", json={"edit_id": r.json()["edit"]}).status_code == 200
    finally:
        panel.stop()
        bridge.stop()
        thread.join(10)
    assert a.GetTakesCount() == 0


def test_a_61_frame_clip_with_8_frame_handles_comes_back_as_a_61_frame_take(connect, tmp_path):  # noqa: F811
    resolve, timeline, ramp, a, _ = _cut(tmp_path, 30, length=61, media=96)  # A shows source 10..70
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="grok-imagine-video")
    edit(gw, maker, a.GetUniqueId(), "make it dusk", model="grok-imagine-video", handles=8)
    assert probe(maker.slots[0].remix_of).frames == 77
    take = a.GetTakeByIndex(2)
    assert (take["startFrame"], take["endFrame"]) == (8, 69)  # 61 frames inside 8-frame handles
    assert (a.GetStart(), a.GetDuration()) == (timeline.GetStartFrame(), 61)  # at the clip's record frames


@pytest.mark.parametrize("split, sizes", [("", [29, 20, 28]), ("20,36", [28, 16, 33])])
def test_a_split_edit_of_61_frames_is_one_take_of_exactly_the_clip(connect, tmp_path, split, sizes):  # noqa: F811
    """With the model's edit limit at 1.5 s (36 frames), 61 frames and 8-frame handles go as pieces, one job each,
    joined into one take of exactly 8 + 61 + 8 frames whose shown frames are the clip's own."""
    import os

    from promptreel.core.catalog import default_catalog

    data = Path(os.environ["PROMPTREEL_HOME"])
    data.mkdir(parents=True, exist_ok=True)
    (data / "catalog.toml").write_text("[models.grok-imagine-video]\nedit_max_seconds = 1.5\n")
    (data / "settings.toml").write_text(f'catalog_file = "{data / "catalog.toml"}"\n')
    default_catalog.cache_clear()
    try:
        resolve, timeline, ramp, a, _ = _cut(tmp_path, 30, length=61, media=100)
        before = _layout(timeline)
        gw = connect(resolve)
        maker = TestPatternMaker(tmp_path / "made", model="grok-imagine-video")
        with pytest.raises(UserError, match=r"edits at most 1.5 s \(36 frames at 24 fps\)"):
            edit(gw, maker, a.GetUniqueId(), "dusk", model="grok-imagine-video", handles=8)
        assert maker.slots == []
        record = edit(gw, maker, a.GetUniqueId(), "dusk", model="grok-imagine-video", handles=8, split=split)
    finally:
        default_catalog.cache_clear()
    # Each piece at most 36 frames, the outer ones with handles (made at once: in any order).
    assert sorted(s.frames for s in maker.slots) == sorted(sizes)
    assert sorted(probe(s.remix_of).frames for s in maker.slots) == sorted(sizes)
    take = a.GetTakeByIndex(2)
    assert take["mediaPoolItem"].GetClipProperty("Frames") in ("77", 77)  # the pieces joined: 8 + 61 + 8, exactly
    assert probe(Path(take["mediaPoolItem"].GetClipProperty("File Path"))).frames == 77
    assert (take["startFrame"], take["endFrame"]) == (8, 69)  # the clip's 61 frames, at its own record frames
    assert a.GetSelectedTakeIndex() == 1 and _layout(timeline) == before
    revert(gw, record.id)
    assert a.GetTakesCount() == 0 and _layout(timeline) == before
