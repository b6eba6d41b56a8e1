"""The panel's new API handlers for refine and the cast (resolve_plugin/panel_refine.py), over real loopback
HTTP: a fill's take is refined twice into the bin, listed with its parents, and the second is promoted;
the cast is added, listed and removed; bad input is refused with a 400 and changes nothing."""

from __future__ import annotations

from tests.fakes.images import still
from tests.test_resolve_panel import scene  # noqa: F401 - the panel over a bridge to the fake Resolve


def test_refine_a_fills_take_twice_and_promote_the_second(scene):  # noqa: F811
    _, client, timeline = scene
    first = client.get("/api/state").json()["placeholders"][0]
    client.post("/api/fill", json={"item_ids": [first["id"]]})
    (take,) = client.get("/api/takes").json()["takes"]
    r = client.post("/api/refine", json={"take_id": take["id"], "change": "make it dusk"})
    assert r.status_code == 200, r.text
    second = r.json()["take"]
    third = client.post("/api/refine", json={"take_id": second["id"], "change": "closer"}).json()["take"]
    assert (second["parent"], third["parent"], second["in_bin"]) == (take["id"], second["id"], True)
    assert (second["frames"], third["prompt"]) == (30, "a red fox in snow. Change: make it dusk. Change: closer.")
    listed = {t["id"]: t for t in client.get("/api/takes").json()["takes"]}
    assert listed[third["id"]]["parent"] == second["id"] and listed[second["id"]]["refinement"] == "make it dusk"
    r = client.post("/api/promote", json={"take_id": second["id"], "model": "draft"})
    assert r.status_code == 200, r.text
    kinds = [t["kind"] for t in client.get("/api/takes").json()["takes"]]
    assert kinds == ["promote", "refine", "refine", "fill"]


def test_cast_add_list_remove_and_refusals(scene, tmp_path):  # noqa: F811
    _, client, _ = scene
    face = still(tmp_path, 32, 32, "face")
    r = client.post("/api/cast/add", json={"name": "maria", "images": [str(face)], "note": "red coat"})
    assert r.status_code == 200, r.text
    assert [m["name"] for m in client.get("/api/cast").json()["cast"]] == ["maria"]
    r = client.post("/api/cast/add", json={"name": "tom", "images": "face.png"})
    assert r.status_code == 400 and "list of image file paths" in r.json()["error"]
    r = client.post("/api/refine", json={"take_id": "take_nope", "change": "dusk"})
    assert r.status_code == 400 and "There is no take take_nope" in r.json()["error"]
    assert client.post("/api/cast/remove", json={"name": "maria"}).status_code == 200
    assert client.get("/api/cast").json()["cast"] == []


def test_cast_added_for_the_project_is_the_projects_own(scene, tmp_path):  # noqa: F811
    from promptreel.core import cast

    _, client, _ = scene
    project = client.get("/api/state").json()["project"]  # the panel reads the Resolve project's name
    face = still(tmp_path, 32, 32, "face")
    r = client.post("/api/cast/add", json={"name": "maria", "images": [str(face)], "project": True})
    assert r.status_code == 200, r.text
    assert [m.name for m in cast.members(project)] == ["maria"] and cast.members("") == []
    assert [m["name"] for m in client.get("/api/cast").json()["cast"]] == ["maria"]
    assert client.post("/api/cast/remove", json={"name": "maria", "project": True}).status_code == 200
    assert cast.members(project) == []
