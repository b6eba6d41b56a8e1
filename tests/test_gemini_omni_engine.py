"""Gemini Omni through the real engine and journal against the gemini sandbox fake: a take is made, then
refined and extended by its job id in later engine runs (a fresh engine and journal each: as after a
restart), each sent as the earlier take's interaction id from the journal."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots

REPO = Path(__file__).resolve().parents[1]

# Veo's live Gemini API id, for a take Omni must refuse to refine.
VEO = """
[models.veo-3]
inputs = ["first_frame", "extend"]
lifecycle = { status = "available" }
routes = [{ protocol = "gemini", model_id = "veo-3.0-generate-001", concurrency = 4, rpm = 0 }]
"""


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["gemini"], limit=SMALL) as env:
        yield env


def omni(**kw):
    return GenerationRequest(
        **{"prompt": "a fox in snow", "model": "gemini-omni-1.2-flash", "seconds": 6, "size": "1280x720", **kw}
    )


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


def test_veo_and_omni_takes_do_not_cross(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, VEO)  # Veo 3 as a studio's proxy still served it before its shutdown
    monkeypatch.setattr(fakes.fakes["gemini"], "today", date(2026, 6, 1))
    (veo,), _ = run(isolated_home, GenerationRequest(prompt="a fox", model="veo-3", seconds=8, size="1280x720"))
    assert veo.ok, veo.error
    (refined,), _ = run(isolated_home, omni(remix_of=veo.job_id))
    assert refined.error_kind == "bad_request" and "not Gemini Omni" in refined.error
    assert fakes.fakes["gemini"].calls_to("POST", r"/v1beta/interactions") == []
    (made,), _ = run(isolated_home, omni())
    (extended,), _ = run(
        isolated_home,
        GenerationRequest(prompt="on", model="veo-3", seconds=8, size="1280x720", extend_video=made.job_id),
    )
    assert extended.error_kind == "bad_request" and "Veo extends only Veo's takes" in extended.error


def test_a_moderated_take_fails_without_a_retry_and_without_moving_route(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["gemini"]
    fake.fault("outcome", "moderation")
    (result,), _ = run(isolated_home, omni())
    assert result.error_kind == "moderation" and fake.creates == 1


def test_fill_conforms_omni_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fill_exact(isolated_home, two_slots("gemini-omni-1.2-flash", "gemini-omni-1.1-flash"))
    sent = [c.json()["response_format"] for c in fakes.fakes["gemini"].calls_to("POST", r"/v1beta/interactions")]
    assert sorted(f["aspect_ratio"] for f in sent) == ["16:9", "9:16"]


# promptreel as the user runs it, with the engine's waits between polls cut short (the fake advances per read).
CHILD = """
import asyncio, sys
from promptreel.core.engine import Engine

init = Engine.__init__

def quick(self, *a, **kw):
    init(self, *a, **kw)

    async def brief(seconds):
        await asyncio.sleep(0.01)

    self.sleep = brief

Engine.__init__ = quick
from promptreel.core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_refines_and_extends_a_take_in_later_processes(fakes, tmp_path):
    """Three `promptreel generate` processes: the take's interaction id reaches the later two only through
    the journal on disk."""
    env = {
        **os.environ,
        **fakes,
        "PROMPTREEL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
        "PROMPTREEL_NO_BROWSER": "1",
    }
    fake = fakes.fakes["gemini"]
    fake.reset()

    def generate(*args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "generate", *args, "--model", "gemini-omni-1.2-flash", "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        (result,) = json.loads(done.stdout)
        assert result["state"] == "done", result
        return result

    first = generate("a harbour at dawn", "--seconds", "4", "--size", "720x1280")
    generate("the harbour at dusk", "--remix", first["job_id"])
    generate("a gull lands on the rail", "--extend", first["job_id"], "--seconds", "3")
    creates = [c.json() for c in fake.calls_to("POST", r"/v1beta/interactions")]
    made = next(iter(fake.interactions))
    assert [c.get("previous_interaction_id") for c in creates] == [None, made, made]
    assert creates[1]["response_format"]["aspect_ratio"] == "9:16"  # the refinement kept its source's size
    assert fake.creates == 3
