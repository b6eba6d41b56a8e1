"""OpenAI remix: POST /videos/{video_id}/remix {prompt} — the exact call, the fake's rules, an earlier
promptreel job remixed by its job id through the engine, and `promptreel generate --remix`."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.cli import main
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.plan import check_request
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.openai import OpenAIVideos
from promptreel.core.providers.replicate import Replicate
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.drive import poll_to_end, protocol
from promptreel.core.sandbox.fake import SANDBOX_KEY
from tests.sandbox_engine import point_at, run

REMIX = ("POST", r"/v1/videos/[^/]+/remix")
# The shipped catalog marks Sora retired (OpenAI shut its API down on 2026-09-24); a user catalog can
# still point sora-2 at an OpenAI-compatible service, which is what these tests do: the fake answers
# as the Sora API did before the shutdown.
CATALOG = """
[models.sora-2]
lifecycle = { status = "available", note = "an OpenAI-compatible service of the studio's" }
routes = [{ protocol = "openai", model_id = "sora-2", concurrency = 4, rpm = 0 }]
"""
BEFORE_SHUTDOWN = date(2026, 9, 1)


def req(**kw) -> GenerationRequest:
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "sora-2", "seconds": 8, "size": "1280x720", **kw}
    )


def sora(client, base_url="https://api.openai.com/v1") -> OpenAIVideos:
    return protocol(OpenAIVideos, "sora-2", client, {"OPENAI_API_KEY": SANDBOX_KEY}, base_url)


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["openai"], limit=SMALL) as env:
        env.fakes["openai"].today = BEFORE_SHUTDOWN
        yield env


@pytest.fixture
def fake(fakes):
    fakes.fakes["openai"].reset()
    return fakes.fakes["openai"]


# --- the exact call ---------------------------------------------------------------------------


def test_remix_call_exact(client):
    call = sora(client).build(req(prompt="the same shot at night", remix_of="video_68d7512d07848190"), "job-2")
    assert (call.method, call.path, call.json, call.files, call.data) == (
        "POST",
        "/videos/video_68d7512d07848190/remix",
        {"prompt": "the same shot at night"},
        None,
        None,
    )


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"remix_of": "../videos/x"}, "is not one"),  # never a path segment we did not mean
        ({"remix_of": "video_1", "extend_video": "video_0"}, "only a new prompt"),
    ],
)
def test_remix_refusals(client, kw, words):
    with pytest.raises(UnsupportedRequest, match=words):
        sora(client).build(req(**kw), "job-2")


def test_only_models_that_remix_take_it_and_replicate_refuses_it(client, tmp_path):
    (tmp_path / "catalog.toml").write_text(CATALOG)
    catalog = load_catalog(tmp_path / "catalog.toml")
    check_request(req(remix_of="job_x"), catalog.get("sora-2"))  # listed: accepted by the planner
    with pytest.raises(UnsupportedRequest, match="remix"):
        check_request(
            GenerationRequest(prompt="p", model="kling-v2.6", seconds=5, size="1280x720", remix_of="job_x"),
            catalog.get("kling-v2.6"),
        )
    rep = protocol(Replicate, "openai/sora-2", client, {"REPLICATE_API_TOKEN": SANDBOX_KEY}, "https://x")
    with pytest.raises(UnsupportedRequest, match="a video to remix"):
        rep.build(req(remix_of="video_1"), "j")


def test_remix_of_leaves_existing_cache_keys_alone():
    assert "remix_of" not in req().canonical() and req().cache_key() != req(remix_of="job_a").cache_key()


# --- against the fake ---------------------------------------------------------------------------


async def test_remix_round_trip_and_lookup(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    source = await s.submit(s.build(req(seconds=4), "job-1"), tmp_path)
    await poll_to_end(s, source.job_id)
    sent_at = datetime.now(timezone.utc)
    call = s.build(req(prompt="the same shot at night", remix_of=source.job_id), "job-2")
    remix = await s.submit(call, tmp_path)
    status = await poll_to_end(s, remix.job_id)
    assert status.state is JobState.SUCCEEDED
    made = fake.jobs[remix.job_id]
    assert (made.remixed_from, made.seconds, made.size, made.prompt) == (
        source.job_id,
        "4",
        "1280x720",
        "the same shot at night",
    )
    assert await s.find_created(call, "job-2", sent_at) == remix.job_id  # found by its source, not by size
    assert fake.creates == 2


async def test_fake_refuses_unfinished_unknown_and_extra_fields(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    source = await s.submit(s.build(req(), "job-1"), tmp_path)
    with pytest.raises(ProviderError, match="must be completed") as e:
        await s.submit(s.build(req(remix_of=source.job_id), "job-2"), tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST
    with pytest.raises(ProviderError, match="not found") as e:
        await s.submit(s.build(req(remix_of="video_nope"), "job-3"), tmp_path)
    assert e.value.kind is ErrorKind.PROVIDER and e.value.status == 404
    r = await client.post(
        f"{fake.base_url}/videos/{source.job_id}/remix",
        json={"prompt": "x", "seconds": "8"},
        headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
    )
    assert r.status_code == 400 and "seconds" in r.json()["error"]["message"]
    assert fake.creates == 1


# --- an earlier promptreel job, through the engine and the CLI -----------------------------------


def test_engine_remixes_an_earlier_job_by_its_id(fakes, fake, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    (first,), (first_job,) = run(isolated_home, req(seconds=4))
    assert first.ok, first.error
    (remix,), (remix_job,) = run(isolated_home, req(prompt="the same shot in snow", remix_of=first.job_id))
    assert remix.ok, remix.error
    (sent,) = fake.calls_to(*REMIX)
    assert sent.path == f"/v1/videos/{first_job.provider_job_id}/remix" and sent.json() == {
        "prompt": "the same shot in snow"
    }
    assert remix_job.request["remix_of"] == first.job_id and fake.creates == 2


def test_engine_refuses_to_remix_a_job_made_elsewhere(fakes, fake, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    (draft,), _ = run(isolated_home, GenerationRequest(prompt="a slate", model="draft", seconds=1, size="320x180"))
    (remix,), _ = run(isolated_home, req(remix_of=draft.job_id))
    assert remix.error_kind == "bad_request" and "made on the draft route" in remix.error
    assert fake.creates == 0


def test_cli_generate_remix(fakes, fake, isolated_home, monkeypatch, capsys):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    assert main(["generate", "a harbour at dawn", "--model", "sora-2", "--seconds", "4", "--json"]) == 0
    (first,) = json.loads(capsys.readouterr().out)
    assert main(["generate", "the harbour at dusk", "--model", "sora-2", "--remix", first["job_id"], "--json"]) == 0
    (second,) = json.loads(capsys.readouterr().out)
    assert second["state"] == "done"
    (sent,) = fake.calls_to(*REMIX)
    assert sent.json() == {"prompt": "the harbour at dusk"} and fake.creates == 2
    # Length and size default to the source's (a remix keeps them), so the estimate is the source's too.
    assert second["cost_usd"] == pytest.approx(first["cost_usd"])


def test_cli_remix_on_a_model_without_it_is_a_user_error(isolated_home, capsys):
    assert main(["generate", "x", "--model", "draft", "--remix", "job_0123456789abcdef"]) == 2
    err = capsys.readouterr().err
    assert "does not accept a remix input" in err and "Traceback" not in err
