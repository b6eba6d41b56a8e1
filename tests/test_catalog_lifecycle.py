"""Lifecycle as a runtime fact: dates retire routes and models without a release, a vendor's "model
gone" answer retires a route for every later run, retired models are refused before anything is spent
(naming what replaces them) and never offered — through the real engine and the vendors' fakes."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import pytest

from promptreel.core.catalog import load_catalog, record_retired, retired_routes, retired_routes_path
from promptreel.core.cli import main
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.plan import check_request
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.sandbox_engine import point_at, run as engine_run

YESTERDAY = date.today() - timedelta(days=1)
ENDED = {"sora-2", "sora-2-pro", "veo-3", "veo-2"}


def veo(**kw) -> GenerationRequest:
    return GenerationRequest(
        **{"prompt": "a lighthouse in fog", "model": "veo-3.1", "seconds": 8, "size": "1280x720", **kw}
    )


# --- the shipped catalog ----------------------------------------------------------------------


def test_every_model_and_route_names_its_source_and_the_day_it_was_checked():
    for m in load_catalog().models.values():
        assert m.lifecycle.source and m.lifecycle.checked_on, m.id
        for r in m.routes:
            assert r.source and r.checked_on, (m.id, r.key)


def test_models_its_vendors_ended_are_retired_with_their_dates_and_replacements():
    cat = load_catalog()
    assert {m.id for m in cat.models.values() if m.state() == "retired"} == ENDED
    assert cat.get("sora-2").lifecycle.shutdown_on == date(2026, 9, 24)
    assert cat.get("veo-3").lifecycle.shutdown_on == cat.get("veo-2").lifecycle.shutdown_on == date(2026, 6, 30)
    assert cat.get("veo-3").lifecycle.replacement == ["veo-3.1"]
    # Dates act by themselves: the day before, the same entry was deprecated, not retired.
    assert cat.get("sora-2").state(date(2026, 9, 23)) == "deprecated"
    assert cat.get("sora-2").state(date(2026, 9, 24)) == "retired"


def test_models_offers_none_of_them_and_all_lists_them(capsys):
    assert main(["models", "--json"]) == 0
    offered = json.loads(capsys.readouterr().out)
    assert not ENDED & set(offered) and "veo-3.1" in offered
    assert main(["models", "--json", "--all"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {m for m, spec in listed.items() if spec["state"] == "retired"} == ENDED
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert "sora-2 " not in table and "retired model(s) not shown" in table


@pytest.mark.parametrize(
    "model, replacement",
    [("sora-2", "veo-3.1 ("), ("sora-2-pro", "kling-v3 ("), ("veo-3", "veo-3.1 ("), ("veo-2", "veo-3.1 (")],
)
def test_a_retired_model_is_refused_before_anything_is_spent_naming_the_replacement(capsys, model, replacement):
    assert main(["generate", "a kite", "--model", model, "--seconds", "8"]) == 2
    err = capsys.readouterr().err
    assert "shut down on" in err and replacement in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_users_catalog_may_keep_a_model_alive_with_a_lifecycle_of_its_own(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text(
        '[models.sora-2]\nlifecycle = { status = "available", note = "our proxy" }\n'
        'routes = [{ protocol = "openai", model_id = "sora-2" }]\n'
    )
    assert load_catalog(user).get("sora-2").state() == "available"


# --- through the engine -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["replicate", "fal"], limit=SMALL) as env:
        yield env


def two_routes(first: str) -> str:
    return f"""
[models."veo-3.1"]
routes = [
  {{ protocol = "replicate", model_id = "google/veo-3.1", concurrency = 4, rpm = 0{first} }},
  {{ protocol = "fal", model_id = "fal-ai/veo3.1", concurrency = 4, rpm = 0 }},
]
"""


def test_a_route_past_its_shutdown_date_is_skipped_naming_the_route_taken(fakes, isolated_home, monkeypatch):
    # The catalog still calls the route live; its date passed yesterday: retired today, without a release.
    point_at(fakes, monkeypatch, isolated_home, two_routes(f", shutdown_on = {YESTERDAY.isoformat()}"))
    model = load_catalog(isolated_home / "catalog.toml").get("veo-3.1")
    warnings = check_request(veo(), model)
    assert (
        f"Veo 3.1 via replicate (google/veo-3.1) shut down on {YESTERDAY}; it goes through fal (fal-ai/veo3.1) instead."
        in warnings
    )
    results, jobs = engine_run(isolated_home, veo())
    assert results[0].ok and jobs[0].route_key == "fal:fal-ai/veo3.1" and jobs[0].model == "veo-3.1"
    assert fakes.fakes["replicate"].api.calls == [] and fakes.fakes["fal"].creates == 1


def test_a_route_whose_vendor_says_model_not_found_is_retired_for_every_later_run(
    fakes, isolated_home, monkeypatch, caplog
):
    point_at(fakes, monkeypatch, isolated_home, two_routes(""))
    replicate = fakes.fakes["replicate"]
    monkeypatch.setattr(replicate, "shut_down", {"google/veo-3.1": YESTERDAY})  # Replicate dropped it yesterday
    caplog.set_level(logging.WARNING, "promptreel.engine")

    results, jobs = engine_run(isolated_home, veo())
    assert results[0].ok and jobs[0].route_key == "fal:fal-ai/veo3.1" and jobs[0].model == "veo-3.1"
    told = [r.getMessage() for r in caplog.records if "is gone" in r.getMessage()]
    assert told == [
        "Veo 3.1 via replicate (google/veo-3.1) is gone (Replicate answered HTTP 404: model google/veo-3.1 "
        "not found); promptreel will not use that route again, and tries fal (fal-ai/veo3.1) next."
    ]
    gone = retired_routes()["replicate:google/veo-3.1"]
    assert gone["retired_on"] == date.today() and "not found" in gone["words"]
    asked = len(replicate.api.calls)
    assert asked == 1 and replicate.creates == 0

    # The next run (a new process, as far as the engine knows) never asks the route, and says nothing again.
    caplog.clear()
    results, jobs = engine_run(isolated_home, veo(prompt="a second lighthouse"))
    assert results[0].ok and jobs[0].route_key == "fal:fal-ai/veo3.1"
    assert len(replicate.api.calls) == asked and not [r for r in caplog.records if "is gone" in r.getMessage()]
    route = load_catalog(isolated_home / "catalog.toml").get("veo-3.1").routes[0]
    assert (route.usable(), route.status) == (False, "retired") and "not found" in route.note


def test_the_last_route_gone_fails_the_take_and_then_refuses_the_model_naming_its_replacement(
    fakes, isolated_home, monkeypatch
):
    # A user's older catalog still routing Sora through fal, whose Sora app answers "model not found" today.
    catalog = (
        '[models.sora-2]\nlifecycle = { status = "available", replacement = ["veo-3.1"] }\n'
        'routes = [{ protocol = "fal", model_id = "fal-ai/sora-2", concurrency = 4, rpm = 0 }]\n'
    )
    point_at(fakes, monkeypatch, isolated_home, catalog)
    kite = GenerationRequest(prompt="a kite", model="sora-2", seconds=4, size="1280x720")
    results, _ = engine_run(isolated_home, kite)
    assert not results[0].ok and results[0].error_kind == "retired" and fakes.fakes["fal"].creates == 0
    assert "fal:fal-ai/sora-2" in retired_routes()
    with pytest.raises(UnsupportedRequest, match=r"Sora 2 \(sora-2\) has no route left that serves it.*Use veo-3.1 \("):
        check_request(kite, load_catalog(isolated_home / "catalog.toml").get("sora-2"))


def test_a_route_is_recorded_once_and_its_words_carry_no_key(isolated_home, monkeypatch):
    monkeypatch.setenv("FAL_KEY", "fal-secret-key-0123456789abcdef")
    assert record_retired("fal:x/y", "gone; key fal-secret-key-0123456789abcdef") is True
    assert record_retired("fal:x/y", "gone again") is False
    text = retired_routes_path().read_text()
    assert "fal-secret-key" not in text and retired_routes()["fal:x/y"]["words"].startswith("gone;")


# --- every protocol hears "model gone" ----------------------------------------------------------

GONE = {  # route -> (model id, a request it takes, the create path, the vendor's "model gone" answer)
    "runway": (
        "gen4.5",
        dict(seconds=5, size="1280x720"),
        r"/v1/text_to_video",
        (404, {"error": "Model gen4.5 not found"}),
    ),
    "kling": (
        "kling-v3",
        dict(seconds=5, size="1280x720"),
        r"/v1/videos/text2video",
        (410, {"code": 1201, "message": "model kling-v3 is no longer available", "data": None}),
    ),
    "ltx": (
        "ltx-2-3-pro",
        dict(seconds=6, size="1920x1080", fps=25),
        r"/v2/text-to-video",
        (404, {"type": "error", "error": {"type": "invalid_request_error", "message": "model not found"}}),
    ),
    "replicate": (
        "google/veo-3.1",
        dict(seconds=8, size="1280x720"),
        r"/v1/models/.+/predictions",
        (404, {"title": "Not found", "detail": "Model not found", "status": 404}),
    ),
    "fal": ("fal-ai/veo3.1", dict(seconds=8, size="1280x720"), r"/fal-ai/.+", (404, {"detail": "Model not found"})),
    "vertex": (
        "veo-3.1-generate-001",
        dict(seconds=8, size="1280x720"),
        r".+:predictLongRunning",
        (
            404,
            {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "message": "Publisher Model veo-3.1-generate-001 was not found",
                }
            },
        ),
    ),
}


@pytest.mark.parametrize("route", sorted(GONE))
async def test_each_protocol_hears_a_model_gone_answer_as_retired(route, tmp_path):
    """404 / 410 naming the model on a create is RETIRED in every protocol: the engine records the route and
    moves on, instead of failing the take as a bad request."""
    import httpx

    from promptreel.core.providers import protocol_class
    from promptreel.core.providers.base import ErrorKind, ProviderError
    from promptreel.core.sandbox import Reply
    from promptreel.core.sandbox.drive import protocol

    model_id, kw, path, (status, body) = GONE[route]
    with sandbox(routes=[route], limit=SMALL, export=True) as env:
        fake = env.fakes[route]
        fake.fail_next("POST", path, Reply(status, body))
        async with httpx.AsyncClient(timeout=10) as client:
            cls = protocol_class(route)
            creds = {name: env[name] for name in cls.key_names if name in env}
            proto = protocol(cls, model_id, client, creds, env[f"PROMPTREEL_{route.upper()}_BASE_URL"])
            with pytest.raises(ProviderError) as e:
                await proto.submit(proto.build(GenerationRequest(prompt="a kite", **kw), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.RETIRED, e.value.message


def test_an_unwritable_data_folder_still_moves_on_and_says_the_route_was_not_recorded(isolated_home):
    cat = load_catalog()
    veo = cat.get("veo-3.1")
    retired_routes_path().mkdir()  # a folder where the file should be: the write fails
    told = cat.route_gone("veo-3.1", veo.routes[0], "model not found")
    assert told.startswith(
        "Veo 3.1 via vertex (veo-3.1-generate-001) is gone (model not found); it is skipped for this run (not recorded:"
    ) and told.endswith("tries replicate (google/veo-3.1) next.")
