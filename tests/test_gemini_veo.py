"""The gemini route (Veo on the Gemini API): exact request bodies, and the four verbs against a fake that
validates like the service, with its faults."""

from __future__ import annotations

import base64
from datetime import date, datetime, timezone

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, MediaRef, ProviderError
from promptreel.core.providers.gemini_veo import GeminiVeo
from promptreel.core.providers.veo import Operation
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeGeminiVeo, Reply, png, tiny_mp4
from promptreel.core.sandbox.drive import download
from tests.auth_helpers import signed
from tests.fakes.images import inline, still

KEY = "AIzaFakeGeminiKey0123456789"
MODEL = "veo-3.0-generate-001"
# Google shut Veo 3 down on 2026-06-30 and the Gemini API serves no Veo id through predictLongRunning
# since: the protocol is tested as the API answered before that day (the fake's `today`).
BEFORE_SHUTDOWN = date(2026, 6, 1)
CREATE = rf"/v1beta/models/{MODEL}:predictLongRunning"


def req(**kw) -> GenerationRequest:
    base = dict(prompt="a lighthouse at dusk, waves", model="veo-3", seconds=8, size="1280x720", fps=24)
    return GenerationRequest(**{**base, **kw})


def veo(client=None, base_url=None, model=MODEL, key=KEY, staging_dir=None) -> GeminiVeo:
    return GeminiVeo(
        client or httpx.AsyncClient(),
        Route(protocol="gemini", model_id=model),
        {"GEMINI_API_KEY": key},
        base_url=base_url,
        staging_dir=staging_dir,
    )


@pytest.fixture
def fake():
    with FakeGeminiVeo(key=KEY) as server:
        server.today = BEFORE_SHUTDOWN
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


async def run_to_end(v: GeminiVeo, job_id: str, limit: int = 10):
    for _ in range(limit):
        status = await v.poll(job_id)
        if status.state in (JobState.SUCCEEDED, JobState.FAILED):
            return status
        assert status.state is JobState.RUNNING and status.progress is None
    raise AssertionError("operation never finished")


# --- build: the exact bodies ----------------------------------------------------------------


def test_registered_under_route_name():
    assert protocol_class("gemini") is GeminiVeo
    assert GeminiVeo.default_base_url == "https://generativelanguage.googleapis.com"


def test_text_to_video_body():
    call = veo().build(req(seed=42, audio=True, negative_prompt="text, watermark"), "job-1")
    assert (call.method, call.path) == ("POST", f"/v1beta/models/{MODEL}:predictLongRunning")
    # seed, fps and generateAudio are Vertex-only: the Gemini API refuses them.
    assert call.json == {
        "instances": [{"prompt": "a lighthouse at dusk, waves"}],
        "parameters": {
            "aspectRatio": "16:9",
            "resolution": "720p",
            "durationSeconds": 8,
            "negativePrompt": "text, watermark",
            "sampleCount": 1,
        },
    }


def test_first_and_last_frame_and_reference_images(tmp_path):
    first, last = still(tmp_path, 320, 180, "first"), still(tmp_path, 320, 180, "last")
    refs = tuple(still(tmp_path, 64 * (i + 1), 64, f"ref{i}") for i in range(3))
    call = veo().build(req(size="1080x1920", first_frame=first, last_frame=last, reference_images=refs), "job-1")
    assert call.json == {
        "instances": [
            {
                "prompt": "a lighthouse at dusk, waves",
                "image": inline(first),
                "lastFrame": inline(last),
                "referenceImages": [{"image": inline(p), "referenceType": "ASSET"} for p in refs],
            }
        ],
        "parameters": {"aspectRatio": "9:16", "resolution": "1080p", "durationSeconds": 8, "sampleCount": 1},
    }


def test_extension_names_a_veo_output_by_uri(tmp_path):
    uri = "https://generativelanguage.googleapis.com/v1beta/files/qu4d28uipuqh:download?alt=media"
    call = veo().build(req(extend_video=uri), "job-1")
    assert call.json["instances"][0] == {"prompt": "a lighthouse at dusk, waves", "video": {"uri": uri}}
    call = veo().build(req(extend_video="files/qu4d28uipuqh"), "job-1")
    assert call.json["instances"][0]["video"] == {"uri": uri}
    clip = tmp_path / "take.mp4"
    clip.write_bytes(tiny_mp4())
    with pytest.raises(UnsupportedRequest, match="only videos Veo made"):
        veo().build(req(extend_video=str(clip)), "job-1")


def test_veo2_takes_no_resolution_and_odd_sizes_are_refused():
    call = veo(model="veo-2.0-generate-001").build(req(seconds=5), "j")
    assert call.json["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 5, "sampleCount": 1}
    with pytest.raises(UnsupportedRequest, match="16:9 or 9:16"):
        veo().build(req(size="1024x1024"), "j")
    assert veo().build(req(size="3840x2160"), "j").json["parameters"]["resolution"] == "4k"


def test_unknown_and_pending_operation_shapes_are_tolerated(tmp_path):
    v = veo(staging_dir=tmp_path)
    assert v.status_of(Operation.model_validate({"name": "models/m/operations/1"})).state is JobState.RUNNING
    assert (
        v.status_of(Operation.model_validate({"name": "x", "done": False, "metadata": {"a": 1}})).state
        is JobState.RUNNING
    )
    # The SDK's converters also read inline samples (encodedVideo): they are written to the staging folder.
    op = Operation.model_validate(
        {
            "name": "models/m/operations/2",
            "done": True,
            "response": {
                "generateVideoResponse": {
                    "generatedSamples": [
                        {"video": {"encodedVideo": base64.b64encode(tiny_mp4()).decode(), "encoding": "video/mp4"}}
                    ]
                }
            },
        }
    )
    status = v.status_of(op)
    assert status.state is JobState.SUCCEEDED
    path = status.media[0].inline_path
    assert path.parent == tmp_path and path.read_bytes() == tiny_mp4() and "operations" not in path.name


# --- the round trip against the fake ---------------------------------------------------------


async def test_submit_poll_download_round_trip(fake, client, tmp_path):
    v = veo(client, fake.url)
    first = still(tmp_path, 320, 180)
    submitted = await v.submit(v.build(req(first_frame=first), "job-1"), tmp_path)
    assert submitted.job_id.startswith(f"models/{MODEL}/operations/")
    status = await run_to_end(v, submitted.job_id)
    assert status.state is JobState.SUCCEEDED
    media = status.media[0]
    assert media.url.startswith(f"{fake.url}/v1beta/files/") and KEY not in media.url
    dest = tmp_path / "out.mp4"
    assert await download(client, v, media, dest) == 1
    info = probe(dest)
    assert (info.width, info.height, info.frames, info.has_audio) == (320, 180, 24, True)
    # The key went to the API host; the redirect target (another host) never saw it.
    assert fake.blob_headers and all("x-goog-api-key" not in h for h in fake.blob_headers)
    assert fake.creates == 1
    assert len(fake.calls_to("GET", r"/v1beta/models/.*/operations/.*")) == 3


async def test_extension_of_a_finished_take(fake, client, tmp_path):
    v = veo(client, fake.url)
    source = await run_to_end(v, (await v.submit(v.build(req(), "job-1"), tmp_path)).job_id)
    ext = await v.submit(v.build(req(extend_video=source.media[0].url), "job-2"), tmp_path)
    assert (await run_to_end(v, ext.job_id)).state is JobState.SUCCEEDED
    assert fake.creates == 2


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b["parameters"].update(seed=1), "`seed` isn't supported"),
        (lambda b: b["parameters"].update(durationSeconds="8"), "durationSeconds must be an integer"),
        (lambda b: b["parameters"].update(resolution="1080p", durationSeconds=4), "requires durationSeconds 8"),
        (lambda b: b["instances"][0].update(image={"gcsUri": "gs://b/f.png", "mimeType": "image/png"}), "gcsUri"),
        (
            lambda b: b["instances"][0].update(
                lastFrame={"bytesBase64Encoded": base64.b64encode(png(32, 32)).decode(), "mimeType": "image/png"}
            ),
            "lastFrame requires image",
        ),
    ],
)
async def test_the_fake_catches_client_bugs(fake, client, tmp_path, mutate, message):
    v = veo(client, fake.url)
    call = v.build(req(), "j")
    mutate(call.json)
    with pytest.raises(ProviderError, match=message) as e:
        await v.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST and fake.creates == 0


# --- faults ----------------------------------------------------------------------------------

RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}


def quota(quota_id: str, value: str = "10") -> dict:
    return {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/predict_long_running_requests",
                "quotaId": quota_id,
                "quotaDimensions": {"model": MODEL},
                "quotaValue": value,
            }
        ],
    }


def gerror(http, status, message, details=None, headers=None) -> Reply:
    body = {"code": http, "message": message, "status": status}
    if details:
        body["details"] = details
    return Reply(http, {"error": body}, headers=headers or {})


@pytest.mark.parametrize(
    "reply, kind, wait",
    [
        (
            gerror(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                [quota("PredictLongRunningRequestsPerMinutePerProjectPerModel"), RETRY_INFO],
            ),
            ErrorKind.RATE_LIMITED,
            37.0,
        ),
        (
            gerror(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                [quota("PredictLongRunningRequestsPerDayPerProjectPerModel")],
            ),
            ErrorKind.BILLING,
            None,
        ),
        (
            gerror(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", [quota("PredictRequestsPerMinute-FreeTier", "0")]),
            ErrorKind.BILLING,
            None,
        ),
        (
            gerror(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                headers={"Retry-After": "12"},
            ),
            ErrorKind.RATE_LIMITED,
            12.0,
        ),
        (gerror(500, "INTERNAL", "An internal error has occurred."), ErrorKind.RETRYABLE, None),
        (gerror(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), ErrorKind.RETRYABLE, None),
        (Reply(502, "<html>Bad Gateway</html>"), ErrorKind.RETRYABLE, None),
        (
            gerror(
                400,
                "FAILED_PRECONDITION",
                "Gemini API free tier is not available in your country. Please enable billing "
                "on your project in Google AI Studio.",
            ),
            ErrorKind.BILLING,
            None,
        ),
        (
            gerror(
                400,
                "INVALID_ARGUMENT",
                "The prompt contains sensitive words that violate Google's Responsible AI practices.",
            ),
            ErrorKind.MODERATION,
            None,
        ),
    ],
)
async def test_create_errors_are_classified(fake, client, tmp_path, reply, kind, wait):
    v = veo(client, fake.url)
    fake.fail_next("POST", CREATE, reply)
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.retry_after, e.value.status) == (kind, wait, reply.status)
    assert fake.creates == 0


@pytest.mark.parametrize("key, status", [("AIzaWrongKey999999999", 400), ("", 403)])
async def test_wrong_or_missing_key_is_auth_and_never_in_the_message(fake, client, tmp_path, key, status):
    v = veo(client, fake.url, key=key)
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.status) == (ErrorKind.AUTH, status)
    assert not key or key not in str(e.value)


@pytest.mark.parametrize(
    "model, words, today",
    [
        ("veo-3.1-generate-preview", "no longer available", BEFORE_SHUTDOWN),
        ("veo-9", "not found", BEFORE_SHUTDOWN),
        (MODEL, "no longer available", None),
    ],
)  # today: Veo 3 is gone
async def test_retired_or_unknown_model_is_retired(fake, client, tmp_path, model, words, today):
    fake.today = today
    v = veo(client, fake.url, model=model)
    with pytest.raises(ProviderError, match=words) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert e.value.kind is ErrorKind.RETIRED


@pytest.mark.parametrize(
    "fault, kind, words",
    [
        ("rai", ErrorKind.MODERATION, "Support codes: 42237218"),
        ("no_media", ErrorKind.PROVIDER, "without a video"),
        ("op_error", ErrorKind.RETRYABLE, "Internal error"),
        ("op_moderation", ErrorKind.MODERATION, "Responsible AI"),
    ],
)
async def test_finished_without_a_video_is_a_failure(fake, client, tmp_path, fault, kind, words):
    v = veo(client, fake.url)
    call = v.build(req(), "j")
    call.headers["X-Fake-Fault"] = fault
    status = await run_to_end(v, (await v.submit(call, tmp_path)).job_id)
    assert status.state is JobState.FAILED and not status.media
    assert status.error.kind is kind and words in status.error.message


async def test_truncated_download_is_retried_without_a_new_job(fake, client, tmp_path):
    v = veo(client, fake.url)
    call = v.build(req(), "j")
    call.headers["X-Fake-Fault"] = "truncate"
    status = await run_to_end(v, (await v.submit(call, tmp_path)).job_id)
    dest = tmp_path / "out.mp4"
    assert await download(client, v, status.media[0], dest) == 2
    assert dest.read_bytes() == fake.media_of(None) and fake.creates == 1


async def test_poll_errors(fake, client, tmp_path):
    v = veo(client, fake.url)
    job = await v.submit(v.build(req(), "j"), tmp_path)
    fake.fail_next("GET", r"/v1beta/models/.*/operations/.*", gerror(503, "UNAVAILABLE", "try again"))
    with pytest.raises(ProviderError) as e:
        await v.poll(job.job_id)
    assert e.value.kind is ErrorKind.RETRYABLE
    with pytest.raises(ProviderError) as e:
        await v.poll(f"models/{MODEL}/operations/nope")
    assert e.value.kind is ErrorKind.PROVIDER


async def test_lost_create_cannot_be_reconciled_and_says_so(fake, tmp_path):
    async with httpx.AsyncClient(timeout=1) as c:
        v = veo(c, fake.url)
        call = v.build(req(), "j")
        call.headers["X-Fake-Fault"] = "drop"
        with pytest.raises(httpx.RemoteProtocolError):  # outcome unknown: not retried as if nothing happened
            await v.submit(call, tmp_path)
        # The Gemini API lists no operations, so there is nothing to match against: None, never a guess.
        assert await v.find_created(call, "j", datetime.now(timezone.utc)) is None
    assert fake.creates == 1


def test_key_goes_only_to_the_gemini_host():
    v = veo()
    url, headers = v.media_request(
        MediaRef(url="https://generativelanguage.googleapis.com/v1beta/files/a:download?alt=media")
    )
    assert headers == {} and signed(v, url)["x-goog-api-key"] == KEY
    assert "x-goog-api-key" not in signed(v, "https://storage.example.com/a.mp4")


def test_errors_never_carry_the_key():
    v = veo()
    r = httpx.Response(
        400,
        json={"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": f"bad request with key={KEY}"}},
        request=httpx.Request("POST", "https://x"),
    )
    err = v.classify(r, creating=True)
    assert KEY not in err.message and "[redacted]" in err.message
