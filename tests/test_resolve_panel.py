"""The panel over real loopback HTTP: token, Host and Origin checks; state, fill, revert, generate."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.gateway import BridgeGateway
from promptreel.resolve_plugin.panel import Panel
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import cut_with_placeholders


@pytest.fixture
def scene(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))
    resolve, timeline = cut_with_placeholders()
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    panel = Panel(BridgeGateway(*bridge.address, token=bridge.token), TestPatternMaker(tmp_path / "made"))
    panel.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token})
    yield panel, client, timeline
    client.close()
    panel.stop()
    bridge.stop()
    thread.join(10)


def test_page_needs_the_token_and_the_right_host_and_origin(scene):
    panel, client, _ = scene
    assert client.get("/", params={"token": panel.token}).status_code == 200
    assert "Fill all" in client.get("/", params={"token": panel.token}).text
    assert client.get("/").status_code == 403
    assert client.get("/", params={"token": "nope"}).status_code == 403
    assert client.get("/api/state", headers={"X-Promptreel-Token": "nope"}).status_code == 403
    # DNS rebinding: a foreign name resolving to 127.0.0.1
    assert client.get("/api/state", headers={"Host": f"evil.example:{panel.port}"}).status_code == 403
    assert client.post("/api/fill", json={}, headers={"Origin": "http://evil.example"}).status_code == 403


def test_state_fill_and_revert_change_the_timeline(scene):
    _, client, timeline = scene
    state = client.get("/api/state").json()
    assert state["timeline"] == "Cut 1" and len(state["placeholders"]) == 2
    first = state["placeholders"][0]["id"]
    result = client.post("/api/fill", json={"item_ids": [first]}).json()
    assert len(result["filled"]) == 1 and result["failed"] == []
    placed = [it for it in timeline._items() if it._mpi is not None]
    assert [(it._track, it._start, it._duration) for it in placed] == [(2, 86410, 30)]
    state = client.get("/api/state").json()
    assert len(state["placeholders"]) == 1 and state["edits"][0]["reverted"] is False
    assert client.post("/api/revert", json={"edit_id": result["filled"][0]}).status_code == 200
    assert [it for it in timeline._items() if it._mpi is not None] == []
    assert len(client.get("/api/state").json()["placeholders"]) == 2


def test_errors_are_plain_words(scene):
    _, client, _ = scene
    r = client.post("/api/generate", json={"prompt": "", "frames": 24})
    assert r.status_code == 400 and "prompt is empty" in r.json()["error"]
    r = client.post("/api/generate", json={"prompt": "waves", "frames": 12, "variants": 2})
    assert r.status_code == 200 and len(r.json()["clips"]) == 2
    r = client.post("/api/fill", content=b"[1,2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_job_list_shows_each_fill_and_its_revert(scene):
    _, client, _ = scene
    assert client.get("/api/jobs").json() == {"jobs": []}
    first = client.get("/api/state").json()["placeholders"][0]
    (edit_id,) = client.post("/api/fill", json={"item_ids": [first["id"]]}).json()["filled"]
    (job,) = client.get("/api/jobs").json()["jobs"]
    assert job["id"] == edit_id and job["kind"] == "fill" and job["state"] == "in place"
    assert "Cut 1" in job["title"] and "job-001" in job["detail"]
    client.post("/api/revert", json={"edit_id": edit_id}).raise_for_status()
    assert client.get("/api/jobs").json()["jobs"][0]["state"] == "reverted"


def test_engine_jobs_plug_into_the_list(tmp_path, monkeypatch):
    from promptreel.resolve_plugin.panel import JobRow

    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))
    resolve, _ = cut_with_placeholders()
    from promptreel.resolve_plugin.gateway import DirectGateway

    row = JobRow(id="j1", kind="engine", title="veo-3.1 'a fox'", state="running", progress=0.4,
                 created="2026-11-23T09:00:00+00:00")
    panel = Panel(DirectGateway(resolve), None, engine_jobs=lambda: [row])
    panel.start()
    try:
        jobs = httpx.get(f"http://127.0.0.1:{panel.port}/api/jobs", headers={"X-Promptreel-Token": panel.token}).json()
    finally:
        panel.stop()
    assert jobs["jobs"] == [row.model_dump()]


def test_estimate_and_budget_refusal_before_anything_is_placed(scene):
    panel, client, timeline = scene
    client.post("/api/settings", json={"model": "veo-3.1", "budget_usd": 2}).raise_for_status()
    cost = client.post("/api/estimate", json={}).json()
    assert [line["cost_usd"] for line in cost["lines"]] == [1.6, 1.6]  # 4 s each at $0.40/s
    assert cost["total_usd"] == 3.2 and cost["over_budget"] is True
    refused = client.post("/api/fill", json={})
    assert refused.status_code == 400 and "over the panel's budget of $2.00" in refused.json()["error"]
    assert [it for it in timeline._items() if it._mpi is not None] == [] and panel.make_clip.slots == []
    refused = client.post("/api/generate", json={"prompt": "waves", "frames": 24, "variants": 2})
    assert refused.status_code == 400 and "$3.20" in refused.json()["error"]
    # Within budget: the fill goes ahead, on the chosen model.
    first = client.get("/api/state").json()["placeholders"][0]["id"]
    assert client.post("/api/estimate", json={"item_ids": [first]}).json()["over_budget"] is False
    assert len(client.post("/api/fill", json={"item_ids": [first]}).json()["filled"]) == 1
    assert panel.make_clip.slots[0].model == "veo-3.1"


def test_settings_persist_in_the_panels_own_file_and_bad_values_change_nothing(scene, tmp_path):
    panel, client, _ = scene
    defaults = client.get("/api/settings").json()
    assert defaults["model"] == "draft" and defaults["codec"] == "prores-hq" and defaults["bit_depth"] is None
    saved = client.post("/api/settings", json={"codec": "dnxhr-hqx", "bit_depth": 12, "fit": "crop"}).json()
    assert (saved["codec"], saved["bit_depth"], saved["fit"]) == ("dnxhr-hqx", 12, "crop")
    on_disk = json.loads((tmp_path / "home" / "panel.json").read_text())
    assert on_disk["codec"] == "dnxhr-hqx" and on_disk["bit_depth"] == 12
    for bad in ({"codec": "mpeg2"}, {"bit_depth": 9}, {"budget_usd": -1}, {"frame_size": "wide"}, {"colour": "red"},
                {"bin": "takes/{shot}"}):
        r = client.post("/api/settings", json=bad)
        assert r.status_code == 400 and "Traceback" not in r.text, bad
    assert json.loads((tmp_path / "home" / "panel.json").read_text()) == on_disk
    # The bit depth setting reaches the slot.
    first = client.get("/api/state").json()["placeholders"][0]["id"]
    client.post("/api/fill", json={"item_ids": [first]}).raise_for_status()
    assert panel.make_clip.slots[0].bit_depth == 12
    assert client.get("/api/models").json()["models"][0]["id"] == "draft"


def test_the_page_has_the_job_list_cost_and_settings(scene):
    panel, client, _ = scene
    page = client.get("/", params={"token": panel.token}).text
    for part in ('id="jobs"', 'id="cost"', 'id="settings"', "/api/jobs", "/api/estimate", "/api/settings",
                 "/api/exports", "/api/file/fill"):
        assert part in page


def test_ab_and_promote_refuse_bad_input_before_anything_is_made(scene):
    panel, client, timeline = scene
    base = {"prompt": "waves", "frames": 12}
    r = client.post("/api/generate", json={**base, "models": ["draft"]})
    assert r.status_code == 400 and "two models" in r.json()["error"]
    r = client.post("/api/generate", json={**base, "models": ["draft", "no-such-model"]})
    assert r.status_code == 400 and "no-such-model" in r.json()["error"]
    r = client.post("/api/promote", json={"take_id": "take_nope", "model": "draft"})
    assert r.status_code == 400
    assert [it for it in timeline._items() if it._mpi is not None] == []
    assert client.get("/api/takes").json() == {"takes": []}


def test_generate_records_takes_named_shot_and_model_and_costs_are_listed(scene):
    panel, client, _ = scene
    r = client.post("/api/generate", json={"prompt": "waves at dawn", "frames": 12, "variants": 2, "shot": "SH010"})
    assert r.status_code == 200 and r.json()["clips"] == ["SH010 — draft #1", "SH010 — draft #2"]
    takes = client.get("/api/takes").json()["takes"]
    assert [(t["shot"], t["model"], t["kind"], t["in_bin"]) for t in takes] == [
        ("SH010", "draft", "variants", True)] * 2
    client.get("/api/state")  # reads the project's name
    costs = client.get("/api/costs").json()
    assert costs["project"] == "Spot" and costs["today_usd"] == 0.0
    stats = client.get("/api/stats").json()
    assert "success_rate" in stats["columns"] and stats["rows"] == []  # the test maker runs no engine jobs


def test_a_fill_is_a_take_that_promotes_in_place_and_reverts(scene):
    _, client, timeline = scene
    first = client.get("/api/state").json()["placeholders"][0]
    client.post("/api/fill", json={"item_ids": [first["id"]]})
    (take,) = client.get("/api/takes").json()["takes"]
    assert (take["kind"], take["shot"], take["frames"], take["in_bin"]) == ("fill", "Solid Color", 30, True)
    (placed,) = [it for it in timeline._items() if it._mpi is not None]
    preview, where = placed._mpi._path, (placed._track, placed._start, placed._duration, placed._left)
    r = client.post("/api/promote", json={"take_id": take["id"], "model": "draft"})
    assert r.status_code == 200, r.text
    assert placed._mpi._path != preview and (placed._track, placed._start, placed._duration, placed._left) == where
    assert placed._mpi.GetThirdPartyMetadata("promptreel.role") == "take"
    kinds = [t["kind"] for t in client.get("/api/takes").json()["takes"]]
    assert kinds == ["promote", "fill"]
    assert client.post("/api/revert", json={"edit_id": r.json()["promoted"]}).status_code == 200
    assert placed._mpi._path == preview


def test_promote_refuses_a_foreign_placeholder_and_a_final_over_budget(scene):
    _, client, timeline = scene
    solid = client.get("/api/state").json()["placeholders"][0]
    r = client.post("/api/promote", json={"item_id": solid["id"], "model": "draft"})
    assert r.status_code == 400 and "not a promptreel draft" in r.json()["error"]
    client.post("/api/fill", json={"item_ids": [solid["id"]]})
    (take,) = client.get("/api/takes").json()["takes"]
    assert client.post("/api/settings", json={"budget_usd": 0.5}).status_code == 200
    r = client.post("/api/promote", json={"take_id": take["id"], "model": "veo-3.1"})
    assert r.status_code == 400 and "over the panel's budget" in r.json()["error"]
    assert [t["kind"] for t in client.get("/api/takes").json()["takes"]] == ["fill"]  # nothing promoted
