"""DashScope's Wan 2.7 video synthesis: exact request bodies, a round trip against the strict fake, every fault
classified."""

import base64
from datetime import datetime

import httpx
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.dashscope import DashScope
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeDashScope, Reply, png_file
from promptreel.core.sandbox.dashscope import frame
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol

KEY = "sk-dashscope-secret-abcdef123456"
PATH = "/services/aigc/video-generation/video-synthesis"


@pytest.fixture(scope="module")
def server():
    with FakeDashScope(key=KEY) as f:
        yield f


def dashscope(client, fake, model="wan2.7-t2v", key=KEY):
    return protocol(DashScope, model, client, {"DASHSCOPE_API_KEY": key}, fake.base_url)


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


@pytest.mark.parametrize(
    "outcome, kind",
    [
        ("inspection", ErrorKind.MODERATION),
        ("failed", ErrorKind.PROVIDER),
        ("unknown", ErrorKind.PROVIDER),
        ("empty", ErrorKind.PROVIDER),
    ],
)
async def test_task_failures(fake, client, tmp_path, outcome, kind):
    fake.fault("outcome", outcome)
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (JobState.FAILED, kind)


async def test_unknown_status_tolerated(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    fake.fail_next(
        "GET",
        rf"/api/v1/tasks/{sub.job_id}",
        Reply(200, {"request_id": "r", "output": {"task_id": sub.job_id, "task_status": "PREPARING"}}),
    )
    status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, "PREPARING")


@pytest.mark.parametrize(
    "fault, kind, retry_after",
    [
        ("429", ErrorKind.RATE_LIMITED, 2.0),
        ("429-bare", ErrorKind.RATE_LIMITED, None),
        ("500", ErrorKind.RETRYABLE, None),
        ("503", ErrorKind.RETRYABLE, None),
        ("arrearage", ErrorKind.BILLING, None),
        ("inspection", ErrorKind.MODERATION, None),
    ],
)
async def test_create_errors_classified(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = dashscope(client, fake)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert fake.creates == 0


async def test_wrong_key_is_auth_and_never_echoed(fake, client, tmp_path):
    wrong = "sk-dashscope-wrong-zyxwvu987654"
    proto = dashscope(client, fake, key=wrong)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH and e.value.status == 401 and wrong not in str(e.value)


async def test_unknown_model_is_retired(fake, client, tmp_path):
    proto = dashscope(client, fake, "wan2.1-t2v-plus")
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.RETIRED


async def test_cancel_stops_a_pending_task(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    await proto.cancel(sub.job_id)
    status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.CANCELED, "CANCELED")


async def test_poll_transport_errors_are_retryable(fake, tmp_path):
    async with httpx.AsyncClient(timeout=0.5) as short:
        proto = dashscope(short, fake)
        sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
        for fault in ("drop", "slow", "502"):
            fake.fault("poll", fault)
            with pytest.raises(ProviderError) as e:
                await proto.poll(sub.job_id)
            assert e.value.kind is ErrorKind.RETRYABLE


async def test_lost_create_answer_propagates_and_cannot_be_looked_up(fake, client, tmp_path):
    fake.fault("create", "drop")
    proto = dashscope(client, fake)
    with pytest.raises(httpx.TransportError):
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert await proto.find_created(proto.build(req(), "j"), "j", datetime.now()) is None


async def test_expired_url_then_a_fresh_one_from_a_new_read(fake, client, tmp_path):
    proto = dashscope(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    fake.fault("media", "expired")
    with pytest.raises(httpx.HTTPStatusError):
        await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1)
    again = await proto.poll(sub.job_id)
    assert await download(client, proto, again.media[0], tmp_path / "o.mp4", attempts=1) == 1
