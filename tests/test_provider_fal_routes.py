"""The fal routes added from fal's own model pages: Sora 2, Veo 3.1 Fast, Kling 3.0 — exact bodies and
paths, refusals for what the pages do not show, and a round trip through the strict fal fake for each."""

import json
from datetime import date

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.fal import Fal
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeFal, png_file
from promptreel.core.sandbox.drive import download, poll_to_end, protocol

KEY = "fal-key-id:fal-key-secret-0123456789"


# Sora's resold apps answer "model not found" since OpenAI shut the Sora API down on 2026-09-24: the
# mapping is tested as they answered before that day, and today's answer on its own.
BEFORE_SORA_SHUTDOWN = date(2026, 9, 1)


@pytest.fixture(scope="module")
def server():
    with FakeFal(key=KEY) as f:
        f.today = BEFORE_SORA_SHUTDOWN
        yield f


def fal(client, model_id, base="https://queue.fal.run"):
    return protocol(Fal, model_id, client, {"FAL_KEY": KEY}, base)


def sora(**kw):
    return GenerationRequest(**{"prompt": "a kite", "model": "sora-2", "seconds": 8, "size": "720x1280", **kw})


def veo_fast(**kw):
    return GenerationRequest(**{"prompt": "a tram", "model": "veo-3.1-fast", "seconds": 8, "size": "1920x1080", **kw})


def kling(**kw):
    return GenerationRequest(**{"prompt": "rain", "model": "kling-v3", "seconds": 7, "size": "1280x720", **kw})


def test_catalog_lists_the_new_fal_routes():
    cat = load_catalog()
    assert {
        m: [r.key for r in cat.get(m).routes if r.protocol == "fal"]
        for m in ("sora-2", "veo-3.1-fast", "kling-v3", "sora-2-pro")
    } == {
        "sora-2": ["fal:fal-ai/sora-2"],
        "veo-3.1-fast": ["fal:fal-ai/veo3.1/fast"],
        "kling-v3": ["fal:fal-ai/kling-video/v3"],
        "sora-2-pro": [],
    }  # no fal schema page for Sora 2 Pro


def test_sora_bodies_exact(client):
    call = fal(client, "fal-ai/sora-2").build(sora(), "j")
    assert (call.path, call.json) == (
        "/fal-ai/sora-2/text-to-video",
        {"prompt": "a kite", "duration": 8, "aspect_ratio": "9:16", "resolution": "720p"},
    )
    png = png_file()
    call = fal(client, "fal-ai/sora-2").build(sora(size="1280x720", seconds=4, first_frame=png), "j")
    assert call.path == "/fal-ai/sora-2/image-to-video"
    assert call.json["image_url"].startswith("data:image/png;base64,") and call.json["duration"] == 4


def test_veo_fast_bodies_exact_and_image_only_mode_refused(client):
    call = fal(client, "fal-ai/veo3.1/fast").build(veo_fast(seed=2, audio=False), "j")
    assert (call.path, call.json) == (
        "/fal-ai/veo3.1/fast",
        {
            "prompt": "a tram",
            "duration": "8s",
            "aspect_ratio": "16:9",
            "resolution": "1080p",
            "seed": 2,
            "generate_audio": False,
        },
    )
    png = png_file()
    call = fal(client, "fal-ai/veo3.1/fast").build(veo_fast(size="1280x720", first_frame=png, last_frame=png), "j")
    assert call.path == "/fal-ai/veo3.1/fast/first-last-frame-to-video" and set(call.json) >= {
        "first_frame_url",
        "last_frame_url",
    }
    with pytest.raises(UnsupportedRequest, match="does not take a first frame"):
        fal(client, "fal-ai/veo3.1/fast").build(veo_fast(first_frame=png), "j")


def test_kling_v3_app_follows_the_resolution(client):
    call = fal(client, "fal-ai/kling-video/v3").build(kling(negative_prompt="blur", audio=True), "j")
    assert (call.path, call.json) == (
        "/fal-ai/kling-video/v3/standard/text-to-video",
        {"prompt": "rain", "duration": "7", "aspect_ratio": "16:9", "negative_prompt": "blur", "generate_audio": True},
    )
    assert (
        fal(client, "fal-ai/kling-video/v3").build(kling(size="1080x1920"), "j").path
        == "/fal-ai/kling-video/v3/pro/text-to-video"
    )
    with pytest.raises(UnsupportedRequest, match="first frame"):
        fal(client, "fal-ai/kling-video/v3").build(kling(first_frame=png_file()), "j")


@pytest.mark.parametrize(
    "model_id, request_, fps",
    [
        ("fal-ai/sora-2", sora(), 30),
        ("fal-ai/sora-2", sora(size="1280x720", seconds=4, first_frame=png_file()), 30),
        ("fal-ai/veo3.1/fast", veo_fast(), 24),
        ("fal-ai/veo3.1/fast", veo_fast(size="1280x720", first_frame=png_file(), last_frame=png_file()), 24),
        ("fal-ai/kling-video/v3", kling(), 24),
        ("fal-ai/kling-video/v3", kling(size="1920x1080"), 24),
    ],
)
async def test_round_trip_through_the_strict_fake(fake, client, tmp_path, model_id, request_, fps):
    proto = fal(client, model_id, fake.url)
    sub = await proto.submit(proto.build(request_, "j"), tmp_path / "s")
    app = "/".join(model_id.split("/")[:2])
    assert json.loads(sub.job_id)["status_url"].startswith(f"{fake.url}/{app}/requests/")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    assert await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1) == 1
    assert next(iter(fake.jobs.values())).spec.fps == fps and fake.creates == 1


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("fal-ai/sora-2/text-to-video", {"prompt": "x", "duration": "8"}, "duration"),  # Sora's is an integer
        ("fal-ai/kling-video/v3/pro/text-to-video", {"prompt": "x", "duration": 5}, "duration"),  # Kling's a string
        (
            "fal-ai/kling-video/v3/pro/text-to-video",
            {"prompt": "x", "resolution": "1080p"},
            "resolution",
        ),  # no such field
        ("fal-ai/sora-2/image-to-video", {"prompt": "x"}, "image_url"),
    ],
)
async def test_fake_holds_each_schema(fake, client, path, body, field):
    r = await client.post(f"{fake.url}/{path}", json=body, headers={"Authorization": f"Key {KEY}"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]


async def test_sora_on_fal_today_answers_model_not_found(fake, client, tmp_path):
    """Since 2026-09-24 fal's Sora apps answer 404 "Model not found": the route is retired, not failed."""
    fake.today = None
    try:
        proto = fal(client, "fal-ai/sora-2", fake.url)
        with pytest.raises(ProviderError) as e:
            await proto.submit(proto.build(sora(), "j"), tmp_path / "s")
        assert e.value.kind is ErrorKind.RETIRED and e.value.status == 404 and fake.creates == 0
    finally:
        fake.today = BEFORE_SORA_SHUTDOWN
