"""DashScope's Wan 2.7 video synthesis: exact request bodies, a round trip against the strict fake, what the
service refuses, cancel; the faults every job API shows are tests/test_provider_job_faults.py's."""

import base64

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import JobState
from promptreel.core.providers.dashscope import DashScope
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeDashScope, png_file
from promptreel.core.sandbox.dashscope import frame
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol

KEY = "sk-dashscope-secret-abcdef123456"
PATH = "/services/aigc/video-generation/video-synthesis"


@pytest.fixture(scope="module")
def server():
    with FakeDashScope(key=KEY) as f:
        yield f


def dashscope(client, fake, model="wan2.7-t2v"):
    return protocol(DashScope, model, client, {"DASHSCOPE_API_KEY": KEY}, fake.base_url)


def offline(client):
    return protocol(DashScope, "wan2.7-t2v", client, {"DASHSCOPE_API_KEY": KEY}, "https://dashscope-intl.aliyuncs.com")


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "wan-2.7", "seconds": 6, "size": "1920x1080", **kw}
    )


def test_registered_under_its_route_name_with_the_sdk_base_url(client):
    assert protocol_class("dashscope") is DashScope
    assert offline(client).base_url == "https://dashscope-intl.aliyuncs.com/api/v1"


def test_build_text_to_video_exact(client):
    call = offline(client).build(req(seed=7, negative_prompt="text, logos", audio=False), "job-1")
    assert (call.method, call.path, call.headers) == ("POST", PATH, {"X-DashScope-Async": "enable"})
    assert call.json == {
        "model": "wan2.7-t2v",
        "input": {"prompt": "a lighthouse at dusk", "negative_prompt": "text, logos"},
        "parameters": {
            "resolution": "1080P",
            "duration": 6,
            "prompt_extend": False,
            "ratio": "16:9",
            "seed": 7,
            "audio": False,
        },
    }
    assert KEY not in repr(call)
    four_three = offline(client).build(req(size="1088x832"), "j").json["parameters"]
    assert (four_three["resolution"], four_three["ratio"]) == ("720P", "4:3")


def test_a_first_frame_goes_to_the_image_to_video_model(client):
    png = png_file()
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    proto = offline(client)
    body = proto.build(req(first_frame=png, last_frame=png), "j").json
    assert body["model"] == "wan2.7-i2v" and "ratio" not in body["parameters"]  # the frame sets the aspect
    assert body["input"]["media"] == [{"type": "first_frame", "url": uri}, {"type": "last_frame", "url": uri}]
    for bad in (
        req(last_frame=png),
        req(reference_images=(png,)),
        req(extend_video="job-x"),
        req(remix_of="job-x"),
        req(size="1000x300"),
    ):
        with pytest.raises(UnsupportedRequest):
            proto.build(bad, "j")


@pytest.mark.parametrize(
    "model",
    [m for m in load_catalog().models.values() if any(r.protocol == "dashscope" for r in m.routes)],
    ids=lambda m: m.id,
)
async def test_every_catalog_size_and_length_is_accepted_by_the_fake(model, fake, client, tmp_path):
    route = next(r for r in model.routes if r.protocol == "dashscope")
    proto = dashscope(client, fake, route.model_id)
    for size in model.all_sizes():
        for seconds in (model.allowed_durations(size)[0], model.allowed_durations(size)[-1]):
            call = proto.build(GenerationRequest(prompt="p", model=model.id, seconds=seconds, size=str(size)), "j")
            sub = await proto.submit(call, tmp_path / "s")
            params = call.json["parameters"]
            assert frame(params["ratio"], params["resolution"]) == (size.width, size.height)
            assert (fake.jobs[sub.job_id].spec.width, fake.jobs[sub.job_id].spec.height) == (size.width, size.height)
    assert fake.creates == 2 * len(model.all_sizes())


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.QUEUED, "PENDING")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 180)  # 1920x1080 within the small sandbox limit
    assert fake.key_leaks() == [] and fake.creates == 1


async def test_image_to_video_follows_the_frame(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(
        proto.build(req(size="1080x1920", first_frame=png_file(size="180x320")), "j"), tmp_path / "s"
    )
    job = fake.jobs[sub.job_id]
    assert job.body["model"] == "wan2.7-i2v" and (job.spec.width, job.spec.height) == (1080, 1920)


async def test_strict_fake_refuses_what_dashscope_refuses(fake, client):
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
    base = {"model": "wan2.7-t2v", "input": {"prompt": "p"}, "parameters": {"resolution": "720P", "duration": 5}}
    for body in (
        {**base, "parameters": {"resolution": "720p", "duration": 5}},
        {**base, "parameters": {"resolution": "720P", "duration": 16}},
        {**base, "parameters": {"resolution": "720P", "duration": 5, "ratio": "21:9"}},
        {**base, "parameters": {"resolution": "720P", "duration": 5, "size": "1280*720"}},
        {**base, "input": {"prompt": ""}},
        {**base, "prompt": "p"},
        {**base, "model": "wan2.7-i2v", "parameters": {"resolution": "720P", "duration": 5}},
    ):
        r = await client.post(f"{fake.base_url}{PATH}", headers=headers, json=body)
        assert r.status_code == 400 and r.json()["code"] == "InvalidParameter", body
    sync = await client.post(f"{fake.base_url}{PATH}", headers={"Authorization": f"Bearer {KEY}"}, json=base)
    assert (sync.status_code, sync.json()["code"]) == (403, "AccessDenied")  # the HTTP API is asynchronous only
    assert fake.creates == 0


async def test_cancel_stops_a_pending_task(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    await proto.cancel(sub.job_id)
    status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.CANCELED, "CANCELED")
