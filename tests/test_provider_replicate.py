"""Replicate: per-model input mapping (data table), Prefer: wait, polling, aborted, find_created, faults."""

import base64
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError, WireCall
from promptreel.core.providers.replicate import Replicate
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeReplicate, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol

KEY = "r8_fakeTokenForTests0123456789"


# Sora's resold apps answer "model not found" since OpenAI shut the Sora API down on 2026-09-24: the
# mapping is tested as they answered before that day, and today's answer on its own.
BEFORE_SORA_SHUTDOWN = date(2026, 9, 1)


@pytest.fixture(scope="module")
def server():
    with FakeReplicate(key=KEY) as f:
        f.today = BEFORE_SORA_SHUTDOWN
        yield f


def rep(client, model, base="https://x"):
    return protocol(Replicate, model, client, {"REPLICATE_API_TOKEN": KEY}, base)


def veo(**kw):
    return GenerationRequest(**{"prompt": "a fox in snow", "model": "veo-3.1", "seconds": 8, "size": "1920x1080", **kw})


def uri(path):
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_build_veo_text_and_frames_exact(client):
    call = rep(client, "google/veo-3.1").build(veo(negative_prompt="text", seed=3, audio=False), "j")
    assert (call.method, call.path, call.headers) == (
        "POST",
        "/models/google/veo-3.1/predictions",
        {"Prefer": "wait=5"},
    )
    assert call.json == {
        "input": {
            "prompt": "a fox in snow",
            "duration": 8,
            "aspect_ratio": "16:9",
            "resolution": "1080p",
            "negative_prompt": "text",
            "seed": 3,
            "generate_audio": False,
        }
    }
    png = png_file()
    call = rep(client, "google/veo-3.1").build(veo(size="720x1280", first_frame=png, last_frame=png), "j")
    assert call.json["input"] == {
        "prompt": "a fox in snow",
        "duration": 8,
        "aspect_ratio": "9:16",
        "resolution": "720p",
        "image": uri(png),
        "last_frame": uri(png),
    }


def test_build_sora_pro_renames_exact(client):
    req = GenerationRequest(prompt="a kite", model="sora-2-pro", seconds=12, size="1792x1024", first_frame=png_file())
    call = rep(client, "openai/sora-2-pro").build(req, "j")
    assert call.json == {
        "input": {
            "prompt": "a kite",
            "seconds": 12,
            "aspect_ratio": "landscape",
            "resolution": "high",
            "input_reference": uri(png_file()),
        }
    }
    with pytest.raises(UnsupportedRequest, match="720p, 1024p"):
        rep(client, "openai/sora-2-pro").build(GenerationRequest(prompt="a kite", seconds=12, size="1920x1080"), "j")


def test_build_sora_and_gen45_exact(client):
    call = rep(client, "openai/sora-2").build(GenerationRequest(prompt="p", seconds=4, size="720x1280"), "j")
    assert call.json == {"input": {"prompt": "p", "seconds": 4, "aspect_ratio": "portrait"}}
    call = rep(client, "runwayml/gen-4.5").build(GenerationRequest(prompt="p", seconds=5, size="1104x832", seed=9), "j")
    assert call.json == {"input": {"prompt": "p", "duration": 5, "aspect_ratio": "4:3", "seed": 9}}


def test_unsupported_inputs_refused(client, tmp_path):
    with pytest.raises(UnsupportedRequest, match="last frame"):
        rep(client, "openai/sora-2").build(
            GenerationRequest(prompt="p", seconds=4, size="720x1280", first_frame=png_file(), last_frame=png_file()),
            "j",
        )
    with pytest.raises(UnsupportedRequest, match="input schema"):
        rep(client, "someone/unknown-model").build(veo(), "j")


@pytest.mark.parametrize(
    "model, request_",
    [
        ("google/veo-3.1", veo(first_frame=png_file(), audio=True)),
        ("openai/sora-2-pro", GenerationRequest(prompt="p", seconds=8, size="1280x720")),
        ("runwayml/gen-4.5", GenerationRequest(prompt="p", seconds=5, size="1280x720", first_frame=png_file())),
    ],
)
async def test_round_trip_each_model(fake, client, tmp_path, model, request_):
    proto = rep(client, model, fake.url)
    sub = await proto.submit(proto.build(request_, "j"), tmp_path / "s")
    assert sub.state is JobState.QUEUED
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    assert status.media[0].expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    assert await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1) == 1 and frame_size(
        tmp_path / "o.mp4"
    ) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1
    assert fake.api.calls[0].headers["prefer"] == "wait=5"


async def test_done_within_wait_returns_media_at_once(fake, client, tmp_path):
    fake.fault("outcome", "instant")
    proto = rep(client, "google/veo-3.1", fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert sub.state is JobState.SUCCEEDED and sub.media.url.endswith(".mp4")


@pytest.mark.parametrize(
    "outcome, state, kind",
    [
        ("aborted", JobState.FAILED, ErrorKind.RETRYABLE),
        ("failed", JobState.FAILED, ErrorKind.RETRYABLE),
        ("nsfw", JobState.FAILED, ErrorKind.MODERATION),
        ("empty", JobState.FAILED, ErrorKind.PROVIDER),
    ],
)
async def test_prediction_endings(fake, client, tmp_path, outcome, state, kind):
    fake.fault("outcome", outcome)
    proto = rep(client, "google/veo-3.1", fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (state, kind)


async def test_unknown_status_tolerated_and_cancel(fake, client, tmp_path):
    fake.fault("outcome", "unknown")
    proto = rep(client, "google/veo-3.1", fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    for _ in range(3):
        status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, "waking_up")
    await proto.cancel(sub.job_id)
    assert (await proto.poll(sub.job_id)).state is JobState.CANCELED


@pytest.mark.parametrize(
    "fault, kind, retry_after",
    [
        ("429", ErrorKind.RATE_LIMITED, 4.0),
        ("402", ErrorKind.BILLING, None),
        ("422", ErrorKind.BAD_REQUEST, None),
        ("500", ErrorKind.RETRYABLE, None),
        ("503", ErrorKind.RETRYABLE, None),
    ],
)
async def test_problem_json_errors(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = rep(client, "google/veo-3.1", fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert fake.creates == 0


async def test_strict_fake_catches_wrong_field_types(fake, client):
    r = await client.post(
        f"{fake.url}/v1/models/google/veo-3.1/predictions",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"input": {"prompt": "x", "duration": "8"}},
    )
    assert r.status_code == 422 and "duration" in r.json()["detail"]


async def test_find_created_after_lost_answer(fake, client, tmp_path):
    proto = rep(client, "google/veo-3.1", fake.url)
    other = await proto.submit(proto.build(veo(prompt="another shot"), "a"), tmp_path / "s")
    sent_at = datetime.now(timezone.utc)
    call = proto.build(veo(first_frame=png_file()), "b")
    fake.fault("answer", "drop")
    with pytest.raises(httpx.TransportError):
        await proto.submit(call, tmp_path / "s")
    found = await proto.find_created(call, "b", sent_at)
    assert found is not None and found != other.job_id
    assert fake.jobs[found].body["input"]["prompt"] == "a fox in snow"
    assert await proto.find_created(proto.build(veo(prompt="never sent"), "c"), "c", sent_at) is None
    assert fake.creates == 2


async def test_wrong_token_is_auth(fake, client, tmp_path):
    proto = protocol(Replicate, "google/veo-3.1", client, {"REPLICATE_API_TOKEN": "r8_wrong0123456789"}, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH and "r8_wrong0123456789" not in str(e.value)


async def test_model_gone_is_retired(fake, client, tmp_path):
    proto = rep(client, "google/veo-9", fake.url)
    call = WireCall("POST", "/models/google/veo-9/predictions", json={"input": {"prompt": "x"}})
    with pytest.raises(ProviderError) as e:
        await proto.submit(call, tmp_path / "s")
    assert e.value.kind is ErrorKind.RETIRED


BIG = ("big.png", "1920x1080")  # a real PNG whose data URI passes 256 KB


@pytest.mark.parametrize(
    "given",
    [
        "https://api.replicate.com/v1",
        "https://api.replicate.com",
        "https://api.replicate.com/v1/",
        "https://proxy.example/replicate/v1",
    ],
)
def test_base_url_takes_the_sdk_form_and_the_bare_host(client, given):
    expected = given.rstrip("/").removesuffix("/v1") + "/v1"
    assert rep(client, "google/veo-3.1", given).base_url == expected
    assert rep(client, "google/veo-3.1", None).base_url == "https://api.replicate.com/v1"


@pytest.mark.parametrize("form", ["sdk", "bare"])
async def test_round_trip_with_either_base_url_form(fake, client, tmp_path, form):
    proto = rep(client, "google/veo-3.1", fake.base_url if form == "sdk" else fake.url)
    assert fake.base_url.endswith("/v1")
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED
    assert [c.path for c in fake.api.calls][:1] == ["/v1/models/google/veo-3.1/predictions"]


def test_big_image_waits_for_upload_small_one_goes_inline(client):
    big, small = png_file(*BIG), png_file()
    assert len(uri(big)) > 256 * 1024 >= len(uri(small))
    call = rep(client, "google/veo-3.1").build(veo(first_frame=big, last_frame=small), "j")
    assert call.json["input"]["image"] == "upload:0" and call.json["input"]["last_frame"] == uri(small)
    assert call.files == {"upload:0": (big.name, big.read_bytes(), "image/png")}
    assert rep(client, "google/veo-3.1").build(veo(first_frame=small), "j").files is None


async def test_big_image_goes_through_the_files_api(fake, client, tmp_path):
    big, small = png_file(*BIG), png_file()
    proto = rep(client, "google/veo-3.1", fake.base_url)
    sub = await proto.submit(proto.build(veo(first_frame=big, last_frame=small), "j"), tmp_path / "s")
    uploads = fake.calls_to("POST", r"/v1/files")
    assert len(uploads) == 1 and uploads[0].headers["content-type"].startswith("multipart/form-data")
    (stored,) = fake.files.values()
    assert stored["size"] == big.stat().st_size and stored["content_type"] == "image/png" and stored["name"] == big.name
    sent = fake.jobs[sub.job_id].body["input"]
    assert sent["image"] == stored["urls"]["get"] and sent["last_frame"] == uri(small)
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED and fake.creates == 1


async def test_upload_failure_creates_nothing(fake, client, tmp_path):
    fake.fault("upload", "500")
    proto = rep(client, "google/veo-3.1", fake.base_url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(veo(first_frame=png_file(*BIG)), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.RETRYABLE and e.value.status == 500
    assert fake.creates == 0 and fake.calls_to("POST", r"/v1/models/.+") == []


async def test_files_api_fake_is_strict(fake, client):
    auth = {"Authorization": f"Bearer {KEY}"}
    ok = await client.post(f"{fake.url}/v1/files", headers=auth, files={"content": ("a.png", b"x", "image/png")})
    assert ok.status_code == 201 and ok.json()["urls"]["get"].endswith(ok.json()["id"])
    for bad in (
        {"files": {"file": ("a.png", b"x", "image/png")}},  # the part must be `content`
        {"files": {"content": ("a.png", b"x", "image/png")}, "data": {"purpose": "x"}},  # unknown field
        {"json": {"content": "eA=="}},  # not multipart
        {"files": {"content": ("a.png", b"x", "image/png")}, "data": {"metadata": "{not json"}},
    ):
        r = await client.post(f"{fake.url}/v1/files", headers=auth, **bad)
        assert r.status_code in (415, 422), bad
    big = {"input": {"prompt": "x", "image": uri(png_file(*BIG))}}
    r = await client.post(f"{fake.url}/v1/models/google/veo-3.1/predictions", headers=auth, json=big)
    assert r.status_code == 422 and "Files API" in r.json()["detail"]
    made_up = {"input": {"prompt": "x", "image": f"{fake.url}/v1/files/f999999"}}
    r = await client.post(f"{fake.url}/v1/models/google/veo-3.1/predictions", headers=auth, json=made_up)
    assert r.status_code == 422 and "not a file that exists" in r.json()["detail"]


async def test_sora_on_replicate_today_answers_not_found(fake, client, tmp_path):
    """Since 2026-09-24 Replicate's Sora models answer 404: the route is retired, not failed."""
    fake.today = None
    try:
        proto = rep(client, "openai/sora-2-pro", fake.url)
        with pytest.raises(ProviderError) as e:
            await proto.submit(
                proto.build(GenerationRequest(prompt="p", seconds=8, size="1280x720"), "j"), tmp_path / "s"
            )
        assert e.value.kind is ErrorKind.RETIRED and fake.creates == 0
    finally:
        fake.today = BEFORE_SORA_SHUTDOWN
