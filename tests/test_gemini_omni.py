"""Gemini Omni on the gemini route (the Interactions API): exact create bodies, and the verbs against the
gemini fake, which validates like the service, with its faults."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.gemini_omni import GeminiOmni
from promptreel.core.providers.gemini_veo import GeminiVeo
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeGemini, tiny_mp4
from promptreel.core.sandbox.drive import download, poll_to_end
from promptreel.core.sandbox.veo import google_error
from tests.fakes.images import still

KEY = "AIzaFakeGeminiKey0123456789"
MODEL = "gemini-omni-1.2-flash"
CREATE = r"/v1beta/interactions"


def req(**kw) -> GenerationRequest:
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": MODEL, "seconds": 8, "size": "1280x720", "fps": 24, **kw}
    )


def omni(client=None, base_url=None, model=MODEL, key=KEY, staging_dir=None) -> GeminiOmni:
    return GeminiOmni(
        client or httpx.AsyncClient(),
        Route(protocol="gemini", model_id=model),
        {"GEMINI_API_KEY": key},
        base_url=base_url,
        staging_dir=staging_dir,
    )


@pytest.fixture(scope="module")
def server():
    with FakeGemini(key=KEY) as s:
        yield s


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


async def made(o: GeminiOmni, request: GenerationRequest | None = None, fault: str | None = None) -> str:
    call = o.build(request or req(), "job-1")
    if fault:
        call.headers["X-Fake-Fault"] = fault
    return (await o.submit(call, o.staging_dir)).job_id


# --- which protocol ---------------------------------------------------------------------------


def test_the_gemini_route_speaks_interactions_for_omni_and_predict_for_veo():
    assert protocol_class("gemini", "gemini-omni-1.2-flash") is GeminiOmni
    assert protocol_class("gemini", "gemini-omni-1.1-flash") is GeminiOmni
    assert protocol_class("gemini", "veo-3.0-generate-001") is GeminiVeo
    assert protocol_class("gemini") is GeminiVeo
    assert GeminiOmni.name == "gemini" and GeminiOmni.key_names == ("GEMINI_API_KEY",)


# --- build: the exact bodies --------------------------------------------------------------------


def test_text_to_video_body():
    call = omni().build(req(negative_prompt="text", seed=3), "job-1")
    assert (call.method, call.path) == ("POST", "/v1beta/interactions")
    assert call.json == {
        "model": MODEL,
        "input": [{"type": "text", "text": "a lighthouse at dusk"}],
        "background": True,
        "store": True,
        "response_format": {
            "type": "video",
            "aspect_ratio": "16:9",
            "resolution": "720p",
            "duration": "8s",
            "delivery": "uri",
        },
        "generation_config": {"video_config": {"task": "text_to_video"}},
    }


@pytest.mark.parametrize(
    "size, aspect, resolution",
    [
        ("640x360", "16:9", "360p"),
        ("1080x1920", "9:16", "1080p"),
        ("3840x2160", "16:9", "4k"),
        ("2160x3840", "9:16", "4k"),
    ],
)
def test_sizes_map_to_aspect_and_resolution(size, aspect, resolution):
    fmt = omni().build(req(size=size), "j").json["response_format"]
    assert (fmt["aspect_ratio"], fmt["resolution"], fmt["delivery"]) == (aspect, resolution, "uri")


def test_first_and_last_frames_go_in_order_after_the_prompt(tmp_path):
    first, last = still(tmp_path, 1280, 720, "first"), still(tmp_path, 1280, 720, "last")
    body = omni().build(req(first_frame=first, last_frame=last), "j").json
    assert [c["type"] for c in body["input"]] == ["text", "image", "image"]
    assert base64.b64decode(body["input"][1]["data"]) == first.read_bytes()
    assert base64.b64decode(body["input"][2]["data"]) == last.read_bytes()
    assert body["input"][1]["mime_type"] == "image/png"
    assert body["generation_config"] == {"video_config": {"task": "image_to_video"}}


def test_reference_images(tmp_path):
    refs = tuple(still(tmp_path, 512, 512, f"ref{i}") for i in range(3))
    body = omni().build(req(reference_images=refs), "j").json
    assert [c["type"] for c in body["input"]] == ["text", "image", "image", "image"]
    assert body["generation_config"]["video_config"]["task"] == "reference_to_video"


def test_refine_and_extend_name_the_earlier_interaction():
    o = omni()
    refine = o.build(req(prompt="now at night", remix_of="v1_abc123"), "j").json
    assert refine["previous_interaction_id"] == "v1_abc123"
    assert refine["generation_config"]["video_config"]["task"] == "edit"
    extend = o.build(req(prompt="the camera pulls back", extend_video="v1_abc123", seconds=6), "j").json
    assert (extend["previous_interaction_id"], extend["response_format"]["duration"]) == ("v1_abc123", "6s")
    assert extend["generation_config"]["video_config"]["task"] == "extend"


def test_a_local_clip_is_extended_inline(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(tiny_mp4())
    body = omni().build(req(extend_video=str(clip), seconds=5), "j").json
    assert "previous_interaction_id" not in body
    video = body["input"][1]
    assert (video["type"], video["mime_type"], base64.b64decode(video["data"])) == ("video", "video/mp4", tiny_mp4())


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"size": "1920x800"}, "cannot make 1920x800"),
        ({"seconds": 16}, "3 to 15 s"),
        ({"seconds": 2}, "3 to 15 s"),
        ({"seconds": 12, "extend_video": "v1_a"}, "3 to 10 s"),
        ({"remix_of": "v1_a", "extend_video": "v1_b"}, "not both"),
        ({"remix_of": "../some/file.mp4"}, "neither a video file"),
    ],
)
def test_refusals_before_anything_is_sent(kw, words):
    with pytest.raises(UnsupportedRequest, match=words):
        omni().build(req(**kw), "j")


def test_frame_rules(tmp_path):
    first, last = still(tmp_path, 1280, 720, "first"), still(tmp_path, 1280, 720, "last")
    with pytest.raises(UnsupportedRequest, match="3 to 10 s"):  # with a last frame, 10 s at most
        omni().build(req(first_frame=first, last_frame=last, seconds=12), "j")
    omni().build(req(first_frame=first, seconds=12), "j")  # a first frame alone: 1.2's full 15 s
    with pytest.raises(UnsupportedRequest, match="without reference images"):
        omni().build(req(first_frame=first, reference_images=(first,)), "j")
    with pytest.raises(UnsupportedRequest, match="3 to 10 s"):  # 1.1 makes 10 s at most
        omni(model="gemini-omni-1.1-flash").build(req(model="gemini-omni-1.1-flash", seconds=12), "j")


# --- the verbs against the fake ------------------------------------------------------------------


async def test_text_to_video_round_trip_waits_for_the_file_and_downloads_real_media(fake, client, tmp_path):
    o = omni(client, fake.url, staging_dir=tmp_path)
    job_id = await made(o, req(size="1080x1920", seconds=5))
    assert job_id in fake.interactions
    states = []
    for _ in range(6):
        status = await o.poll(job_id)
        states.append(status.raw_state)
        if status.state is JobState.SUCCEEDED:
            break
    assert states == ["in_progress", "in_progress", "file_processing", "completed"]  # the File read till ACTIVE
    media = status.media[0]
    assert media.url.endswith(":download?alt=media") and media.provider_id.startswith("files/")
    dest = tmp_path / "out.mp4"
    await download(client, o, media, dest)
    info = probe(dest)
    assert (info.width, info.height) == (180, 320) and info.rate == 24 and info.has_audio  # 9:16, scaled by SMALL
    assert all("x-goog-api-key" not in h for h in fake.blob_headers)  # the key stayed on the API host


async def test_inline_bytes_are_written_to_staging(fake, client, tmp_path):
    o = omni(client, fake.url, staging_dir=tmp_path)
    status = await poll_to_end(o, await made(o, fault="inline"))
    path = status.media[0].inline_path
    assert status.state is JobState.SUCCEEDED and path.parent == tmp_path and probe(path).rate == 24


async def test_refine_builds_on_the_earlier_interaction(fake, client, tmp_path):
    o = omni(client, fake.url, staging_dir=tmp_path)
    first = await made(o, req(size="720x1280", seconds=4))
    await poll_to_end(o, first)
    second = await made(o, req(prompt="the same, at night", remix_of=first, size=None, seconds=None))
    assert fake.interactions[second].body["previous_interaction_id"] == first
    assert fake.interactions[second].spec.height == 1280 and fake.interactions[second].spec.seconds == 4
    assert (await poll_to_end(o, second)).state is JobState.SUCCEEDED


async def test_find_created_cannot_look_up_a_lost_create(fake, client):
    o = omni(client, fake.url)
    call = o.build(req(), "job-1")
    call.headers["X-Fake-Fault"] = "drop"
    with pytest.raises(httpx.TransportError):
        await o.submit(call, o.staging_dir)
    assert fake.creates == 1  # the interaction was made: the engine must not resend blindly
    assert await o.find_created(call, "job-1", datetime.now(timezone.utc)) is None


async def test_cancel(fake, client):
    o = omni(client, fake.url)
    job_id = await made(o)
    await o.cancel(job_id)
    status = await o.poll(job_id)
    assert status.state is JobState.CANCELED


# --- errors -----------------------------------------------------------------------------------------


async def create_error(o: GeminiOmni, request=None, fault=None) -> ProviderError:
    with pytest.raises(ProviderError) as e:
        await made(o, request, fault)
    return e.value


@pytest.mark.parametrize(
    "fault, kind, wait",
    [
        ("create:429", ErrorKind.RATE_LIMITED, 2.0),
        ("create:500", ErrorKind.RETRYABLE, None),
        ("create:503", ErrorKind.RETRYABLE, None),
    ],
)
async def test_create_faults(fake, client, fault, kind, wait):
    err = await create_error(omni(client, fake.url), fault=fault)
    assert (err.kind, err.retry_after) == (kind, wait)
    assert fake.creates == 0


async def test_a_spent_daily_quota_is_billing(fake, client):
    fake.fail_next(
        "POST",
        CREATE,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaId": "GenerateVideoRequestsPerDayPerProject", "quotaValue": "0"}],
                }
            ],
        ),
    )
    assert (await create_error(omni(client, fake.url))).kind is ErrorKind.BILLING


async def test_an_unknown_model_is_retired_but_an_unknown_earlier_take_is_a_bad_request(fake, client):
    gone = await create_error(omni(client, fake.url, model="gemini-omni-0.9-flash"), req(model="gemini-omni-0.9-flash"))
    assert gone.kind is ErrorKind.RETIRED and gone.status == 404
    missing = await create_error(omni(client, fake.url), req(remix_of="v1_nothing_here"))
    assert missing.kind is ErrorKind.BAD_REQUEST and "not found" in missing.message


async def test_a_wrong_key_is_auth_and_never_echoed(fake, client):
    err = await create_error(omni(client, fake.url, key="AIzaWrongKey000000000000000"))
    assert err.kind is ErrorKind.AUTH and "AIzaWrongKey" not in str(err)


async def test_a_poll_fault_is_retryable(fake, client):
    o = omni(client, fake.url)
    job_id = await made(o)
    fake.fault("poll", "503")
    with pytest.raises(ProviderError) as e:
        await o.poll(job_id)
    assert e.value.kind is ErrorKind.RETRYABLE
    assert (await poll_to_end(o, job_id)).state is JobState.SUCCEEDED  # the job itself was fine


@pytest.mark.parametrize(
    "fault, kind",
    [
        ("moderation", ErrorKind.MODERATION),
        ("blocked", ErrorKind.MODERATION),
        ("no_media", ErrorKind.PROVIDER),
        ("failed", ErrorKind.PROVIDER),
        ("budget", ErrorKind.BILLING),
        ("file_failed", ErrorKind.PROVIDER),
    ],
)
async def test_outcome_faults(fake, client, fault, kind):
    o = omni(client, fake.url)
    status = await poll_to_end(o, await made(o, fault=fault))
    assert status.state is JobState.FAILED and status.error.kind is kind


async def test_a_slow_file_keeps_the_job_running(fake, client):
    o = omni(client, fake.url)
    job_id = await made(o, fault="slow_file")
    states = [(await o.poll(job_id)).raw_state for _ in range(6)]
    assert states == ["in_progress", "in_progress"] + ["file_processing"] * 3 + ["completed"]


@pytest.mark.parametrize("fault", ["truncate", "expired"])
async def test_download_faults(fake, client, tmp_path, fault):
    o = omni(client, fake.url)
    status = await poll_to_end(o, await made(o, fault=fault))
    dest = tmp_path / "out.mp4"
    if fault == "truncate":
        assert await download(client, o, status.media[0], dest) == 2  # the same job, fetched again
        assert probe(dest).rate == 24
    else:
        with pytest.raises(httpx.HTTPStatusError):
            await download(client, o, status.media[0], dest, attempts=1)


# --- the fake is strict ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, words",
    [
        ({"seed": 1}, 'Unknown name "seed"'),
        ({"background": False}, "background"),
        ({"response_format": {"type": "video", "resolution": "4k", "delivery": "inline"}}, "inline"),
        ({"response_format": {"type": "video", "duration": "20s"}}, "3s to 15s"),
        ({"model": "veo-3.0-generate-001"}, "Interactions API"),
        ({"generation_config": {"video_config": {"task": "image_to_video"}}}, "first frame"),
    ],
)
async def test_fake_refuses_what_the_service_would(fake, client, change, words):
    body = {**omni().build(req(), "j").json, **change}
    r = await client.post(fake.url + CREATE, json=body, headers={"x-goog-api-key": KEY})
    assert r.status_code == 400 and words in r.json()["error"]["message"]
    assert fake.creates == 0


async def test_fake_refuses_omni_on_predict_and_downloads_before_active(fake, client):
    r = await client.post(
        f"{fake.url}/v1beta/models/{MODEL}:predictLongRunning",
        json={"instances": [{"prompt": "x"}]},
        headers={"x-goog-api-key": KEY},
    )
    assert r.status_code == 400 and "only supports Interactions API" in r.text
    o = omni(client, fake.url)
    job_id = await made(o)
    for _ in range(3):
        status = await o.poll(job_id)
    assert status.raw_state == "file_processing"
    file_id = list(fake.files)[-1]
    r = await client.get(
        f"{fake.url}/v1beta/files/{file_id}:download", params={"alt": "media"}, headers={"x-goog-api-key": KEY}
    )
    assert r.status_code == 400 and "ACTIVE" in r.text
