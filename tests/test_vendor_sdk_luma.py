"""The Luma fake driven by Luma's own Python SDK (luma-agents, pinned in the `test` extra), as
tests/test_vendor_sdks.py does for the other routes: text-to-video, image-to-video by keyframes, and an
edit and an extension of the SDK's own generation by its id. The SDK is pointed at the fake by its
base-URL setting; status is read the SDK's way (the fake advances a generation per read).

The other new routes have no SDK to drive: xAI's Python SDK (xai-sdk) speaks gRPC to api.x.ai, not the
REST videos API the xai route and its fake speak, and MiniMax publishes no Python SDK for its v2 video
API."""

from __future__ import annotations

import base64

import httpx
import luma_agents
import pytest

from promptreel.core.sandbox import FakeLuma, png

READS = 10


def finished(client: luma_agents.Luma, generation) -> luma_agents.types.Generation:
    for _ in range(READS):
        if generation.state in ("completed", "failed"):
            return generation
        generation = client.generations.get(generation.id)
    raise AssertionError(f"generation {generation.id} still {generation.state}")


@pytest.fixture(scope="module")
def fake():
    with FakeLuma() as f:
        yield f


@pytest.mark.parametrize("with_image", [False, True])
def test_luma_sdk_makes_a_ray_video_on_the_fake(fake, with_image):
    fake.reset()
    client = luma_agents.Luma(auth_token=fake.key, base_url=fake.base_url, max_retries=0)
    video: dict = {"duration": "5s", "resolution": "720p"}
    if with_image:
        video.update(
            keyframes=[{"data": base64.b64encode(png(1280, 720)).decode(), "media_type": "image/png"}],
            keyframe_indexes=[0],
        )
    made = finished(
        client,
        client.generations.create(
            type="video", model="ray-3.2", prompt="a lighthouse at dusk", aspect_ratio="16:9", video=video
        ),
    )
    assert made.state == "completed" and made.type == "video" and made.model == "ray-3.2"
    (output,) = made.output
    assert output.type == "video" and httpx.get(output.url).content[4:8] == b"ftyp"
    assert fake.creates == 1


def test_luma_sdk_edits_and_extends_its_own_generation_on_the_fake(fake):
    fake.reset()
    client = luma_agents.Luma(auth_token=fake.key, base_url=fake.base_url, max_retries=0)
    first = finished(
        client,
        client.generations.create(
            type="video",
            model="ray-3.2",
            prompt="a fox in snow",
            aspect_ratio="9:16",
            video={"duration": "5s", "resolution": "540p"},
        ),
    )
    edit = finished(
        client,
        client.generations.create(
            type="video_edit",
            model="ray-3.2",
            prompt="the fox at night",
            source={"generation_id": first.id},
            video={"resolution": "540p"},
        ),
    )
    more = finished(
        client,
        client.generations.create(
            type="video",
            model="ray-3.2",
            prompt="the fox runs off",
            aspect_ratio="9:16",
            video={"duration": "5s", "start_frame": {"generation_id": first.id}},
        ),
    )
    assert edit.state == more.state == "completed" and fake.creates == 3
    with pytest.raises(luma_agents.BadRequestError):  # the fake is as strict as the SDK's types: no 10 s on start_frame
        client.generations.create(
            type="video",
            model="ray-3.2",
            prompt="on",
            aspect_ratio="9:16",
            video={"duration": "10s", "start_frame": {"generation_id": first.id}},
        )
