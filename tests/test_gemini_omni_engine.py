"""Gemini Omni through the real engine and journal against the gemini sandbox fake: a take is made, then
refined and extended by its job id in later engine runs (a fresh engine and journal each: as after a
restart), each sent as the earlier take's interaction id from the journal."""

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import point_at, run

# Veo's live Gemini API id, for a take Omni must refuse to refine.
VEO = """
[models.veo-3]
routes = [{ protocol = "gemini", model_id = "veo-3.0-generate-001", concurrency = 4, rpm = 0 }]
"""


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["gemini"], limit=SMALL) as env:
        yield env


def omni(**kw):
    return GenerationRequest(**{"prompt": "a fox in snow", "model": "gemini-omni-1.2-flash", "seconds": 6,
                                "size": "1280x720", **kw})


def test_a_take_is_made_then_refined_and_extended_by_its_journaled_interaction(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["gemini"]
    (first,), (first_job,) = run(isolated_home, omni())
    assert first.ok, first.error
    assert first_job.provider_job_id in fake.interactions and first_job.route_key == "gemini:gemini-omni-1.2-flash"
    info = probe(first.path)
    assert info.rate == 24 and info.has_audio and (info.width, info.height) == (320, 180)

    (refined,), _ = run(isolated_home, omni(prompt="the same fox, at night", remix_of=first.job_id))
    assert refined.ok, refined.error
    (extended,), _ = run(isolated_home, omni(prompt="the fox runs off", extend_video=first.job_id, seconds=4))
    assert extended.ok, extended.error
    creates = [c.json() for c in fake.calls_to("POST", r"/v1beta/interactions")]
    assert [c.get("previous_interaction_id") for c in creates] == [None] + [first_job.provider_job_id] * 2
    assert [c["generation_config"]["video_config"]["task"] for c in creates] == ["text_to_video", "edit", "extend"]
    assert fake.creates == 3


def test_image_to_video_with_first_and_last_frames(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    first, last = still(tmp_path, 1280, 720, "first"), still(tmp_path, 1280, 720, "last")
    (result,), _ = run(isolated_home, omni(first_frame=first, last_frame=last))
    assert result.ok, result.error
    sent = fakes.fakes["gemini"].calls_to("POST", r"/v1beta/interactions")[-1].json()
    assert [c["type"] for c in sent["input"]] == ["text", "image", "image"]


def test_a_veo_take_cannot_be_refined_by_omni(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, VEO)
    (veo,), _ = run(isolated_home, GenerationRequest(prompt="a fox", model="veo-3", seconds=8, size="1280x720"))
    assert veo.ok, veo.error
    (refined,), _ = run(isolated_home, omni(remix_of=veo.job_id))
    assert refined.error_kind == "bad_request" and "not Gemini Omni" in refined.error
    assert fakes.fakes["gemini"].calls_to("POST", r"/v1beta/interactions") == []


def test_a_moderated_take_fails_without_a_retry_and_without_moving_route(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["gemini"]
    fake.fault("outcome", "moderation")
    (result,), _ = run(isolated_home, omni())
    assert result.error_kind == "moderation" and fake.creates == 1
