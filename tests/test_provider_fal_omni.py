"""Gemini Omni Flash on fal (google/gemini-omni-flash, from fal's own model pages): exact bodies and sub-paths
per input mode, refusals for what the pages do not show, a round trip through the strict fal fake per mode,
and fal's own client driving the fake."""

import json

import fal_client
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import JobState
from promptreel.core.providers.fal import Fal
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeFal, png, png_file
from promptreel.core.sandbox.drive import download, poll_to_end, protocol

KEY = "fal-key-id:fal-key-secret-0123456789"
APP = "google/gemini-omni-flash"


@pytest.fixture(scope="module")
def server():
    with FakeFal(key=KEY) as f:
        yield f


@pytest.fixture
def fake(server):
    server.reset()
    return server


def fal(client, base="https://queue.fal.run"):
    return protocol(Fal, APP, client, {"FAL_KEY": KEY}, base)


def omni(**kw):
    return GenerationRequest(
        **{"prompt": "a kite over dunes", "model": "gemini-omni-1.1-flash", "seconds": 6, "size": "1280x720", **kw}
    )


def test_omni_1_1_is_offered_on_fal_after_google_s_own_routes():
    routes = [r.key for r in load_catalog().get("gemini-omni-1.1-flash").routes]
    assert routes == ["gemini:gemini-omni-1.1-flash", "vertex:gemini-omni-1.1-flash-preview", f"fal:{APP}"]


def test_bodies_and_sub_paths_per_mode(client):
    call = fal(client).build(omni(size="720x1280"), "j")
    assert (call.path, call.json) == (f"/{APP}", {"prompt": "a kite over dunes", "duration": 6, "aspect_ratio": "9:16"})
    call = fal(client).build(omni(first_frame=png_file()), "j")
    assert call.path == f"/{APP}/image-to-video" and call.json["image_url"].startswith("data:image/png;base64,")
    call = fal(client).build(omni(reference_images=[png_file(), png_file()]), "j")
    assert call.path == f"/{APP}/reference-to-video" and len(call.json["image_urls"]) == 2


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"size": "1920x1080"}, "no resolution 1080p"),
        ({"first_frame": png_file(), "last_frame": png_file()}, "does not take a first frame"),  # not both
        ({"remix_of": "job-1"}, "does not take a video to remix"),
        ({"extend_video": "job-1"}, "does not take a video to extend"),
    ],
)
def test_what_fal_s_pages_do_not_show_is_refused_before_any_spend(client, kw, message):
    with pytest.raises(UnsupportedRequest, match=message):
        fal(client).build(omni(**kw), "j")


@pytest.mark.parametrize(
    "request_", [omni(), omni(size="720x1280", first_frame=png_file()), omni(reference_images=[png_file()])]
)
async def test_round_trip_through_the_strict_fake(fake, client, tmp_path, request_):
    proto = fal(client, fake.url)
    sub = await proto.submit(proto.build(request_, "j"), tmp_path / "s")
    assert json.loads(sub.job_id)["status_url"].startswith(f"{fake.url}/{APP}/requests/")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    assert await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1) == 1
    (job,) = fake.jobs.values()
    assert (job.spec.fps, job.spec.frame_count, min(job.spec.width, job.spec.height)) == (24, 6 * 24, 720)


@pytest.mark.parametrize(
    "path, body, field",
    [
        (APP, {"prompt": "x", "duration": "6"}, "duration"),  # an integer
        (APP, {"prompt": "x", "duration": 12}, "duration"),  # 3-10
        (APP, {"prompt": "x", "resolution": "1080p"}, "resolution"),  # no such field
        (f"{APP}/image-to-video", {"prompt": "x"}, "image_url"),
        (f"{APP}/reference-to-video", {"prompt": "x"}, "image_urls"),
    ],
)
async def test_fake_holds_each_schema(fake, client, path, body, field):
    r = await client.post(f"{fake.url}/{path}", json=body, headers={"Authorization": f"Key {KEY}"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]


def test_fal_client_makes_an_omni_video_from_a_first_frame_on_the_fake(fake, monkeypatch):
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", fake.url + "/")  # fal-client speaks HTTPS only
    handle = fal_client.SyncClient(key=KEY).submit(
        f"{APP}/image-to-video",
        arguments={
            "prompt": "a kite over dunes",
            "duration": 4,
            "aspect_ratio": "16:9",
            "image_url": fal_client.encode(png(1280, 720), "image/png"),
        },
    )
    for _ in range(10):
        if isinstance(handle.status(with_logs=True), fal_client.Completed):
            break
    assert handle.get()["video"]["content_type"] == "video/mp4" and fake.creates == 1
