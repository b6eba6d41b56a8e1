"""LTX: exact bodies, the synchronous MP4 answer streamed to the staging path, every fault."""

import base64

import httpx
import pytest

from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.ltx import LTX
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeLTX, png_file
from promptreel.core.sandbox.drive import frame_size, protocol

KEY = "ltx-key-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    with FakeLTX(key=KEY) as f:
        yield f


def ltx(client, base="https://x", model="ltx-2-3-pro"):
    return protocol(LTX, model, client, {"LTX_API_KEY": KEY}, base)


def req(**kw):
    return GenerationRequest(**{"prompt": "a paper boat in a gutter", "model": "ltx-2.3-pro", "seconds": 6,
                                "size": "1920x1080", "fps": 25, **kw})


def test_build_text_to_video_exact(client):
    call = ltx(client).build(req(audio=True), "job-1")
    assert (call.method, call.path) == ("POST", "/v1/text-to-video")
    assert call.json == {"prompt": "a paper boat in a gutter", "model": "ltx-2-3-pro", "duration": 6,
                         "resolution": "1920x1080", "fps": 25, "generate_audio": True}


def test_build_image_to_video_exact(client):
    png = png_file()
    call = ltx(client).build(req(fps=50, first_frame=png), "job-1")
    assert call.path == "/v1/image-to-video"
    assert call.json == {"prompt": "a paper boat in a gutter", "model": "ltx-2-3-pro", "duration": 6, "resolution": "1920x1080",
                         "fps": 50, "image_uri": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()}


def test_refuses_rates_and_inputs_it_cannot_take(client):
    with pytest.raises(UnsupportedRequest, match="24, 25, 48 or 50"):
        ltx(client).build(req(fps=30), "j")
    with pytest.raises(UnsupportedRequest, match="first-frame"):
        ltx(client).build(req(first_frame=png_file(), last_frame=png_file()), "j")


@pytest.mark.parametrize("fps", [24, 48])
async def test_ltx_2_3_rates_and_portrait_sizes_are_made(fake, client, tmp_path, fps):
    """LTX-2.3 renders at 24/25/48/50 fps and in portrait up to 2160x3840 (docs.ltx.video/models)."""
    proto = ltx(client, fake.url)
    call = proto.build(req(fps=fps, size="2160x3840"), "j")
    assert (call.json["fps"], call.json["resolution"]) == (fps, "2160x3840")
    submitted = await proto.submit(call, tmp_path / "out.mp4")
    assert submitted.job_id


async def test_mp4_body_streams_into_staging(fake, client, tmp_path):
    proto = ltx(client, fake.url)
    staging = tmp_path / "job-1.part"
    sub = await proto.submit(proto.build(req(), "job-1"), staging)
    assert sub.state is JobState.SUCCEEDED and sub.media.inline_path == staging
    assert sub.job_id == next(iter(fake.jobs))  # the x-request-id
    assert frame_size(staging) == (320, 180)
    assert fake.creates == 1 and all(c.headers["authorization"] == f"Bearer {KEY}" for c in fake.api.calls)


@pytest.mark.parametrize("fault, kind, retry_after", [
    ("429", ErrorKind.RATE_LIMITED, 3.0),
    ("concurrency", ErrorKind.RATE_LIMITED, 10.0),
    ("500", ErrorKind.RETRYABLE, None),
    ("moderation", ErrorKind.MODERATION, None),
])
async def test_errors_classified(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = ltx(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert not (tmp_path / "s.mp4").exists()


async def test_truncated_mp4_is_retryable_and_leaves_nothing(fake, client, tmp_path):
    fake.fault("create", "truncate")
    proto = ltx(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert e.value.kind is ErrorKind.RETRYABLE
    assert not (tmp_path / "s.mp4").exists()


async def test_success_without_video_is_a_failure(fake, client, tmp_path):
    fake.fault("create", "json")
    proto = ltx(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert e.value.kind is ErrorKind.PROVIDER


async def test_strict_fake_rejects_wrong_types(fake, client, tmp_path):
    r = await client.post(f"{fake.url}/v1/text-to-video", headers={"Authorization": f"Bearer {KEY}"},
                          json={"prompt": "x", "model": "ltx-2-3-pro", "duration": "6", "resolution": "1920x1080"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


async def test_wrong_key_is_auth(fake, client, tmp_path):
    proto = protocol(LTX, "ltx-2-3-pro", client, {"LTX_API_KEY": "ltx-wrong-0123456789"}, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert e.value.kind is ErrorKind.AUTH and "ltx-wrong-0123456789" not in str(e.value)


async def test_lost_answer_propagates_and_cannot_be_found(fake, client, tmp_path):
    fake.fault("create", "drop")
    proto = ltx(client, fake.url)
    with pytest.raises(httpx.TransportError):
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert await proto.find_created(proto.build(req(), "j"), "j", __import__("datetime").datetime.now()) is None
