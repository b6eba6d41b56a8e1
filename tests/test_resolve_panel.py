"""The panel over real loopback HTTP: token, Host and Origin checks; state, fill, revert, generate."""

from __future__ import annotations

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
