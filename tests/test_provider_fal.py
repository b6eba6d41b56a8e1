"""fal: queue submit per mode (sub-paths), returned URLs used as given, result video.url, faults."""

import base64
import json
from datetime import datetime

import pytest

from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.fal import Fal
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeFal, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from tests.auth_helpers import signed

KEY = "fal-key-id:fal-key-secret-0123456789"


@pytest.fixture(scope="module")
def server():
    with FakeFal(key=KEY) as f:
        yield f


def fal(client, base="https://queue.fal.run"):
    return protocol(Fal, "fal-ai/veo3.1", client, {"FAL_KEY": KEY}, base)


def veo(**kw):
    return GenerationRequest(
        **{"prompt": "a tram at night", "model": "veo-3.1", "seconds": 8, "size": "3840x2160", **kw}
    )


def uri(path):
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_build_per_mode_exact(client):
    call = fal(client).build(veo(seed=1, audio=True, negative_prompt="logos"), "j")
    assert (call.method, call.path) == ("POST", "/fal-ai/veo3.1")
    assert call.json == {
        "prompt": "a tram at night",
        "duration": "8s",
        "aspect_ratio": "16:9",
        "resolution": "4k",
        "negative_prompt": "logos",
        "seed": 1,
        "generate_audio": True,
    }
    png = png_file()
    call = fal(client).build(veo(size="1280x720", seconds=6, first_frame=png), "j")
    assert (call.path, call.json) == (
        "/fal-ai/veo3.1/image-to-video",
        {
            "prompt": "a tram at night",
            "duration": "6s",
            "aspect_ratio": "16:9",
            "resolution": "720p",
            "image_url": uri(png),
        },
    )
    call = fal(client).build(veo(size="720x1280", first_frame=png, last_frame=png), "j")
    assert call.path == "/fal-ai/veo3.1/first-last-frame-to-video"
    assert call.json["first_frame_url"] == call.json["last_frame_url"] == uri(png)
    assert call.json["aspect_ratio"] == "9:16"


def test_hosts_derived_from_one_base(client):
    proto = fal(client)
    assert signed(proto, "https://queue.fal.run/fal-ai/veo3.1/requests/1/status")["Authorization"] == f"Key {KEY}"
    assert signed(proto, "https://fal.run/fal-ai/veo3.1")["Authorization"] == f"Key {KEY}"
    assert "Authorization" not in signed(proto, "https://v3.fal.media/files/out.mp4")


@pytest.mark.parametrize("request_", [veo(size="1920x1080"), veo(size="1280x720", first_frame=png_file())])
async def test_round_trip_uses_returned_urls(fake, client, tmp_path, request_):
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(request_, "j"), tmp_path / "s")
    job = json.loads(sub.job_id)
    assert "/image-to-video" not in job["status_url"]  # the queue drops the sub-path; we did not rebuild it
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    assert await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1) == 1 and frame_size(
        tmp_path / "o.mp4"
    ) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1
    assert all(c.headers["authorization"] == f"Key {KEY}" for c in fake.api.calls)


async def test_status_url_on_a_foreign_host_gets_no_key(fake, client, tmp_path):
    proto = fal(client, fake.url)
    job = json.dumps(
        {"request_id": "1", "status_url": f"{fake.cdn.url}/steal", "response_url": f"{fake.cdn.url}/steal"}
    )
    with pytest.raises(ProviderError) as e:
        await proto.poll(job)
    assert e.value.kind is ErrorKind.PROVIDER and fake.cdn.calls == []


@pytest.mark.parametrize(
    "outcome, kind",
    [
        ("moderation", ErrorKind.MODERATION),
        ("runner", ErrorKind.RETRYABLE),
        ("empty", ErrorKind.PROVIDER),
    ],
)
async def test_result_failures(fake, client, tmp_path, outcome, kind):
    fake.fault("outcome", outcome)
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (JobState.FAILED, kind)


async def test_unknown_status_tolerated(fake, client, tmp_path):
    fake.fault("outcome", "unknown")
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    for _ in range(4):
        status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, "WARMING")


@pytest.mark.parametrize(
    "fault, kind, retry_after",
    [
        ("429", ErrorKind.RATE_LIMITED, 2.0),
        ("500", ErrorKind.RETRYABLE, None),
        ("locked", ErrorKind.BILLING, None),
    ],
)
async def test_submit_errors(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = fal(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert fake.creates == 0


async def test_poll_errors_are_retryable(fake, client, tmp_path):
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    for fault, kind in (("429", ErrorKind.RATE_LIMITED), ("500", ErrorKind.RETRYABLE), ("drop", ErrorKind.RETRYABLE)):
        fake.fault("poll", fault)
        with pytest.raises(ProviderError) as e:
            await proto.poll(sub.job_id)
        assert e.value.kind is kind


async def test_strict_fake_rejects_int_duration_and_bad_key(fake, client, tmp_path):
    r = await client.post(
        f"{fake.url}/fal-ai/veo3.1", headers={"Authorization": f"Key {KEY}"}, json={"prompt": "x", "duration": 8}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "duration"]
    proto = protocol(Fal, "fal-ai/veo3.1", client, {"FAL_KEY": "wrong:key-0123456789"}, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH and "wrong:key-0123456789" not in str(e.value)


async def test_cancel_while_queued(fake, client, tmp_path):
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(veo(), "j"), tmp_path / "s")
    await proto.cancel(sub.job_id)
    assert fake.api.calls_to("PUT", r".*/cancel")
    assert (await proto.poll(sub.job_id)).state is JobState.CANCELED
    assert await proto.find_created(proto.build(veo(), "j"), "j", datetime.now()) is None


async def test_app_gone_is_retired(fake, client, tmp_path):
    proto = fal(client, fake.url)
    call = proto.build(veo(), "j")
    call.path = "/fal-ai/veo2-gone"
    with pytest.raises(ProviderError) as e:
        await proto.submit(call, tmp_path / "s")
    assert e.value.kind is ErrorKind.RETIRED
