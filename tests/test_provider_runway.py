"""Runway: exact request bodies, a full round trip against the fake, and every fault classified."""

import base64

import httpx
import pytest

from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.runway import Runway
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeRunway, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol

KEY = "rw-secret-key-abcdef123456"


@pytest.fixture(scope="module")
def server():
    with FakeRunway(key=KEY) as f:
        yield f


def runway(client, fake, model="gen4.5"):
    return protocol(Runway, model, client, {"RUNWAYML_API_SECRET": KEY}, fake.url)


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "gen-4.5", "seconds": 5, "size": "1280x720", **kw}
    )


def test_build_text_to_video_exact(client):
    call = protocol(Runway, "gen4.5", client, {"RUNWAYML_API_SECRET": KEY}, "https://x").build(req(seed=7), "job-1")
    assert (call.method, call.path) == ("POST", "/v1/text_to_video")
    assert call.json == {
        "model": "gen4.5",
        "promptText": "a lighthouse at dusk",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 7,
    }
    assert call.headers == {"X-Runway-Version": "2024-11-06"}
    assert KEY not in repr(call)


def test_build_image_to_video_and_last_frame(client):
    png = png_file()
    proto = protocol(Runway, "gen4_turbo", client, {"RUNWAYML_API_SECRET": KEY}, "https://x")
    call = proto.build(req(size="960x960", first_frame=png), "job-1")
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    assert call.path == "/v1/image_to_video"
    assert call.json == {
        "model": "gen4_turbo",
        "promptText": "a lighthouse at dusk",
        "ratio": "960:960",
        "duration": 5,
        "promptImage": uri,
    }
    with pytest.raises(UnsupportedRequest, match="first frame only"):  # gen4_turbo's promptImage positions: first
        proto.build(req(first_frame=png, last_frame=png), "job-1")
    veo = protocol(Runway, "veo3.1", client, {"RUNWAYML_API_SECRET": KEY}, "https://x")
    call = veo.build(req(seconds=8, first_frame=png, last_frame=png), "job-1")
    assert call.json["promptImage"] == [{"uri": uri, "position": "first"}, {"uri": uri, "position": "last"}]


async def test_veo_on_runway_sends_audio_and_negative_prompt(fake, client, tmp_path):
    """Runway's veo3.1 input takes `audio` and `negativePrompt` (runwayml/sdk-python Veo3_1); gen4.5's takes neither."""
    proto = runway(client, fake, "veo3.1")
    call = proto.build(req(model="veo-3.1", seconds=8, negative_prompt="text, logos", audio=False), "job-1")
    assert (call.json["audio"], call.json["negativePrompt"]) == (False, "text, logos")
    sub = await proto.submit(call, tmp_path / "s.mp4")
    assert sub.job_id and fake.api.calls[-1].json()["audio"] is False
    plain = runway(client, fake).build(req(negative_prompt="text", audio=False), "job-2")
    assert "audio" not in plain.json and "negativePrompt" not in plain.json


def test_image_over_5mb_refused_clearly(client, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + b"\0" * (4 * 1024 * 1024))
    with pytest.raises(UnsupportedRequest, match="5120 KB"):
        runway(client, type("F", (), {"url": "https://x"})()).build(req(first_frame=big), "job-1")


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    assert status.next_poll_s >= 5.0
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1
    assert all(c.headers["x-runway-version"] == "2024-11-06" for c in fake.api.calls)


async def test_missing_version_header_is_rejected_by_fake(fake, client):
    r = await client.post(f"{fake.url}/v1/text_to_video", headers={"Authorization": f"Bearer {KEY}"}, json={})
    assert r.status_code == 400 and "X-Runway-Version" in r.json()["error"]


async def test_throttled_is_queued_then_succeeds(fake, client, tmp_path):
    fake.fault("outcome", "throttled")
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.QUEUED, "THROTTLED")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED


@pytest.mark.parametrize(
    "outcome, state, kind",
    [
        ("safety", JobState.FAILED, ErrorKind.MODERATION),
        ("bad_output", JobState.FAILED, ErrorKind.RETRYABLE),
        ("empty", JobState.FAILED, ErrorKind.PROVIDER),
    ],
)
async def test_task_failures(fake, client, tmp_path, outcome, state, kind):
    fake.fault("outcome", outcome)
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (state, kind)
    assert status.error.retryable is (kind is ErrorKind.RETRYABLE)


async def test_unknown_status_tolerated(fake, client, tmp_path):
    fake.fault("outcome", "unknown")
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    for _ in range(3):
        status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, "WARMING_UP")


@pytest.mark.parametrize(
    "fault, kind, retry_after",
    [
        ("429", ErrorKind.RATE_LIMITED, 7.0),
        ("429-bare", ErrorKind.RATE_LIMITED, None),
        ("500", ErrorKind.RETRYABLE, None),
        ("503", ErrorKind.RETRYABLE, None),
        ("credits", ErrorKind.BILLING, None),
    ],
)
async def test_create_errors_classified(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = runway(client, fake)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert fake.creates == 0


async def test_wrong_key_is_auth_and_never_echoed(fake, client, tmp_path):
    wrong = "rw-wrong-key-zyxwvu987654"
    proto = protocol(Runway, "gen4.5", client, {"RUNWAYML_API_SECRET": wrong}, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH
    assert wrong not in str(e.value) and "[redacted]" in str(e.value)


async def test_bad_request_refused_before_sending_and_by_the_strict_fake(fake, client, tmp_path):
    proto = runway(client, fake, model="gen4_turbo")  # no text_to_video for gen4_turbo
    with pytest.raises(UnsupportedRequest, match="gen4_turbo on Runway makes no video from text"):
        proto.build(req(), "j")
    body = {"model": "gen4_turbo", "promptText": "a lighthouse", "ratio": "1280:720", "duration": 5}
    r = await client.post(
        f"{fake.url}/v1/text_to_video",
        json=body,
        headers={"Authorization": f"Bearer {KEY}", "X-Runway-Version": "2024-11-06"},
    )
    assert r.status_code == 400 and "model" in r.json()["error"] and fake.creates == 0


async def test_poll_transport_errors_are_retryable(fake, tmp_path):
    async with httpx.AsyncClient(timeout=0.5) as short:
        proto = runway(short, fake)
        sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
        for fault in ("drop", "slow"):
            fake.fault("poll", fault)
            with pytest.raises(ProviderError) as e:
                await proto.poll(sub.job_id)
            assert e.value.kind is ErrorKind.RETRYABLE


async def test_lost_create_answer_propagates_transport_error(fake, client, tmp_path):
    fake.fault("create", "drop")
    proto = runway(client, fake)
    with pytest.raises(httpx.TransportError):
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert await proto.find_created(proto.build(req(), "j"), "j", __import__("datetime").datetime.now()) is None


async def test_cancel(fake, client, tmp_path):
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    await proto.cancel(sub.job_id)
    assert (await proto.poll(sub.job_id)).state is JobState.CANCELED


async def test_truncated_download_fails_loudly(fake, client, tmp_path):
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    fake.fault("media", "truncate")
    with pytest.raises(httpx.TransportError):
        await download(client, proto, status.media[0], tmp_path / "cut.mp4", attempts=1)


async def test_expired_output_url_then_fresh_one_from_a_new_poll(fake, client, tmp_path):
    proto = runway(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    fake.fault("media", "expired")
    with pytest.raises(httpx.HTTPStatusError):
        await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1)
    again = await proto.poll(sub.job_id)  # Runway hands out fresh URLs on every GET of a finished task
    assert await download(client, proto, again.media[0], tmp_path / "o.mp4", attempts=1) == 1 and frame_size(
        tmp_path / "o.mp4"
    ) == (320, 180)
    assert fake.creates == 1
