"""Route fallback end to end: the real engine and the real clients against the vendors' own fakes.

Veo 3.1 is served here by Replicate, then fal, then Runway (a user catalog replaces its routes).
A route that is retired, refuses the key, is down after every retry, or has no key here gives way
to the next route; the model never changes and no route is asked to create twice.
"""

import pytest

from promptreel.core.engine import Engine
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.replicate import problem
from tests.sandbox_engine import point_at, run as engine_run

ROUTES = ["replicate", "fal", "runway"]
CATALOG = """
[models."veo-3.1"]
routes = [
  { protocol = "replicate", model_id = "google/veo-3.1", concurrency = 4, rpm = 0 },
  { protocol = "fal", model_id = "fal-ai/veo3.1", concurrency = 4, rpm = 0 },
  { protocol = "runway", model_id = "veo3.1", concurrency = 4, rpm = 0 },
]
"""
CREATE = {
    "replicate": ("POST", r"/v1/models/.+/predictions"),
    "fal": ("POST", r"/fal-ai/.+"),
    "runway": ("POST", r"/v1/(text|image)_to_video"),
}


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=ROUTES, limit=SMALL) as env:
        yield env


@pytest.fixture
def run(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)

    def go(variants: int = 1):
        req = GenerationRequest(
            prompt="a lighthouse in fog", model="veo-3.1", seconds=8, size="1280x720", variants=variants
        )
        return engine_run(isolated_home, req)

    return go


def creates(fakes) -> dict[str, int]:
    return {name: fake.creates for name, fake in fakes.fakes.items()}


def create_calls(fakes, route: str) -> int:
    return len(fakes.fakes[route].calls_to(*CREATE[route]))


def test_retired_model_on_first_route_ends_on_the_next(fakes, run):
    for _ in range(2):  # one per take: each take's create hears it
        fakes.fakes["replicate"].fail_next(
            "POST", CREATE["replicate"][1], problem(404, "Not found", "Model google/veo-3.1 not found")
        )
    results, jobs = run(variants=2)
    assert all(r.ok and r.model == "veo-3.1" for r in results), [r.error for r in results]
    assert {j.route_key for j in jobs} == {"fal:fal-ai/veo3.1"}
    assert {j.model for j in jobs} == {"veo-3.1"}
    assert creates(fakes) == {"replicate": 0, "fal": 2, "runway": 0}
    assert create_calls(fakes, "fal") == 2 and create_calls(fakes, "runway") == 0


def test_missing_key_skips_the_route_without_calling_it(fakes, run, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    results, jobs = run()
    assert results[0].ok and jobs[0].route_key == "fal:fal-ai/veo3.1" and jobs[0].model == "veo-3.1"
    assert fakes.fakes["replicate"].api.calls == []
    assert creates(fakes) == {"replicate": 0, "fal": 1, "runway": 0}


def test_refused_key_moves_to_the_next_route(fakes, run, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong-key-0000000000000")
    results, jobs = run()
    assert results[0].ok and jobs[0].route_key == "fal:fal-ai/veo3.1"
    assert create_calls(fakes, "replicate") == 1  # an auth refusal is not retried
    assert creates(fakes) == {"replicate": 0, "fal": 1, "runway": 0}


def test_route_down_after_every_retry_moves_on_and_never_creates_twice(fakes, run):
    fakes.fakes["replicate"].fault("create", *["503"] * Engine.attempts)
    fakes.fakes["fal"].fault("create", *["500"] * Engine.attempts)
    results, jobs = run()
    assert results[0].ok, results[0].error
    assert jobs[0].route_key == "runway:veo3.1" and jobs[0].model == "veo-3.1"
    assert create_calls(fakes, "replicate") == Engine.attempts and create_calls(fakes, "fal") == Engine.attempts
    assert creates(fakes) == {"replicate": 0, "fal": 0, "runway": 1}
    assert create_calls(fakes, "runway") == 1


def test_moderation_on_the_first_route_does_not_move_on(fakes, run):
    fakes.fakes["replicate"].fault("outcome", "nsfw")
    results, jobs = run()
    assert not results[0].ok and results[0].error_kind == "moderation"
    assert jobs[0].route_key == "replicate:google/veo-3.1"
    assert creates(fakes) == {"replicate": 1, "fal": 0, "runway": 0}


def test_every_route_failing_names_each_one(fakes, run):
    fakes.fakes["replicate"].fail_next(
        "POST", CREATE["replicate"][1], problem(404, "Not found", "Model google/veo-3.1 not found")
    )
    fakes.fakes["fal"].fault("create", *["500"] * Engine.attempts)
    fakes.fakes["runway"].fault("create", *["503"] * Engine.attempts)
    results, jobs = run()
    assert results[0].state.value == "failed" and not results[0].resumable
    message = results[0].error
    assert message.startswith("Every route tried for Veo 3.1 failed")
    for key in ("replicate:google/veo-3.1", "fal:fal-ai/veo3.1", "runway:veo3.1"):
        assert key in message
    assert "HTTP 404" in message and "runner_scheduling_failure" in message and "Runway answered HTTP 503" in message
    assert jobs[0].model == "veo-3.1"
    assert creates(fakes) == {"replicate": 0, "fal": 0, "runway": 0}
