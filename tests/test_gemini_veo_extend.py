"""Gemini Veo extend by an earlier promptreel job: sent as that take's file URI, through the engine."""

from datetime import date

import pytest

from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.sandbox_engine import point_at, run

# Every Veo id on the Gemini API's predictLongRunning is shut down (the fake answers them 404, as Google
# does), so the wire is exercised as it was before 2026-06-30, with Veo 3's id, given the extend input
# and a lifecycle of its own in a user catalog.
CATALOG = """
[models.veo-3]
inputs = ["first_frame", "extend"]
lifecycle = { status = "available", note = "the Gemini API as it answered before 2026-06-30" }
routes = [{ protocol = "gemini", model_id = "veo-3.0-generate-001", concurrency = 4, rpm = 0 }]
"""


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["gemini"], limit=SMALL) as env:
        env.fakes["gemini"].today = date(2026, 6, 1)
        yield env


def veo(**kw):
    return GenerationRequest(**{"prompt": "a fox in snow", "model": "veo-3", "seconds": 8, "size": "1280x720", **kw})


def test_extend_of_an_earlier_gemini_take_sends_its_file_uri(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    fake = fakes.fakes["gemini"]
    (first,), (first_job,) = run(isolated_home, veo())
    assert first.ok, first.error
    (ext,), _ = run(isolated_home, veo(prompt="the fox runs off", extend_video=first.job_id))
    assert ext.ok, ext.error
    sent = fake.calls_to("POST", r"/v1beta/models/.+:predictLongRunning")[-1].json()
    assert sent["instances"][0]["video"] == {"uri": first_job.media_refs[0].url}
    assert fake.creates == 2


def test_extend_of_a_draft_take_is_refused_on_gemini(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    (draft,), _ = run(isolated_home, GenerationRequest(prompt="a slate", model="draft", seconds=1, size="320x180"))
    (ext,), _ = run(isolated_home, veo(extend_video=draft.job_id))
    assert ext.error_kind == "bad_request" and "made on the draft route" in ext.error
    assert fakes.fakes["gemini"].creates == 0
