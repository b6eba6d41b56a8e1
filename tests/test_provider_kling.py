"""Kling: JWT auth, exact bodies per endpoint, round trip, lookup by external_task_id, every fault."""

import base64
import time
from datetime import datetime, timezone

import httpx
import jwt
import pytest

from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.kling import Kling
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeKling, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.kling import ACCESS, SECRET

CREDS = {"KLING_ACCESS_KEY": ACCESS, "KLING_SECRET_KEY": SECRET}


@pytest.fixture(scope="module")
def server():
    with FakeKling() as f:
        yield f


def kling(client, base="https://x", model="kling-v2-6", creds=CREDS):
    return protocol(Kling, model, client, creds, base)


def req(**kw):
    return GenerationRequest(
        **{"prompt": "rain on a tin roof", "model": "kling-v2.6", "seconds": 5, "size": "1280x720", **kw}
    )


def test_build_text2video_exact(client):
    call = kling(client).build(req(negative_prompt="blur", audio=True), "job-7")
    assert (call.method, call.path) == ("POST", "/v1/videos/text2video")
    assert call.json == {
        "model_name": "kling-v2-6",
        "prompt": "rain on a tin roof",
        "negative_prompt": "blur",
        "duration": "5",
        "mode": "std",
        "aspect_ratio": "16:9",
        "sound": "on",
        "external_task_id": "job-7",
    }


def test_build_image2video_with_tail_pro_mode(client):

    png = png_file()
    call = kling(client).build(req(size="1920x1080", seconds=10, audio=False, first_frame=png, last_frame=png), "job-8")
    raw = base64.b64encode(png.read_bytes()).decode()
    assert call.path == "/v1/videos/image2video"
    assert call.json == {
        "model_name": "kling-v2-6",
        "prompt": "rain on a tin roof",
        "duration": "10",
        "mode": "pro",
        "sound": "off",
        "image": raw,
        "image_tail": raw,
        "external_task_id": "job-8",
    }
    assert not call.json["image"].startswith("data:")


def test_build_extend(client):
    call = kling(client).build(req(extend_video="v880000000000000001"), "job-9")
    assert (call.path, call.json) == (
        "/v1/videos/video-extend",
        {"prompt": "rain on a tin roof", "video_id": "v880000000000000001", "external_task_id": "job-9"},
    )


def test_jwt_claims_and_cache(client):
    proto = kling(client)
    token = proto.auth.token()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    now = time.time()
    assert claims["iss"] == ACCESS and 1790 <= claims["exp"] - now <= 1801 and now - 7 <= claims["nbf"] <= now - 4
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert proto.auth.token() == token  # cached
    proto.auth.signed_exp = now + 100  # within the refresh margin: a new one is signed
    assert proto.auth.token() != token or proto.auth.signed_exp > now + 1000


async def test_round_trip(fake, client, tmp_path):
    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(audio=True), "job-1"), tmp_path / "s")
    assert sub.job_id.startswith("text2video/") and sub.state is JobState.QUEUED
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    assert await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1) == 1 and frame_size(
        tmp_path / "o.mp4"
    ) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1
    assert all(SECRET not in str(c.headers) and ACCESS not in str(c.headers) for c in fake.api.calls)


async def test_image2video_round_trip(fake, client, tmp_path):

    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(first_frame=png_file()), "job-2"), tmp_path / "s")
    assert sub.job_id.startswith("image2video/")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED


async def test_find_created_by_external_task_id(fake, client, tmp_path):
    proto = kling(client, fake.url)
    call = proto.build(req(), "job-lost")
    fake.fault("create", "drop")  # the create lands, the answer is lost
    with pytest.raises(httpx.TransportError):
        await proto.submit(call, tmp_path / "s")
    assert fake.creates == 0  # dropped before the fake made the job: nothing to find
    assert await proto.find_created(call, "job-lost", datetime.now(timezone.utc)) is None
    fake.fault("answer", "drop")  # now the task is made and billed, and only the answer is lost
    with pytest.raises(httpx.TransportError):
        await proto.submit(call, tmp_path / "s")
    found = await proto.find_created(call, "job-lost", datetime.now(timezone.utc))
    assert found == f"text2video/{next(iter(fake.jobs))}"
    assert (await poll_to_end(proto, found)).state is JobState.SUCCEEDED
    assert fake.creates == 1


async def test_expired_token_is_refused_by_fake_then_refreshed(fake, client, tmp_path):
    proto = kling(client, fake.url)
    now = int(time.time())
    proto.auth.signed = jwt.encode({"iss": ACCESS, "exp": now - 10, "nbf": now - 100}, SECRET, algorithm="HS256")
    proto.auth.signed_exp = now + 10_000  # pretend the cache still trusts it
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j1"), tmp_path / "s")
    assert (e.value.kind, e.value.status) == (ErrorKind.RETRYABLE, 401) and "1004" in e.value.message
    sub = await proto.submit(proto.build(req(), "j1"), tmp_path / "s")  # the retry signs a fresh token
    assert sub.job_id


async def test_wrong_secret_is_auth(fake, client, tmp_path):
    proto = kling(
        client,
        fake.url,
        creds={"KLING_ACCESS_KEY": ACCESS, "KLING_SECRET_KEY": "not-the-secret-0123456789abcdefghijkl"},
    )
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH
    assert "not-the-secret-0123456789abcdefghijkl" not in str(e.value) and proto.auth.token() not in str(e.value)


@pytest.mark.parametrize(
    "fault, kind",
    [
        ("billing", ErrorKind.BILLING),
        ("arrears", ErrorKind.BILLING),
        ("rate", ErrorKind.RATE_LIMITED),
        ("moderation", ErrorKind.MODERATION),
        ("500", ErrorKind.RETRYABLE),
        ("envelope", ErrorKind.BAD_REQUEST),
    ],
)
async def test_create_errors_by_business_code(fake, client, tmp_path, fault, kind):
    fake.fault("create", fault)
    proto = kling(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is kind
    assert e.value.retryable is (kind in (ErrorKind.RATE_LIMITED, ErrorKind.RETRYABLE))
    if fault in ("billing", "arrears", "rate"):
        assert e.value.status == 429  # same HTTP status, different meaning
    assert fake.creates == 0


async def test_string_duration_checked_by_fake(fake, client):
    token = kling(client).auth.token()
    r = await client.post(
        f"{fake.url}/v1/videos/text2video",
        headers={"Authorization": f"Bearer {token}"},
        json={"model_name": "kling-v2-6", "prompt": "x", "duration": 5},
    )
    assert r.status_code == 400 and r.json()["code"] == 1201


SHOTS = [{"index": 1, "prompt": "a fox wakes", "duration": "4"}, {"index": 2, "prompt": "it runs", "duration": "6"}]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"multi_shot": True, "shot_type": "customize", "multi_prompt": SHOTS, "duration": "10"}, 0),
        ({"multi_shot": True, "shot_type": "intelligent", "duration": "10"}, 0),
        ({"multi_shot": True, "shot_type": "customize", "multi_prompt": SHOTS * 4, "duration": "10"}, 1201),  # 8 > 6
        ({"multi_shot": True, "multi_prompt": SHOTS, "duration": "12"}, 1201),  # 4 + 6 is not 12
        ({"multi_shot": True, "shot_type": "both", "duration": "10"}, 1201),
        ({"model_name": "kling-v2-6", "multi_shot": True, "shot_type": "intelligent", "duration": "10"}, 1201),
    ],
)
async def test_fake_takes_kling_3_multi_shot_fields(fake, client, body, code):
    """Kling 3.0's documented multi_shot / shot_type / multi_prompt are accepted, and checked, on v3 only."""
    token = kling(client).auth.token()
    r = await client.post(
        f"{fake.url}/v1/videos/text2video",
        headers={"Authorization": f"Bearer {token}"},
        json={"model_name": "kling-v3", "prompt": "a fox", **body},
    )
    assert r.json()["code"] == code, r.json()


@pytest.mark.parametrize("outcome, kind", [("failed", ErrorKind.MODERATION), ("empty", ErrorKind.PROVIDER)])
async def test_task_failures(fake, client, tmp_path, outcome, kind):
    fake.fault("outcome", outcome)
    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (JobState.FAILED, kind)


async def test_unknown_status_tolerated(fake, client, tmp_path):
    fake.fault("outcome", "unknown")
    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    for _ in range(3):
        status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, "queueing")


async def test_poll_rate_limit_has_a_delay(fake, client, tmp_path):
    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    fake.fault("poll", "rate")
    with pytest.raises(ProviderError) as e:
        await proto.poll(sub.job_id)
    assert e.value.kind is ErrorKind.RATE_LIMITED and e.value.retry_after > 0
