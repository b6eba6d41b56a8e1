"""Luma's Agents API (Ray 3.2): exact request bodies per kind and a round trip against the strict fake (its
faults, shared with xAI and MiniMax: tests/test_provider_job_faults.py)."""

import base64

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.luma import Luma
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeLuma, png_file, tiny_mp4
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.luma import frame

KEY = "luma-secret-key-abcdef123456"


@pytest.fixture(scope="module")
def server():
    with FakeLuma(key=KEY) as f:
        yield f


def luma(client, fake, model="ray-3.2"):
    return protocol(Luma, model, client, {"LUMA_AGENTS_API_KEY": KEY}, fake.url)


def offline(client):
    return protocol(Luma, "ray-3.2", client, {"LUMA_AGENTS_API_KEY": KEY}, "https://agents.lumalabs.ai")


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "ray-3.2", "seconds": 5, "size": "1280x720", **kw}
    )


def test_registered_under_its_route_name():
    assert protocol_class("luma") is Luma


def test_build_text_to_video_exact(client):
    proto = offline(client)
    call = proto.build(req(), "job-1")
    assert (call.method, call.path) == ("POST", "/generations") and proto.base_url == "https://agents.lumalabs.ai/v1"
    assert call.json == {
        "type": "video",
        "model": "ray-3.2",
        "prompt": "a lighthouse at dusk",
        "aspect_ratio": "16:9",
        "video": {"resolution": "720p", "duration": "5s"},
    }
    assert KEY not in repr(call)


def test_build_first_and_last_frames_as_keyframes(client):
    png = png_file()
    data = base64.b64encode(png.read_bytes()).decode()
    call = offline(client).build(req(seconds=10, size="1080x1920", first_frame=png, last_frame=png), "j")
    video = call.json["video"]
    assert video["keyframes"] == [{"data": data, "media_type": "image/png"}] * 2
    assert video["keyframe_indexes"] == [0, 240] and video["duration"] == "10s" and video["resolution"] == "1080p"
    assert call.json["aspect_ratio"] == "9:16"


def test_build_edit_and_extension_exact(client, tmp_path):
    proto = offline(client)
    edit = proto.build(req(remix_of="gen-1", prompt="make it snow"), "j").json
    assert edit == {
        "type": "video_edit",
        "model": "ray-3.2",
        "prompt": "make it snow",
        "source": {"generation_id": "gen-1"},
        "video": {"resolution": "720p"},
    }
    ext = proto.build(req(extend_video="gen-1"), "j").json
    assert ext["type"] == "video" and ext["video"]["start_frame"] == {"generation_id": "gen-1"}
    clip = tmp_path / "source.mp4"
    clip.write_bytes(tiny_mp4())
    local = proto.build(req(remix_of=str(clip)), "j").json["source"]
    assert local["media_type"] == "video/mp4" and base64.b64decode(local["data"]) == clip.read_bytes()
    for bad, match in (
        (req(extend_video="gen-1", seconds=10), "5 s a call"),
        (req(extend_video=str(clip)), "own generations"),
        (req(seconds=6), "5 or 10"),
        (req(reference_images=(png_file(),)), "reference"),
        (req(size="1000x1000"), "cannot make"),
    ):
        with pytest.raises(UnsupportedRequest, match=match):
            proto.build(bad, "j")


@pytest.mark.parametrize(
    "model",
    [m for m in load_catalog().models.values() if any(r.protocol == "luma" for r in m.routes)],
    ids=lambda m: m.id,
)
async def test_every_catalog_size_and_length_is_accepted_by_the_fake(model, fake, client, tmp_path):
    route = next(r for r in model.routes if r.protocol == "luma")
    proto = luma(client, fake, route.model_id)
    for size in model.all_sizes():
        for seconds in model.allowed_durations(size):
            call = proto.build(GenerationRequest(prompt="p", model=model.id, seconds=seconds, size=str(size)), "j")
            sub = await proto.submit(call, tmp_path / "s")
            assert frame(call.json["aspect_ratio"], call.json["video"]["resolution"]) == (size.width, size.height)
            assert fake.jobs[sub.job_id].spec.height == size.height


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = luma(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 180)
    assert fake.key_leaks() == [] and fake.creates == 1


async def test_edit_and_extend_an_earlier_generation(fake, client, tmp_path):
    proto = luma(client, fake)
    sub = await proto.submit(proto.build(req(size="720x1280"), "j"), tmp_path / "s")
    with pytest.raises(ProviderError) as early:  # not finished yet: Luma refuses to build on it
        await proto.submit(proto.build(req(extend_video=sub.job_id), "j2"), tmp_path / "s")
    assert early.value.kind is ErrorKind.BAD_REQUEST
    await poll_to_end(proto, sub.job_id)
    edit = await proto.submit(proto.build(req(remix_of=sub.job_id, size="720x1280"), "j3"), tmp_path / "s")
    ext = await proto.submit(proto.build(req(extend_video=sub.job_id, size="720x1280"), "j4"), tmp_path / "s")
    assert (fake.jobs[edit.job_id].spec.width, fake.jobs[edit.job_id].spec.seconds) == (720, 5)
    assert (await poll_to_end(proto, ext.job_id)).state is JobState.SUCCEEDED


async def test_strict_fake_refuses_what_the_sdk_types_forbid(fake, client):
    headers = {"Authorization": f"Bearer {KEY}"}
    base = {"type": "video", "model": "ray-3.2", "prompt": "p"}
    png = {"data": "aGk=", "media_type": "image/png"}
    for body in (
        {**base, "video": {"duration": 5}},
        {**base, "video": {"duration": "10s", "start_frame": png}},
        {**base, "video": {"keyframes": [png], "keyframe_indexes": [121]}},
        {**base, "video": {"keyframes": [png], "keyframe_indexes": [0], "start_frame": png}},
        {**base, "video": {"start_frame": {"data": "aGk="}}},
        {**base, "seconds": 5},
        {**base, "type": "video_edit", "source": {"url": "https://a/b.mp4"}},
    ):
        r = await client.post(f"{fake.url}/v1/generations", headers=headers, json=body)
        assert r.status_code == 400, body
