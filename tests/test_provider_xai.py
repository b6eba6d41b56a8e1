"""xAI's videos API: exact request bodies per endpoint, a round trip against the strict fake, a truncated
download (the faults it shares with MiniMax and Luma: tests/test_provider_job_faults.py)."""

import base64

import httpx
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.xai import XAI
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeXAI, png_file, tiny_mp4
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.xai import frame

KEY = "xai-secret-key-abcdef123456"


@pytest.fixture(scope="module")
def server():
    with FakeXAI(key=KEY) as f:
        yield f


def xai(client, fake, model="grok-imagine-video"):
    return protocol(XAI, model, client, {"XAI_API_KEY": KEY}, fake.url)


def offline(client, model="grok-imagine-video"):
    return protocol(XAI, model, client, {"XAI_API_KEY": KEY}, "https://api.x.ai")


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "grok-imagine-video", "seconds": 6, "size": "1280x720", **kw}
    )


def test_registered_under_its_route_name():
    assert protocol_class("xai") is XAI


def test_build_text_to_video_exact(client):
    proto = offline(client)
    call = proto.build(req(), "job-1")
    assert (call.method, call.path) == ("POST", "/videos/generations")
    assert call.json == {
        "model": "grok-imagine-video",
        "prompt": "a lighthouse at dusk",
        "duration": 6,
        "aspect_ratio": "16:9",
        "resolution": "720p",
    }
    assert proto.base_url == "https://api.x.ai/v1" and KEY not in repr(call)
    portrait = proto.build(req(size="480x848"), "job-1").json
    assert (portrait["aspect_ratio"], portrait["resolution"]) == ("9:16", "480p")


def test_build_first_frame_and_references(client):
    png = png_file()
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    proto = offline(client)
    assert proto.build(req(first_frame=png), "j").json["image"] == {"url": uri}
    refs = proto.build(req(reference_images=(png, png)), "j").json
    assert refs["reference_images"] == [{"url": uri}, {"url": uri}] and "image" not in refs
    for bad in (
        req(first_frame=png, reference_images=(png,)),
        req(reference_images=(png,) * 8),
        req(first_frame=png, last_frame=png),
    ):
        with pytest.raises(UnsupportedRequest):
            proto.build(bad, "j")


def test_build_edit_and_extension_exact(client, tmp_path):
    proto = offline(client)
    url = "https://vidgen.x.ai/xai-vidgen-bucket/xai-video-1.mp4"
    edit = proto.build(req(remix_of=url, prompt="make it snow"), "j")
    assert (edit.path, edit.json) == (
        "/videos/edits",
        {"model": "grok-imagine-video", "prompt": "make it snow", "video": {"url": url}},
    )
    ext = proto.build(req(extend_video=url, seconds=4), "j")
    assert (ext.path, ext.json) == (
        "/videos/extensions",
        {"model": "grok-imagine-video", "prompt": "a lighthouse at dusk", "video": {"url": url}, "duration": 4},
    )
    clip = tmp_path / "source.mp4"
    clip.write_bytes(tiny_mp4())
    local = proto.build(req(extend_video=str(clip), seconds=2), "j").json["video"]["url"]
    assert local.startswith("data:video/mp4;base64,") and base64.b64decode(local.split(",", 1)[1]) == clip.read_bytes()
    with pytest.raises(UnsupportedRequest, match="2 to 10"):
        proto.build(req(extend_video=url, seconds=12), "j")
    mov = tmp_path / "source.mov"
    mov.write_bytes(b"x")
    with pytest.raises(UnsupportedRequest, match="MP4"):
        proto.build(req(extend_video=str(mov), seconds=4), "j")


@pytest.mark.parametrize(
    "model",
    [m for m in load_catalog().models.values() if any(r.protocol == "xai" for r in m.routes)],
    ids=lambda m: m.id,
)
async def test_every_catalog_size_and_length_is_accepted_by_the_fake(model, fake, client, tmp_path):
    """The catalog and the (strict) fake agree: every offered size builds, and the fake makes exactly that size."""
    route = next(r for r in model.routes if r.protocol == "xai")
    proto = xai(client, fake, route.model_id)
    for size in model.all_sizes():
        call = proto.build(
            GenerationRequest(prompt="p", model=model.id, seconds=model.allowed_durations(size)[-1], size=str(size)),
            "j",
        )
        sub = await proto.submit(call, tmp_path / "s")
        assert frame(call.json["aspect_ratio"], call.json["resolution"]) == (size.width, size.height)
        assert fake.jobs[sub.job_id].spec.width == size.width
    assert fake.creates == len(model.all_sizes())


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = xai(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.RUNNING, "pending")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1


async def test_edit_and_extend_an_earlier_take_by_its_url(fake, client, tmp_path):
    proto = xai(client, fake)
    sub = await proto.submit(proto.build(req(seconds=5), "j"), tmp_path / "s")
    url = (await poll_to_end(proto, sub.job_id)).media[0].url
    edit = await proto.submit(proto.build(req(remix_of=url, prompt="at night"), "j2"), tmp_path / "s")
    ext = await proto.submit(proto.build(req(extend_video=url, seconds=3), "j3"), tmp_path / "s")
    assert fake.jobs[edit.job_id].spec.seconds == 5 and fake.jobs[ext.job_id].spec.seconds == 8  # source + extension
    assert (await poll_to_end(proto, ext.job_id)).state is JobState.SUCCEEDED
    long = await proto.submit(proto.build(req(seconds=10), "j4"), tmp_path / "s")
    long_url = (await poll_to_end(proto, long.job_id)).media[0].url
    with pytest.raises(ProviderError) as e:  # xAI edits at most 8.7 s of video
        await proto.submit(proto.build(req(remix_of=long_url), "j5"), tmp_path / "s")
    assert e.value.kind is ErrorKind.BAD_REQUEST and "8.7" in e.value.message


async def test_strict_fake_refuses_fields_an_endpoint_does_not_take(fake, client):
    headers = {"Authorization": f"Bearer {KEY}"}
    r = await client.post(
        f"{fake.url}/v1/videos/edits",
        headers=headers,
        json={"model": "grok-imagine-video", "prompt": "p", "duration": 5, "video": {"url": "https://a/b.mp4"}},
    )
    assert r.status_code == 422 and "duration" in r.json()["error"]
    r = await client.post(
        f"{fake.url}/v1/videos/generations",
        headers=headers,
        json={"model": "grok-imagine-video", "prompt": "p", "resolution": "1080p"},
    )
    assert r.status_code == 400


async def test_truncated_download_fails_loudly(fake, client, tmp_path):
    proto = xai(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    fake.fault("media", "truncate")
    with pytest.raises(httpx.TransportError):
        await download(client, proto, status.media[0], tmp_path / "cut.mp4", attempts=1)
