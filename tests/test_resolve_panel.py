"""The panel over real loopback HTTP: token, Host and Origin checks; state, fill, revert, generate."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.gateway import BridgeGateway
from promptreel.resolve_plugin.panel import Panel
from tests.fakes import resolve as fake_resolve
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


def signed_in_page(client, panel) -> str:
    """The page as a browser gets it: the one-time sign-in link, traded for the session cookie."""
    r = client.get(panel.sign_in_url(), follow_redirects=True)
    assert r.status_code == 200, r.text
    return r.text


def test_page_needs_a_sign_in_and_the_right_host_and_origin(scene):
    panel, client, _ = scene
    assert "Fill all" in signed_in_page(client, panel)
    client.cookies.clear()
    assert client.get("/").status_code == 403
    assert client.get("/", params={"token": panel.token}).status_code == 403  # the token is no longer a page key
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
    assert state["edits"][0]["takes"] is None  # a plain fill has no takes to show
    assert client.post("/api/revert", json={"edit_id": result["filled"][0]}).status_code == 200
    assert [it for it in timeline._items() if it._mpi is not None] == []
    assert len(client.get("/api/state").json()["placeholders"]) == 2


def test_the_fills_list_shows_where_each_take_went(scene, monkeypatch):
    _, client, _ = scene
    solid, sea = [p["id"] for p in client.get("/api/state").json()["placeholders"]]
    r = client.post("/api/fill", json={"item_ids": [solid], "models": ["draft", "veo-3.1-fast"], "variants": 2})
    assert r.status_code == 200 and r.json()["failed"] == []
    # A Resolve without AddTake (quirk 11: dir() does not list it): the other takes fall back to the bin.
    monkeypatch.delattr(fake_resolve.TimelineItem, "AddTake")
    assert client.post("/api/fill", json={"item_ids": [sea], "models": ["draft", "veo-3.1-fast"]}).status_code == 200
    shown = {e["name"]: e["takes"] for e in client.get("/api/state").json()["edits"]}
    assert shown["Solid Color"] == {
        "placeholder": "'Solid Color' on V1 at frame 86410",
        "group": r.json()["takes"][0]["group"],
        "placed": "Solid Color — draft #1",
        "selector": ["Solid Color — draft #2", "Solid Color — veo-3.1-fast #1", "Solid Color — veo-3.1-fast #2"],
        "in_bin": [],
        "note": "",
    }
    sea_takes = shown["GEN: storm over the sea"]
    assert sea_takes["placed"] == "GEN: storm over the sea — draft" and sea_takes["selector"] == []
    assert sea_takes["in_bin"] == ["GEN: storm over the sea — veo-3.1-fast"]
    assert "no take selector for scripts" in sea_takes["note"] and "side by side in the bin" in sea_takes["note"]
    page = signed_in_page(client, scene[0])
    assert "in the Take Selector: " in page and "in the bin: " in page  # the page lists them, and the fill says so


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

    row = JobRow(
        id="j1",
        kind="engine",
        title="veo-3.1 'a fox'",
        state="running",
        progress=0.4,
        created="2026-11-23T09:00:00+00:00",
    )
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
    for bad in (
        {"codec": "mpeg2"},
        {"bit_depth": 9},
        {"budget_usd": -1},
        {"frame_size": "wide"},
        {"colour": "red"},
        {"bin": "takes/{shot}"},
    ):
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
    page = signed_in_page(client, panel)
    for part in (
        'id="jobs"',
        'id="cost"',
        'id="settings"',
        "/api/events",
        "/api/estimate",
        "/api/settings",
        "/api/exports",
        "/api/file/fill",
    ):
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
        ("SH010", "draft", "variants", True)
    ] * 2
    client.get("/api/state")  # reads the project's name
    costs = client.get("/api/costs").json()
    assert costs["project"] == "Spot" and costs["today_usd"] == 0.0
    stats = client.get("/api/stats").json()
    assert "success_rate" in stats["columns"] and stats["rows"] == []  # the test maker runs no engine jobs


def test_costs_say_what_is_left_under_each_cap_counting_what_running_jobs_reserved(scene):
    from promptreel.core.journal import Caps, Journal
    from promptreel.core.settings import settings_path

    _, client, _ = scene
    client.get("/api/state")  # reads the project's name
    assert client.get("/api/costs").json()["left_usd"] == {}  # no caps, nothing to say
    settings_path().write_text('daily_cap_usd = 5.0\nproject_caps_usd = { "Spot" = 2.0, "Other" = 9.0 }\n')
    journal = Journal.open_default()  # another seat's run: one job paid, one still running
    paid, running = (
        journal.add_job(
            batch_id="b", request={"n": n}, cache_key=f"k{n}", variant=0, model="m", route_key="p:m", estimated_cost=1.0
        )
        for n in range(2)
    )
    journal.charge(paid, "m", 1.0, "Spot")
    journal.reserve([(running, 0.5, "Spot")], Caps(day=5.0))
    journal.close()
    assert client.get("/api/costs").json()["left_usd"] == {"today": 3.5, "project": 0.5}


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


# --- structured prompts, templates, the preview, provenance -------------------------------------------

SHOT_FIELDS = {
    "subject": "a weathered fisherman",
    "action": "hauls a net",
    "camera_movement": "slow dolly in",
    "audio": "gulls",
    "negative_prompt": "text, watermark",
}


def test_templates_and_the_preview_show_exactly_what_each_model_gets(scene):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.prompts.compose import PromptSpec, compose
    from promptreel.core.prompts.templates import TemplateStore, new_template

    _, client, _ = scene
    TemplateStore().save(new_template("dusk-exterior", "{subject} at {time_of_day}", ["house"]))
    listed = client.get("/api/templates").json()
    assert [(t["name"], t["placeholders"]) for t in listed["templates"]] == [
        ("dusk-exterior", ["subject", "time_of_day"])
    ]
    assert [f["name"] for f in listed["fields"]][:2] == ["subject", "action"] and listed["fields"][0]["description"]

    r = client.post("/api/prompt/preview", json={"models": ["veo-3.1", "gen-4.5"], "fields": SHOT_FIELDS})
    assert r.status_code == 200, r.text
    veo, runway = r.json()["previews"]
    catalog = default_catalog()
    for shown, model in ((veo, "veo-3.1"), (runway, "gen-4.5")):  # the function `promptreel prompt show` uses
        assert shown == compose(catalog.get(model), PromptSpec(fields=SHOT_FIELDS)).model_dump()
    assert veo["text"] == "A weathered fisherman hauls a net. Slow dolly in. Audio: gulls."
    assert veo["negative_prompt"] == "text, watermark"
    assert runway["dropped"] == ["audio", "negative_prompt"] and runway["negative_prompt"] is None
    # The settings' model by default; a template with its values; free text wins.
    (draft,) = client.post(
        "/api/prompt/preview", json={"template": "dusk-exterior", "fields": {"subject": "a fox", "time_of_day": "dusk"}}
    ).json()["previews"]
    assert (draft["model"], draft["text"], draft["source"]) == ("draft", "a fox at dusk", "template")
    (free,) = client.post("/api/prompt/preview", json={"prompt": "A lighthouse.", "fields": SHOT_FIELDS}).json()[
        "previews"
    ]
    assert free["text"] == "A lighthouse." and free["source"] == "free text"
    # Refusals in plain words.
    r = client.post("/api/prompt/preview", json={"template": "dusk-exterior", "fields": {"subject": "a fox"}})
    assert r.status_code == 400 and "needs a value for: time_of_day" in r.json()["error"]
    r = client.post("/api/prompt/preview", json={"template": "night"})
    assert r.status_code == 400 and "No template named 'night'" in r.json()["error"]
    r = client.post("/api/prompt/preview", json={"fields": {"subjet": "typo"}})
    assert r.status_code == 400 and "subjet" in r.json()["error"]


def test_generate_and_draft_send_the_prompt_built_for_each_model(scene):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.prompts.compose import PromptSpec, compose

    panel, client, _ = scene
    r = client.post(
        "/api/generate", json={"fields": SHOT_FIELDS, "frames": 12, "shot": "SH030", "models": ["draft", "veo-3.1"]}
    )
    assert r.status_code == 200, r.text
    catalog = default_catalog()
    sent = [(s.model, s.prompt, s.negative_prompt) for s in panel.make_clip.slots]
    assert sent == [
        (m, b.text, b.negative_prompt)
        for m, b in ((m, compose(catalog.get(m), PromptSpec(fields=SHOT_FIELDS))) for m in ("draft", "veo-3.1"))
    ]
    assert sent[0][1] != sent[1][1]  # one shot, each family's own wording
    takes = client.get("/api/takes").json()["takes"]
    assert sorted(t["prompt"] for t in takes) == sorted(p for _, p, _ in sent)  # recorded as sent
    # A draft carries the prompt built for the chosen model: what Fill will send when it replaces it.
    client.post("/api/settings", json={"model": "veo-3.1"}).raise_for_status()
    r = client.post("/api/draft", json={"fields": {"subject": "a fox", "action": "sleeps"}, "frames": 12})
    assert r.status_code == 200, r.text
    assert (panel.make_clip.slots[-1].model, panel.make_clip.slots[-1].prompt) == ("draft", "A fox sleeps.")
    # It keeps its fields too, so filling it on another family words them for that family.
    kept = panel.gateway().clip(r.json()["clip_id"]).third_party["promptreel.spec"]
    assert PromptSpec.model_validate_json(kept) == PromptSpec(fields={"subject": "a fox", "action": "sleeps"})
    # A missing template value is refused before anything is made.
    made = len(panel.make_clip.slots)
    r = client.post("/api/generate", json={"template": "nope", "frames": 12})
    assert r.status_code == 400 and "No template named 'nope'" in r.json()["error"]
    assert len(panel.make_clip.slots) == made


def test_provenance_of_a_take_and_of_its_clip(scene, tmp_path):
    from promptreel.core import takes
    from promptreel.core.journal import Journal
    from promptreel.core.provenance import Marks, prompt_sha256, record
    from promptreel.core.request import file_sha256
    from tests.engine_env import make_clip

    panel, client, _ = scene
    client.post("/api/generate", json={"prompt": "waves", "frames": 12, "shot": "SH040"}).raise_for_status()
    (listed,) = client.get("/api/takes").json()["takes"]
    r = client.get("/api/provenance", params={"take": listed["id"]})
    assert r.status_code == 400 and "carries no promptreel provenance" in r.json()["error"]
    # What a fill records for a provider's clip: the original kept beside it, the marks in a sidecar.
    original = tmp_path / "provider.mp4"
    make_clip(original)
    journal = Journal.open_default()
    try:
        take = takes.get_take(journal, listed["id"])
        record(
            journal,
            take.path,
            original,
            Marks(True, "veo-3.1", "veo-3.1/gemini", "job-777", prompt_sha256("waves"), file_sha256(original)),
        )
    finally:
        journal.close()
    shown = client.get("/api/provenance", params={"take": take.id}).json()
    found = shown["chain"]
    assert found["role"] == "conformed" and found["ai_generated"] is True and found["marks"]["job_id"] == "job-777"
    assert found["original"]["status"] == "found" and found["original"]["sha256"] == file_sha256(original)
    assert found["original"]["path"].endswith("provider.original.mp4")
    assert any("AI-generated video: veo-3.1" in line for line in shown["lines"])
    # The same chain from the media pool clip the panel imported.
    by_clip = client.get("/api/provenance", params={"clip": take.provenance["resolve_clip"]}).json()
    assert by_clip["chain"] == found and by_clip["of"].startswith("clip ")
    r = client.get("/api/provenance")
    assert r.status_code == 400 and "?take=ID" in r.json()["error"]


def test_a_template_marker_fills_with_the_models_wording_and_an_unknown_one_is_refused_first(scene):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.prompts.compose import PromptSpec, compose
    from promptreel.core.prompts.templates import TemplateStore, new_template

    panel, client, timeline = scene
    solid = timeline._add(1, 86500, 24, "Solid Color", kind="generator")
    solid.AddMarker(0, "Blue", 'gen: template=dusk-exterior subject="a fox" negative_prompt=text', "", 1)
    ids = [p["id"] for p in client.get("/api/state").json()["placeholders"] if p["prompt"].startswith("template=")]
    assert len(ids) == 1
    r = client.post("/api/fill", json={"item_ids": ids})
    assert r.status_code == 400 and "'Solid Color' on V1 at frame 86500" in r.json()["error"]
    assert "No template named 'dusk-exterior'" in r.json()["error"]
    assert panel.make_clip.slots == []
    TemplateStore().save(new_template("dusk-exterior", "{subject} on a pier at dusk", ["house"]))
    client.post("/api/settings", json={"model": "veo-3.1"}).raise_for_status()
    r = client.post("/api/fill", json={"item_ids": ids})
    assert r.status_code == 200 and r.json()["failed"] == [], r.text
    spec = PromptSpec(template="dusk-exterior", fields={"subject": "a fox", "negative_prompt": "text"})
    veo = compose(default_catalog().get("veo-3.1"), spec)
    (sent,) = panel.make_clip.slots
    assert (sent.prompt, sent.negative_prompt, sent.model) == ("a fox on a pier at dusk", "text", "veo-3.1")
    assert (veo.text, veo.negative_prompt) == (sent.prompt, sent.negative_prompt)
    # Promoted to LTX (no negative prompt parameter), the template is built again for LTX.
    (take,) = client.get("/api/takes").json()["takes"]
    r = client.post("/api/promote", json={"take_id": take["id"], "model": "ltx-2.3-pro"})
    assert r.status_code == 200, r.text
    final = panel.make_clip.slots[-1]
    assert (final.prompt, final.negative_prompt, final.model) == ("a fox on a pier at dusk", None, "ltx-2.3-pro")


def test_promote_in_the_panel_words_a_fields_take_for_the_final_family(scene):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.prompts.compose import PromptSpec, compose

    panel, client, _ = scene
    r = client.post(
        "/api/generate", json={"fields": SHOT_FIELDS, "frames": 12, "shot": "SH040", "models": ["draft", "veo-3.1"]}
    )
    assert r.status_code == 200, r.text
    veo = compose(default_catalog().get("veo-3.1"), PromptSpec(fields=SHOT_FIELDS)).text
    (veo_take,) = [t for t in client.get("/api/takes").json()["takes"] if t["prompt"] == veo]
    r = client.post("/api/promote", json={"take_id": veo_take["id"], "model": "gen-4.5"})
    assert r.status_code == 200, r.text
    runway = compose(default_catalog().get("gen-4.5"), PromptSpec(fields=SHOT_FIELDS)).text
    final = panel.make_clip.slots[-1]
    assert (final.model, final.prompt) == ("gen-4.5", runway) and runway != veo
