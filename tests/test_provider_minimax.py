"""MiniMax's v2 video API: exact request bodies and a round trip against the strict fake (its faults, shared
with xAI and Luma: tests/test_provider_job_faults.py)."""

import base64

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import JobState
from promptreel.core.providers.minimax import MiniMax
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeMiniMax, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.minimax import frame

KEY = "mm-secret-key-abcdef123456"


@pytest.fixture(scope="module")
def server():
    with FakeMiniMax(key=KEY) as f:
        yield f


def minimax(client, fake, model="MiniMax-H3"):
    return protocol(MiniMax, model, client, {"MINIMAX_API_KEY": KEY}, fake.url)


def offline(client):
    return protocol(MiniMax, "MiniMax-H3", client, {"MINIMAX_API_KEY": KEY}, "https://api.minimax.io")


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "minimax-h3", "seconds": 6, "size": "1366x768", **kw}
    )


def test_registered_under_its_route_name():
    assert protocol_class("minimax") is MiniMax


def test_build_text_to_video_exact(client):
    call = offline(client).build(req(seed=7), "job-1")
    assert (call.method, call.path) == ("POST", "/v2/video_generation")
    assert call.json == {
        "model": "MiniMax-H3",
        "content": [{"type": "text", "text": "a lighthouse at dusk"}],
        "duration": 6,
        "resolution": "768P",
        "ratio": "16:9",
        "seed": 7,
    }
    assert KEY not in repr(call)
    tall = offline(client).build(req(size="1440x2560"), "j").json
    assert (tall["resolution"], tall["ratio"]) == ("2K", "9:16")


def test_build_keyframes_and_references(client):
    png = png_file()
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    proto = offline(client)
    keyed = proto.build(req(first_frame=png, last_frame=png), "j").json
    assert keyed["content"][1:] == [
        {"type": "image_url", "image_url": {"url": uri}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": uri}, "role": "last_frame"},
    ]
    assert "ratio" not in keyed  # with keyframes the image sets the frame
    refs = proto.build(req(reference_images=(png, png)), "j").json
    assert [i["role"] for i in refs["content"][1:]] == ["reference_image"] * 2 and refs["ratio"] == "16:9"
    for bad in (
        req(first_frame=png, reference_images=(png,)),
        req(seconds=4),
        req(seconds=16),
        req(extend_video="job-x"),
        req(remix_of="job-x"),
        req(size="1280x720"),
    ):
        with pytest.raises(UnsupportedRequest):
            proto.build(bad, "j")


@pytest.mark.parametrize(
    "model",
    [m for m in load_catalog().models.values() if any(r.protocol == "minimax" for r in m.routes)],
    ids=lambda m: m.id,
)
async def test_every_catalog_size_and_length_is_accepted_by_the_fake(model, fake, client, tmp_path):
    route = next(r for r in model.routes if r.protocol == "minimax")
    proto = minimax(client, fake, route.model_id)
    for size in model.all_sizes():
        for seconds in (model.allowed_durations(size)[0], model.allowed_durations(size)[-1]):
            call = proto.build(GenerationRequest(prompt="p", model=model.id, seconds=seconds, size=str(size)), "j")
            sub = await proto.submit(call, tmp_path / "s")
            assert frame(call.json["ratio"], call.json["resolution"]) == (size.width, size.height)
            assert fake.jobs[sub.job_id].spec.width == size.width


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = minimax(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED and sub.job_id.isdigit()
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.QUEUED, "queued")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 178)  # 1366x768 within the small sandbox limit
    assert fake.key_leaks() == [] and fake.creates == 1


async def test_keyframe_take_follows_the_image(fake, client, tmp_path):
    proto = minimax(client, fake)
    sub = await proto.submit(
        proto.build(req(size="768x1366", first_frame=png_file(size="180x320")), "j"), tmp_path / "s"
    )
    assert (fake.jobs[sub.job_id].spec.width, fake.jobs[sub.job_id].spec.height) == (768, 1366)


async def test_strict_fake_refuses_what_minimax_refuses(fake, client):
    headers = {"Authorization": f"Bearer {KEY}"}
    base = {"model": "MiniMax-H3", "content": [{"type": "text", "text": "p"}], "duration": 6, "resolution": "768P"}
    for body in (
        {**base, "ratio": "adaptive"},
        base,
        {**base, "ratio": "16:9", "duration": "6"},
        {**base, "ratio": "16:9", "prompt": "p"},
        {**base, "ratio": "16:9", "resolution": "768p"},
    ):
        r = await client.post(f"{fake.url}/v2/video_generation", headers=headers, json=body)
        assert r.status_code == 400 and r.json()["error"]["type"] == "bad_request_error", body
