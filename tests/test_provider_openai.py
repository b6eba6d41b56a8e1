"""The openai route (Sora 2 on OpenAI's Videos API): exact request bodies, and the four verbs against a
fake that validates like the service, with its faults."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, MediaRef, ProviderError, WireCall
from promptreel.core.providers.openai import OpenAIVideos, Video
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeOpenAIVideos, Reply, png, tiny_mp4
from promptreel.core.sandbox.drive import download
from promptreel.core.sandbox.media import image_size
from tests.auth_helpers import signed
from tests.fakes.images import still

KEY = "sk-test-openai-0123456789"


def req(**kw) -> GenerationRequest:
    base = dict(prompt="a lighthouse at dusk, waves", model="sora-2", seconds=8, size="1280x720")
    return GenerationRequest(**{**base, **kw})


def sora(client=None, base_url=None, model="sora-2", key=KEY) -> OpenAIVideos:
    return OpenAIVideos(
        client or httpx.AsyncClient(),
        Route(protocol="openai", model_id=model),
        {"OPENAI_API_KEY": key},
        base_url=base_url,
    )


# OpenAI shut the Sora API down on 2026-09-24: the protocol is tested as the API answered before that day.
BEFORE_SHUTDOWN = date(2026, 9, 1)


@pytest.fixture
def fake():
    with FakeOpenAIVideos(key=KEY) as server:
        server.today = BEFORE_SHUTDOWN
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


async def run_to_end(s: OpenAIVideos, job_id: str, limit: int = 10):
    for _ in range(limit):
        status = await s.poll(job_id)
        if status.state.terminal or status.state is JobState.SUCCEEDED:
            return status
    raise AssertionError("job never finished")


# --- build: the exact bodies ----------------------------------------------------------------


def test_registered_under_route_name():
    assert protocol_class("openai") is OpenAIVideos
    assert OpenAIVideos.default_base_url == "https://api.openai.com/v1"


def test_text_to_video_body_is_json_with_string_seconds():
    call = sora().build(req(), "job-1")
    assert (call.method, call.path, call.files) == ("POST", "/videos", None)
    assert call.json == {"prompt": "a lighthouse at dusk, waves", "model": "sora-2", "seconds": "8", "size": "1280x720"}


def test_first_frame_goes_multipart_resized_to_the_output_size(tmp_path):
    call = sora().build(req(size="720x1280", first_frame=still(tmp_path, 320, 180)), "job-1")
    assert call.json is None
    assert call.data == {"prompt": "a lighthouse at dusk, waves", "model": "sora-2", "seconds": "8", "size": "720x1280"}
    name, data, mime = call.files["input_reference"]
    assert (name, mime) == ("first_frame.png", "image/png")
    assert image_size(data) == (720, 1280)


def test_first_frame_already_at_size_is_sent_unchanged(tmp_path):
    frame = still(tmp_path, 1280, 720)
    call = sora().build(req(first_frame=frame), "job-1")
    assert call.files["input_reference"][1] == frame.read_bytes()


def test_extend_a_finished_video_by_id_and_by_file(tmp_path):
    call = sora().build(req(seconds=4, extend_video="video_abc123"), "job-1")
    assert (call.path, call.json) == (
        "/videos/extensions",
        {"prompt": "a lighthouse at dusk, waves", "seconds": "4", "video": {"id": "video_abc123"}},
    )
    clip = tmp_path / "take.mp4"
    clip.write_bytes(tiny_mp4())
    call = sora().build(req(seconds=4, extend_video=str(clip)), "job-1")
    assert call.data == {"prompt": "a lighthouse at dusk, waves", "seconds": "4"}
    assert call.files["video"] == ("take.mp4", tiny_mp4(), "video/mp4")


def test_refuses_what_the_api_cannot_make():
    with pytest.raises(UnsupportedRequest, match="Allowed lengths: 4, 8, 12"):
        sora().build(req(seconds=5), "j")
    with pytest.raises(UnsupportedRequest, match="1024x1792"):
        sora().build(req(size="1920x1080"), "j")  # 1080p is sora-2-pro only
    assert sora(model="sora-2-pro").build(req(size="1920x1080"), "j").json["size"] == "1920x1080"


def test_unknown_status_is_tolerated():
    status = sora().status_of(Video(id="video_1", status="preprocessing", progress=10))
    assert (status.state, status.raw_state, status.progress) == (JobState.RUNNING, "preprocessing", 0.1)


# --- the round trip against the fake ---------------------------------------------------------


async def test_submit_poll_download_round_trip(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    submitted = await s.submit(s.build(req(), "job-1"), tmp_path)
    assert submitted.job_id.startswith("video_") and submitted.state is JobState.QUEUED
    first = await s.poll(submitted.job_id)
    assert (first.state, first.next_poll_s) == (JobState.QUEUED, 1.5)  # openai-poll-after-ms honoured
    second = await s.poll(submitted.job_id)
    assert (second.state, second.progress) == (JobState.RUNNING, 0.5)
    done = await s.poll(submitted.job_id)
    assert done.state is JobState.SUCCEEDED and done.next_poll_s is None
    media = done.media[0]
    assert media.url == f"{fake.base_url}/videos/{submitted.job_id}/content"
    assert media.expires_at is not None and media.expires_at > datetime.now(timezone.utc)
    dest = tmp_path / "out.mp4"
    assert await download(client, s, media, dest) == 1
    info = probe(dest)
    assert (info.width, info.height, info.frames) == (320, 180, 30)  # Sora makes 30 fps; the fake caps at 1 s
    assert fake.creates == 1
    # The JSON body went out as JSON, `seconds` a string.
    sent = fake.calls_to("POST", r"/v1/videos")[0]
    assert sent.headers["content-type"] == "application/json" and sent.json()["seconds"] == "8"


async def test_first_frame_upload_accepted_by_the_fake(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    submitted = await s.submit(s.build(req(first_frame=still(tmp_path, 320, 180)), "job-1"), tmp_path)
    assert submitted.job_id in fake.jobs
    assert fake.calls_to("POST", r"/v1/videos")[0].headers["content-type"].startswith("multipart/form-data")


async def test_extension_of_a_finished_video(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    source = await s.submit(s.build(req(), "job-1"), tmp_path)
    await run_to_end(s, source.job_id)
    ext = await s.submit(s.build(req(seconds=4, extend_video=source.job_id), "job-2"), tmp_path)
    status = await run_to_end(s, ext.job_id)
    assert status.state is JobState.SUCCEEDED
    assert fake.jobs[ext.job_id].seconds == "12"  # the stitched total
    assert fake.creates == 2


async def test_the_fake_catches_client_bugs(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    # An integer `seconds` is refused with OpenAI's own message.
    with pytest.raises(ProviderError) as e:
        await s.submit(WireCall("POST", "/videos", json={"prompt": "x", "model": "sora-2", "seconds": 8}), tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST
    assert (
        "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an integer instead." in e.value.message
    )
    # A reference image that is not the output size is refused.
    call = WireCall(
        "POST",
        "/videos",
        data={"prompt": "x", "model": "sora-2", "seconds": "4", "size": "1280x720"},
        files={"input_reference": ("f.png", png(320, 180), "image/png")},
    )
    with pytest.raises(ProviderError, match="Inpaint image must match") as e:
        await s.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST
    assert fake.creates == 0


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, kind, wait",
    [
        (
            Reply(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                },
                headers={"Retry-After": "7"},
            ),
            ErrorKind.RATE_LIMITED,
            7.0,
        ),
        (
            Reply(429, {"error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": None}}),
            ErrorKind.RATE_LIMITED,
            None,
        ),
        (
            Reply(
                429,
                {
                    "error": {
                        "message": "You exceeded your current quota, please check your plan and billing details.",
                        "type": "insufficient_quota",
                        "param": None,
                        "code": "insufficient_quota",
                    }
                },
            ),
            ErrorKind.BILLING,
            None,
        ),
        (
            Reply(
                500,
                {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}},
            ),
            ErrorKind.RETRYABLE,
            None,
        ),
        (Reply(502, "<html>Bad Gateway</html>"), ErrorKind.RETRYABLE, None),
        (
            Reply(
                503,
                {"error": {"message": "Slow down", "type": "server_error", "param": None, "code": None}},
                headers={"Retry-After": "2"},
            ),
            ErrorKind.RETRYABLE,
            2.0,
        ),
        (
            Reply(
                400,
                {
                    "error": {
                        "message": "Your request was rejected by our safety system.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "moderation_blocked",
                    }
                },
            ),
            ErrorKind.MODERATION,
            None,
        ),
        (
            Reply(
                403,
                {
                    "error": {
                        "message": "Your organization must be verified to use the model `sora-2`.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            ),
            ErrorKind.AUTH,
            None,
        ),
    ],
)
async def test_create_errors_are_classified(fake, client, tmp_path, reply, kind, wait):
    s = sora(client, fake.base_url)
    fake.fail_next("POST", r"/v1/videos", reply)
    with pytest.raises(ProviderError) as e:
        await s.submit(s.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.retry_after, e.value.status) == (kind, wait, reply.status)
    assert fake.creates == 0


async def test_wrong_key_is_auth_and_never_in_the_message(fake, client, tmp_path):
    wrong = "sk-wrong-key-987654321"
    s = sora(client, fake.base_url, key=wrong)
    with pytest.raises(ProviderError) as e:
        await s.submit(s.build(req(), "j"), tmp_path)
    assert e.value.kind is ErrorKind.AUTH and e.value.status == 401
    assert wrong not in str(e.value) and wrong[-4:] not in e.value.message


async def test_retired_model_is_retired(fake, client, tmp_path):
    s = sora(client, fake.base_url, model="sora-1-gone")
    with pytest.raises(ProviderError) as e:
        await s.submit(
            WireCall("POST", "/videos", json={"prompt": "x", "model": "sora-1-gone", "seconds": "4"}), tmp_path
        )
    assert e.value.kind is ErrorKind.RETIRED


async def test_sora_after_the_shutdown_is_retired(fake, client, tmp_path):
    """Since 2026-09-24 a create names the model as not found: the route is retired, the engine moves on."""
    fake.today = None
    s = sora(client, fake.base_url)
    with pytest.raises(ProviderError) as e:
        await s.submit(s.build(req(), "j"), tmp_path)
    assert e.value.kind is ErrorKind.RETIRED and e.value.status == 404 and fake.creates == 0


async def test_failed_job_is_a_moderation_failure_not_an_http_error(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    call = s.build(req(), "j")
    call.headers["X-Fake-Fault"] = "moderation_blocked"
    job = await s.submit(call, tmp_path)
    status = await run_to_end(s, job.job_id)
    assert status.state is JobState.FAILED and status.error.kind is ErrorKind.MODERATION
    assert "moderation_blocked" in status.error.message


@pytest.mark.parametrize("fault", ["content_502", "truncate"])
async def test_download_is_retried_without_a_new_job(fake, client, tmp_path, fault):
    s = sora(client, fake.base_url)
    call = s.build(req(), "j")
    call.headers["X-Fake-Fault"] = fault
    job = await s.submit(call, tmp_path)
    status = await run_to_end(s, job.job_id)
    dest = tmp_path / "out.mp4"
    assert await download(client, s, status.media[0], dest) == 2
    assert dest.read_bytes() == fake.job_media(fake.jobs[job.job_id])  # whole, the clip the job made
    assert fake.creates == 1 and fake.jobs[job.job_id].downloads == 2


async def test_poll_errors(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    job = await s.submit(s.build(req(), "j"), tmp_path)
    fake.fail_next(
        "GET",
        r"/v1/videos/[^/]+",
        Reply(
            429,
            {"error": {"message": "slow down", "type": "requests", "param": None, "code": None}},
            headers={"retry-after-ms": "2500"},
        ),
    )
    with pytest.raises(ProviderError) as e:
        await s.poll(job.job_id)
    assert (e.value.kind, e.value.retry_after) == (ErrorKind.RATE_LIMITED, 2.5)
    fake.fail_next("GET", r"/v1/videos/[^/]+", Reply(drop=True))
    with pytest.raises(ProviderError) as e:
        await s.poll(job.job_id)
    assert e.value.kind is ErrorKind.RETRYABLE  # a read can always be repeated
    with pytest.raises(ProviderError) as e:
        await s.poll("video_does_not_exist")
    assert e.value.kind is ErrorKind.PROVIDER


async def test_unreachable_is_retryable(tmp_path):
    async with httpx.AsyncClient(timeout=2) as c:
        s = sora(c, "http://127.0.0.1:9/v1")  # nothing listens on the discard port
        with pytest.raises(ProviderError) as e:
            await s.submit(s.build(req(), "j"), tmp_path)
    assert e.value.kind is ErrorKind.RETRYABLE


# --- a create whose answer was lost ----------------------------------------------------------


@pytest.mark.parametrize("fault, error", [("drop", httpx.RemoteProtocolError), ("slow", httpx.ReadTimeout)])
async def test_lost_create_is_found_not_resent(fake, tmp_path, fault, error):
    async with httpx.AsyncClient(timeout=0.5) as c:
        s = sora(c, fake.base_url)
        call = s.build(req(), "job-1")
        call.headers["X-Fake-Fault"] = fault
        sent_at = datetime.now(timezone.utc)
        with pytest.raises(error):  # outcome unknown: not a ProviderError, so nobody resends blindly
            await s.submit(call, tmp_path)
        created = next(iter(fake.jobs))
        assert await s.find_created(call, "job-1", sent_at) == created
    assert fake.creates == 1


async def test_reconcile_matches_only_the_same_request_and_refuses_to_guess(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    mine = s.build(req(), "job-1")
    other = s.build(req(prompt="a different shot"), "job-2")
    sent_at = datetime.now(timezone.utc)
    await s.submit(other, tmp_path)
    await s.submit(s.build(req(seconds=4), "job-3"), tmp_path)  # same prompt, other length
    assert await s.find_created(mine, "job-1", sent_at) is None  # nothing of ours was created
    job = await s.submit(mine, tmp_path)
    assert await s.find_created(mine, "job-1", sent_at) == job.job_id
    assert await s.find_created(mine, "job-1", sent_at - timedelta(hours=1)) is None  # outside the window
    await s.submit(mine, tmp_path)  # an identical twin (e.g. a second variant)
    assert await s.find_created(mine, "job-1", sent_at) is None  # ambiguous: say so, never guess


async def test_reconcile_pages_through_the_list(fake, client, tmp_path):
    s = sora(client, fake.base_url)
    mine = s.build(req(), "job-1")
    sent_at = datetime.now(timezone.utc)
    job = await s.submit(mine, tmp_path)
    for i in range(150):  # newer videos push ours onto the second page
        await s.submit(s.build(req(prompt=f"shot {i}"), f"job-x{i}"), tmp_path)
    assert await s.find_created(mine, "job-1", sent_at) == job.job_id
    assert len(fake.calls_to("GET", r"/v1/videos")) == 2


# --- keys ----------------------------------------------------------------------------------


def test_key_goes_only_to_openai():
    s = sora()
    url, headers = s.media_request(MediaRef(url="https://api.openai.com/v1/videos/video_1/content"))
    assert KEY not in str(headers) and signed(s, url)["Authorization"] == f"Bearer {KEY}"
    url, headers = s.media_request(MediaRef(url="https://cdn.example.com/video_1.mp4"))
    assert "Authorization" not in signed(s, url) and KEY not in str(headers)


@pytest.mark.parametrize(
    "given, used",
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("https://api.openai.com", "https://api.openai.com/v1"),  # the bare host gets the SDK's version segment
    ],
)
def test_base_url_sdk_form_and_bare_host(given, used):
    assert sora(base_url=given).base_url == used
