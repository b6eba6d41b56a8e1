"""LTX async (v2): exact bodies for generate / extend / retake, create -> job id -> poll -> download, every fault."""

import base64
from datetime import datetime, timezone
from types import SimpleNamespace

import httpx
import pytest

from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, MediaRef, ProviderError
from promptreel.core.providers.ltx import LTX
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeLTX, Limit, png_file
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.media import render, video_shape

KEY = "ltx-key-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    with FakeLTX(key=KEY, limit=Limit(seconds=4)) as f:  # 4 s: enough frames (>= 73) to extend or retake
        yield f


def ltx(client, base="https://x", model="ltx-2-3-pro"):
    return protocol(LTX, model, client, {"LTX_API_KEY": KEY}, base)


def req(**kw):
    return GenerationRequest(
        **{
            "prompt": "a paper boat in a gutter",
            "model": "ltx-2.3-pro",
            "seconds": 6,
            "size": "1920x1080",
            "fps": 25,
            **kw,
        }
    )


def clip(tmp_path, seconds=4, size=(320, 180), fps=24):
    path = tmp_path / "take.mp4"
    path.write_bytes(render(FakeLTX.spec(*size, fps, seconds, audio=True)))
    return path


async def made(proto, request, tmp_path):
    """Create, poll to the end, download: the finished take's path."""
    sub = await proto.submit(proto.build(request, "j"), tmp_path / "s.mp4")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED, status.error
    out = tmp_path / f"{sub.job_id.rsplit('/', 1)[-1]}.mp4"
    await download(proto.client, proto, status.media[0], out)
    return sub, status, out


# --- build --------------------------------------------------------------------------------------


def test_build_text_to_video_exact(client):
    call = ltx(client).build(req(audio=True), "job-1")
    assert (call.method, call.path) == ("POST", "/v2/text-to-video")
    assert call.json == {
        "prompt": "a paper boat in a gutter",
        "model": "ltx-2-3-pro",
        "duration": 6,
        "resolution": "1920x1080",
        "fps": 25,
        "generate_audio": True,
    }


def test_build_image_to_video_exact(client):
    png = png_file()
    call = ltx(client).build(req(fps=50, first_frame=png), "job-1")
    assert call.path == "/v2/image-to-video"
    assert call.json == {
        "prompt": "a paper boat in a gutter",
        "model": "ltx-2-3-pro",
        "duration": 6,
        "resolution": "1920x1080",
        "fps": 50,
        "image_uri": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode(),
    }


def test_build_extend_exact(client, tmp_path):
    video = clip(tmp_path)
    call = ltx(client).build(req(prompt="the boat sails on", seconds=8, extend_video=str(video)), "j")
    assert call.path == "/v2/extend"
    assert call.json == {
        "video_uri": "data:video/mp4;base64," + base64.b64encode(video.read_bytes()).decode(),
        "duration": 8,
        "prompt": "the boat sails on",
        "mode": "end",
        "model": "ltx-2-3-pro",
    }


def test_build_retake_exact(client):
    call = ltx(client).build(req(prompt="now at night", remix_of="https://cdn.example/take.mp4"), "j")
    assert call.path == "/v2/retake"
    assert call.json == {
        "video_uri": "https://cdn.example/take.mp4",
        "start_time": 0,
        "duration": 6,
        "prompt": "now at night",
        "mode": "replace_audio_and_video",
        "resolution": "1920x1080",
        "model": "ltx-2-3-pro",
    }


def test_refuses_rates_inputs_and_lengths_it_cannot_take(client, tmp_path):
    with pytest.raises(UnsupportedRequest, match="24, 25, 48 or 50"):
        ltx(client).build(req(fps=30), "j")
    with pytest.raises(UnsupportedRequest, match="first-frame"):
        ltx(client).build(req(first_frame=png_file(), last_frame=png_file()), "j")
    with pytest.raises(UnsupportedRequest, match="only at 1080p and 24 or 25 fps"):
        ltx(client, model="ltx-2-3-fast").build(req(seconds=12, fps=50), "j")
    with pytest.raises(UnsupportedRequest, match="2 to 20 seconds"):
        ltx(client).build(req(seconds=1, extend_video=str(clip(tmp_path))), "j")
    with pytest.raises(UnsupportedRequest, match="neither an https URL nor a file"):
        ltx(client).build(req(extend_video="http://insecure/x.mp4"), "j")


def test_a_video_too_large_to_send_inline_is_refused(client, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (12 * 1024 * 1024))  # 16 MB as base64
    with pytest.raises(UnsupportedRequest, match="at most 15 MB") as e:
        ltx(client).build(req(extend_video=str(big)), "j")
    assert "https URL" in e.value.fix


# --- async lifecycle ------------------------------------------------------------------------------


async def test_create_answers_a_job_id_then_polls_to_a_downloadable_video(fake, client, tmp_path):
    proto = ltx(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    (ltx_id,) = fake.jobs
    assert (sub.job_id, sub.state) == (f"text-to-video/{ltx_id}", JobState.QUEUED)
    states = [(await proto.poll(sub.job_id)).raw_state for _ in range(3)]
    assert states == ["pending", "processing", "completed"]
    status = await proto.poll(sub.job_id)
    assert status.media[0].url.endswith(f"/media/{ltx_id}.mp4")
    assert status.media[0].expires_at == datetime(2026, 12, 7, 10, 2, 30, tzinfo=timezone.utc)  # 24 h after it ended
    url, headers = proto.media_request(status.media[0])
    assert headers == {}  # the key goes only to LTX's API host
    await download(client, proto, status.media[0], tmp_path / "out.mp4")
    assert frame_size(tmp_path / "out.mp4") == (320, 180)
    assert fake.creates == 1 and all(c.headers["authorization"] == f"Bearer {KEY}" for c in fake.api.calls)


@pytest.mark.parametrize("fps", [24, 48])
async def test_ltx_2_3_rates_and_portrait_sizes_are_made(fake, client, tmp_path, fps):
    """LTX-2.3 renders at 24/25/48/50 fps and in portrait up to 2160x3840 (docs.ltx.video/models)."""
    proto = ltx(client, fake.url)
    sub, _, out = await made(proto, req(fps=fps, size="2160x3840"), tmp_path)
    width, height, rate, _ = video_shape(out.read_bytes())
    assert (width < height, rate) == (True, fps)


async def test_fast_makes_long_takes_only_at_1080p_and_24_or_25_fps(fake, client, tmp_path):
    proto = ltx(client, fake.url, model="ltx-2-3-fast")
    await made(proto, req(model="ltx-2.3-fast", seconds=20, size="1080x1920", fps=24), tmp_path)
    r = await client.post(
        f"{fake.url}/v2/text-to-video",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"prompt": "x", "model": "ltx-2-3-fast", "duration": 20, "resolution": "2560x1440"},
    )
    assert r.status_code == 400 and "duration" in r.json()["error"]["message"]


async def test_extend_makes_the_input_plus_the_new_seconds(fake, client, tmp_path):
    proto = ltx(client, fake.url)
    source = clip(tmp_path, seconds=4, fps=24)
    sub, _, out = await made(proto, req(seconds=6, extend_video=str(source)), tmp_path)
    assert sub.job_id.startswith("extend/")
    width, height, rate, _ = video_shape(out.read_bytes())
    assert (width, height, rate) == (320, 180, 24)  # the input's frame and rate
    assert fake.jobs[sub.job_id.split("/")[1]].spec.seconds == 10  # 4 s given + 6 s made (before the fake's limit)


async def test_retake_remakes_the_take_at_its_length(fake, client, tmp_path):
    proto = ltx(client, fake.url)
    sub, _, _ = await made(proto, req(prompt="now at night", remix_of=str(clip(tmp_path, seconds=4))), tmp_path)
    assert sub.job_id.startswith("retake/")
    assert fake.jobs[sub.job_id.split("/")[1]].spec.seconds == 4


async def test_the_fake_refuses_a_video_too_short_to_extend(fake, client, tmp_path):
    proto = ltx(client, fake.url)
    short = clip(tmp_path, seconds=2, fps=24)  # 48 frames; LTX needs 73
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(extend_video=str(short)), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.BAD_REQUEST and "73 frames" in e.value.message


def test_earlier_take_is_its_kept_file_then_its_live_url(client, tmp_path):
    proto = ltx(client)
    kept = clip(tmp_path)
    job = SimpleNamespace(id="j1", protocol="ltx", state=JobState.DONE, output_path=str(kept), media_refs=[])
    assert proto.earlier_output(job, "extend") == str(kept)
    later = datetime(2999, 1, 1, tzinfo=timezone.utc)
    job = SimpleNamespace(
        id="j1",
        protocol="ltx",
        state=JobState.DONE,
        output_path=str(tmp_path / "gone.mp4"),
        media_refs=[MediaRef(url="https://storage.example/v.mp4", expires_at=later)],
    )
    assert proto.earlier_output(job, "remix") == "https://storage.example/v.mp4"
    job.media_refs[0].expires_at = datetime(2000, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(UnsupportedRequest, match="no longer on this machine"):
        proto.earlier_output(job, "extend")


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, kind, retry_after",
    [
        ("429", ErrorKind.RATE_LIMITED, 3.0),
        ("concurrency", ErrorKind.RATE_LIMITED, 10.0),
        ("500", ErrorKind.RETRYABLE, None),
        ("moderation", ErrorKind.MODERATION, None),
        ("credits", ErrorKind.BILLING, None),
    ],
)
async def test_create_errors_classified(fake, client, tmp_path, fault, kind, retry_after):
    fake.fault("create", fault)
    proto = ltx(client, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert fake.creates == 0


@pytest.mark.parametrize(
    "fault, kind",
    [
        ("429", ErrorKind.RATE_LIMITED),
        ("429-bare", ErrorKind.RATE_LIMITED),
        ("500", ErrorKind.RETRYABLE),
        ("503", ErrorKind.RETRYABLE),
        ("expired", ErrorKind.PROVIDER),
        ("drop", ErrorKind.RETRYABLE),
    ],
)
async def test_poll_errors_classified_with_the_fault_asked_by_header(fake, client, tmp_path, fault, kind):
    proto = ltx(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    faulty = httpx.AsyncClient(timeout=5.0, headers={"X-Fake-Fault": f"poll:{fault}"})
    try:
        with pytest.raises(ProviderError) as e:
            await ltx(faulty, fake.url).poll(sub.job_id)
    finally:
        await faulty.aclose()
    assert e.value.kind is kind
    if fault == "expired":
        assert "24 hours" in e.value.message


@pytest.mark.parametrize(
    "outcome, kind, words",
    [
        ("failed", ErrorKind.MODERATION, "content_policy_error"),
        ("failed_text", ErrorKind.PROVIDER, "Generation failed"),
        ("no_url", ErrorKind.PROVIDER, "without a video URL"),
    ],
)
async def test_failed_jobs_say_why(fake, client, tmp_path, outcome, kind, words):
    fake.fault("outcome", outcome)
    proto = ltx(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.FAILED and status.error.kind is kind and words in status.error.message


async def test_an_undocumented_state_keeps_polling(fake, client, tmp_path):
    fake.fault("outcome", "unknown")
    proto = ltx(client, fake.url)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.QUEUED, "warming_up")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED


async def test_strict_fake_rejects_wrong_types_and_unknown_fields(fake, client):
    auth = {"Authorization": f"Bearer {KEY}"}
    r = await client.post(
        f"{fake.url}/v2/text-to-video",
        headers=auth,
        json={"prompt": "x", "model": "ltx-2-3-pro", "duration": "6", "resolution": "1920x1080"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = await client.post(
        f"{fake.url}/v2/extend", headers=auth, json={"video_uri": "https://a.example/v.mp4", "duration": 4, "seed": 1}
    )
    assert r.status_code == 400 and "seed" in r.json()["error"]["message"]
    assert fake.creates == 0


async def test_wrong_key_is_auth(fake, client, tmp_path):
    proto = protocol(LTX, "ltx-2-3-pro", client, {"LTX_API_KEY": "ltx-wrong-0123456789"}, fake.url)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert e.value.kind is ErrorKind.AUTH and "ltx-wrong-0123456789" not in str(e.value)


async def test_a_lost_create_propagates_and_cannot_be_looked_up(fake, client, tmp_path):
    """The job was made (and will be billed), but LTX has no way to list or look up jobs but by the id
    that was lost: find_created says so (None), and the engine asks before sending again."""
    fake.fault("create", "drop")
    proto = ltx(client, fake.url)
    with pytest.raises(httpx.TransportError):
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert fake.creates == 1
    assert await proto.find_created(proto.build(req(), "j"), "j", datetime.now()) is None


async def test_a_job_id_that_names_no_endpoint_is_refused(client):
    with pytest.raises(ProviderError) as e:
        await ltx(client).poll("abc-123")
    assert e.value.kind is ErrorKind.BAD_REQUEST


async def test_ltx_2_models_removed_in_august_answer_model_gone(fake, client, tmp_path):
    proto = ltx(client, fake.url, model="ltx-2-pro")
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s.mp4")
    assert e.value.kind is ErrorKind.RETIRED and fake.creates == 0
