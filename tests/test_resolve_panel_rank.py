"""The model ranking for the selected placeholders (GET /api/models/rank) and a cast member's image
(GET /api/cast/image), over real loopback HTTP against the panel on the Resolve double."""

from __future__ import annotations

import pytest

from promptreel.core.choose import ranking_json
from tests.fakes.images import still
from tests.test_resolve_panel import scene  # noqa: F401 - the panel over a bridge to the fake Resolve


def test_one_placeholder_is_ranked_as_promptreel_models_ranks_it(scene):  # noqa: F811
    _, client, _ = scene
    r = client.get("/api/models/rank", params={"frames": "30", "rate": "24", "size": "320x180", "needs": "first_frame"})
    assert r.status_code == 200, r.text
    cli = ranking_json(30, "24", "320x180", "first_frame")
    got = r.json()
    assert [m["model"] for m in got["models"]] == [m["model"] for m in cli["models"]]
    assert [m["model"] for m in got["refused"]] == [m["model"] for m in cli["refused"]] != []
    for mine, theirs in zip(got["models"], cli["models"]):
        assert mine["price_usd"] == theirs["price_usd"] and mine["changes"] == sorted(theirs["fit"]["changes"])
        fit = (
            "native fit" if not theirs["fit"]["changes"] else "conform: " + ", ".join(sorted(theirs["fit"]["changes"]))
        )
        assert mine["why"] == f"${theirs['price_usd']:.2f} · {fit} · not tried yet"


def test_several_placeholders_are_ranked_by_their_summed_score(scene):  # noqa: F811
    _, client, _ = scene
    got = client.get("/api/models/rank", params={"frames": "30,300", "rate": "24", "size": "320x180"}).json()
    short, long = (ranking_json(n, "24", "320x180") for n in (30, 300))
    scores = {m["model"]: m["score"] for m in short["models"]}
    both = {m["model"]: scores[m["model"]] + m["score"] for m in long["models"] if m["model"] in scores}
    # A model that cannot make one of them is set apart, with the planner's reason.
    cannot = {m["model"] for m in short["refused"] + long["refused"]}
    assert {m["model"] for m in got["models"]} == set(both) - cannot and cannot <= {m["model"] for m in got["refused"]}
    assert set(both) != {m["model"] for m in short["models"]}  # the 300 frames did set some apart
    assert [m["score"] for m in got["models"]] == pytest.approx(
        sorted(both[m["model"]] for m in got["models"]), abs=1e-3
    )


def test_bad_rank_questions_are_refused_in_one_line(scene):  # noqa: F811
    _, client, _ = scene
    for params, said in (
        ({"frames": "abc"}, "'abc' is not a list of frame counts."),
        ({"frames": "0"}, "'0' is not a list"),
        ({"frames": "24", "rate": "fast"}, "'fast' is not a frame rate."),
        ({"frames": "24", "needs": "smell"}, "Unknown need 'smell'."),
    ):
        r = client.get("/api/models/rank", params=params)
        assert r.status_code == 400 and r.json()["error"].startswith(said) and "\n" not in r.json()["error"], r.text


def test_a_cast_members_images_are_served_and_nothing_else(scene, tmp_path):  # noqa: F811
    _, client, _ = scene
    face = still(tmp_path, 40, 30, "face")
    assert client.post("/api/cast/add", json={"name": "maria", "images": [str(face)]}).status_code == 200
    r = client.get("/api/cast/image", params={"name": "@Maria", "i": "0"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content == face.read_bytes()
    for params in ({"name": "maria", "i": "1"}, {"name": "tom", "i": "0"}, {"name": "maria", "i": "../x"}):
        r = client.get("/api/cast/image", params=params)
        assert r.status_code == 400 and "The cast has no image" in r.json()["error"], r.text
