"""The vertex route (Veo on Vertex AI): exact request bodies, credentials from Application Default
Credentials, and the four verbs against a fake Vertex AI + Cloud Storage, with its faults."""

from __future__ import annotations

import base64
import sys
from fractions import Fraction

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import MissingKey, UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.vertex import VertexVeo
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeVertexVeo, Reply, Spec, render, tiny_mp4
from promptreel.core.sandbox.drive import download
from tests.auth_helpers import signed
from tests.fakes.images import inline, still

TOKEN = "ya29.fake-vertex-token-0123"
PROJECT = "film-project"
MODEL = "veo-3.1-generate-001"
MODEL_PATH = f"/v1/projects/{PROJECT}/locations/us-central1/publishers/google/models/{MODEL}"


def req(**kw) -> GenerationRequest:
    base = dict(prompt="a lighthouse at dusk, waves", model="veo-3.1", seconds=8, size="1280x720", fps=24)
    return GenerationRequest(**{**base, **kw})


def vertex(client=None, base_url=None, model=MODEL, token=TOKEN, project=PROJECT, **kw) -> VertexVeo:
    creds = {"access_token": token} if token else {}
    return VertexVeo(
        client or httpx.AsyncClient(),
        Route(protocol="vertex", model_id=model),
        creds,
        base_url=base_url,
        project=project,
        **kw,
    )


@pytest.fixture
def fake():
    with FakeVertexVeo(token=TOKEN, project=PROJECT) as server:
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


def on_fake(client, fake, tmp_path, **kw) -> VertexVeo:
    return vertex(client, fake.url, staging_dir=tmp_path / "staging", storage_url=fake.url, **kw)


async def run_to_end(v: VertexVeo, job_id: str, limit: int = 10):
    for _ in range(limit):
        status = await v.poll(job_id)
        if status.state in (JobState.SUCCEEDED, JobState.FAILED):
            return status
        assert status.state is JobState.RUNNING
    raise AssertionError("operation never finished")


# --- build: the exact bodies ----------------------------------------------------------------


def test_registered_under_route_name_with_regional_hosts():
    assert protocol_class("vertex") is VertexVeo
    assert vertex().base_url == "https://us-central1-aiplatform.googleapis.com"
    assert vertex(location="europe-west4").base_url == "https://europe-west4-aiplatform.googleapis.com"
    assert vertex(location="global").base_url == "https://aiplatform.googleapis.com"


def test_text_to_video_body_with_vertex_fields():
    call = vertex().build(req(seed=42, negative_prompt="text, watermark"), "job-1")
    assert (call.method, call.path) == ("POST", f"{MODEL_PATH}:predictLongRunning")
    assert call.json == {
        "instances": [{"prompt": "a lighthouse at dusk, waves"}],
        "parameters": {
            "aspectRatio": "16:9",
            "resolution": "720p",
            "durationSeconds": 8,
            "negativePrompt": "text, watermark",
            "sampleCount": 1,
            "seed": 42,
            "fps": 24,
            "generateAudio": True,
        },
    }


def test_frames_references_extension_and_output_bucket(tmp_path):
    first, last = still(tmp_path, 320, 180, "first"), still(tmp_path, 320, 180, "last")
    refs = (still(tmp_path, 64, 64, "ref"),)
    v = vertex(output_gcs_uri="gs://my-bucket/takes")
    call = v.build(
        req(
            audio=False,
            first_frame=first,
            last_frame=last,
            reference_images=refs,
            extend_video="gs://my-bucket/takes/1/sample_0.mp4",
        ),
        "job-1",
    )
    assert call.json == {
        "instances": [
            {
                "prompt": "a lighthouse at dusk, waves",
                "image": inline(first),
                "lastFrame": inline(last),
                "referenceImages": [{"image": inline(refs[0]), "referenceType": "ASSET"}],
                "video": {"gcsUri": "gs://my-bucket/takes/1/sample_0.mp4", "mimeType": "video/mp4"},
            }
        ],
        "parameters": {
            "aspectRatio": "16:9",
            "resolution": "720p",
            "durationSeconds": 8,
            "sampleCount": 1,
            "fps": 24,
            "generateAudio": False,
            "storageUri": "gs://my-bucket/takes",
        },
    }
    clip = tmp_path / "take.mp4"
    clip.write_bytes(tiny_mp4())
    video = vertex().build(req(extend_video=str(clip)), "j").json["instances"][0]["video"]
    assert video == {"bytesBase64Encoded": base64.b64encode(tiny_mp4()).decode(), "mimeType": "video/mp4"}
    with pytest.raises(UnsupportedRequest):
        vertex().build(req(extend_video="job-that-is-not-a-file"), "j")


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(size="3840x2160"), "720p or 1080p, not 3840x2160"),
        (dict(size="1920x1080", extend_video="gs://b/take.mp4"), "extends a video only at 720p"),
        (dict(size="720x1280", reference_images="REF"), "only for 16:9 video"),
        (dict(seconds=6, reference_images="REF"), "8 s from reference images, not 6 s"),
    ],
)
def test_veo_3_1_rules_on_vertex_are_refused_before_sending(tmp_path, kw, words):
    """Vertex's Veo 3.1 page: 720p / 1080p, an extension at 720p, reference images at 16:9 and 8 s."""
    if kw.get("reference_images") == "REF":
        kw["reference_images"] = (still(tmp_path, 64, 64, "ref"),)
    with pytest.raises(UnsupportedRequest, match=words):
        vertex().build(req(**kw), "j")


@pytest.mark.parametrize(
    "params, instance, words",
    [
        ({"resolution": "4k"}, {}, "use 720p or 1080p"),
        ({"resolution": "1080p"}, {"video": "EXTEND"}, "only 720p"),
        ({"aspectRatio": "9:16"}, {"referenceImages": "REF"}, "only 16:9"),
    ],
)
async def test_the_vertex_fake_holds_veo_3_1_to_its_page(fake, client, tmp_path, params, instance, words):
    v = on_fake(client, fake, tmp_path)
    body = v.build(req(), "j").json
    body["parameters"].update(params)
    if instance.get("video"):
        body["instances"][0]["video"] = {
            "bytesBase64Encoded": base64.b64encode(tiny_mp4()).decode(),
            "mimeType": "video/mp4",
        }
    if instance.get("referenceImages"):
        body["instances"][0]["referenceImages"] = [
            {"image": inline(still(tmp_path, 64, 64, "ref")), "referenceType": "ASSET"}
        ]
    r = await client.post(
        f"{fake.url}{MODEL_PATH}:predictLongRunning", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 400 and words in r.json()["error"]["message"]


def test_veo2_has_no_audio_or_resolution_and_seed_is_uint32():
    call = vertex(model="veo-2.0-generate-001").build(req(seconds=5, seed=2**32 + 5), "j")
    assert call.json["parameters"] == {
        "aspectRatio": "16:9",
        "durationSeconds": 5,
        "sampleCount": 1,
        "seed": 5,
        "fps": 24,
    }


def test_project_and_location_from_settings_then_env(monkeypatch):
    from promptreel.core.settings import settings_path

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-northeast1")
    v = vertex(project=None)
    assert (v.project, v.location) == ("env-project", "asia-northeast1")
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text('vertex_project = "set-project"\nvertex_location = "europe-west4"\n')
    v = vertex(project=None)
    assert (v.project, v.location, v.base_url) == (
        "set-project",
        "europe-west4",
        "https://europe-west4-aiplatform.googleapis.com",
    )


def test_a_gemini_key_alone_is_told_veo_3_1_left_the_gemini_api(monkeypatch):
    """Vertex has no credentials here; the user's Gemini API key reaches only Veo 3.1's retired preview id:
    the refusal says so and names Gemini Omni, beside how to set up Vertex."""
    from promptreel.core.catalog import load_catalog
    from promptreel.core.engine import Engine

    monkeypatch.setenv("GEMINI_API_KEY", "AIzaTest0123456789abcdef")
    missing = MissingKey("The vertex route found no Google Application Default Credentials.", "Run gcloud.")
    told = Engine._retired_hint(load_catalog().get("veo-3.1"), missing)
    assert told.problem == missing.problem
    assert told.fix == (
        "Run gcloud. Your gemini key does not reach Veo 3.1: gemini (veo-3.1-generate-preview) shut "
        "down on 2026-10-22. On the Gemini API use gemini-omni-1.2-flash or gemini-omni-1.1-flash "
        "(Google names 1.1 as the replacement; shutdown date as quoted by docs.apiyi.com [3P])."
    )
    monkeypatch.delenv("GEMINI_API_KEY")
    assert Engine._retired_hint(load_catalog().get("veo-3.1"), missing) is missing


def test_no_project_is_a_missing_key_error(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(MissingKey, match="Google Cloud project"):
        vertex(project=None).build(req(), "j")


# --- credentials ------------------------------------------------------------------------------


def test_without_google_auth_the_route_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.auth", None)  # as if the `vertex` extra were not installed
    with pytest.raises(MissingKey, match=r"pip install 'promptreel\[vertex\]'"):
        vertex(token=None).auth.headers()


def test_without_application_default_credentials_the_route_says_how_to_log_in(monkeypatch, tmp_path):
    pytest.importorskip("google.auth")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(MissingKey, match="gcloud auth application-default login"):
        vertex(token=None).auth.headers()


async def test_application_default_credentials_are_refreshed_and_used(monkeypatch, tmp_path, fake, client):
    pytest.importorskip("google.auth.transport.requests")
    import google.auth
    from google.oauth2.credentials import Credentials

    # Real user credentials whose token endpoint is the fake's: google-auth refreshes them for real.
    creds = Credentials(
        token=None,
        refresh_token="refresh-me",
        token_uri=f"{fake.url}/token",
        client_id="cid",
        client_secret="secret",
        quota_project_id=PROJECT,
    )
    monkeypatch.setattr(google.auth, "default", lambda scopes=None: (creds, PROJECT))
    v = vertex(client, fake.url, token=None, project=None, staging_dir=tmp_path)
    job = await v.submit(v.build(req(), "j"), tmp_path)
    assert job.job_id.startswith(MODEL_PATH[4:])
    sent = fake.calls_to("POST", r".*:predictLongRunning")[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}" and sent.headers["x-goog-user-project"] == PROJECT
    await v.poll(job.job_id)
    assert len(fake.calls_to("POST", r"/token")) == 1  # refreshed once, then reused while valid


# --- the round trips against the fake ----------------------------------------------------------


async def test_inline_output_is_written_to_staging(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path)
    submitted = await v.submit(v.build(req(first_frame=still(tmp_path, 320, 180)), "job-1"), tmp_path)
    assert submitted.job_id.startswith(f"{MODEL_PATH[4:]}/operations/")
    status = await run_to_end(v, submitted.job_id)
    assert status.state is JobState.SUCCEEDED
    path = status.media[0].inline_path
    assert path.parent == tmp_path / "staging" and status.media[0].url is None
    info = probe(path)
    assert (info.width, info.height, info.frames, info.has_audio) == (320, 180, 24, True)
    assert fake.creates == 1
    fetches = fake.calls_to("POST", r".*:fetchPredictOperation")
    assert len(fetches) == 3 and fetches[0].json() == {"operationName": submitted.job_id}


async def test_gcs_output_is_downloaded_through_the_json_api_with_the_token(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path, output_gcs_uri="gs://promptreel-takes/out")
    status = await run_to_end(v, (await v.submit(v.build(req(), "job-1"), tmp_path)).job_id)
    media = status.media[0]
    assert media.url.startswith(f"{fake.url}/storage/v1/b/promptreel-takes/o/out%2F") and media.url.endswith(
        "?alt=media"
    )
    assert media.provider_id.startswith("gs://promptreel-takes/out/")  # kept, so a later extend can name it
    url, headers = v.media_request(media)
    assert headers == {} and signed(v, url)["Authorization"] == f"Bearer {TOKEN}"
    dest = tmp_path / "out.mp4"
    assert await download(client, v, media, dest) == 1
    assert probe(dest).frames == 24 and fake.creates == 1


def clip(data: bytes, **extra) -> dict:
    return {"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "video/mp4", **extra}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b["parameters"].pop("generateAudio"), "generateAudio is required"),
        (lambda b: b["parameters"].update(seed="42"), "seed must be an integer"),
        (lambda b: b["instances"][0].update(video={"uri": "gs://b/v.mp4"}), "video must be"),
        (lambda b: b["instances"][0].update(video=clip(tiny_mp4(), gcsUri="gs://b/v.mp4")), "exactly one of"),
        (lambda b: b["instances"][0].update(video=clip(tiny_mp4(), mimeType="image/png")), "mimeType must be"),
        (
            lambda b: b["instances"][0].update(video={"gcsUri": "gs://nowhere/v.mp4", "mimeType": "video/mp4"}),
            "no such object",
        ),
        (lambda b: b["instances"][0].update(video={"gcsUri": "nowhere/v.mp4", "mimeType": "video/mp4"}), "not a gs://"),
        (
            lambda b: b["instances"][0].update(video={"bytesBase64Encoded": "%%", "mimeType": "video/mp4"}),
            "not valid base64",
        ),
        (
            lambda b: b["instances"][0].update(video=clip(b"\x00\x00\x00\x18ftypmp42 not really")),
            "could not be decoded",
        ),
        (
            lambda b: b["instances"][0].update(video=clip(render(Spec(320, 180, Fraction(24), Fraction(1, 2))))),
            "1 to 30 seconds",
        ),
    ],
)
async def test_the_fake_catches_client_bugs(fake, client, tmp_path, mutate, message):
    v = on_fake(client, fake, tmp_path)
    call = v.build(req(), "j")
    mutate(call.json)
    with pytest.raises(ProviderError, match=message) as e:
        await v.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST and fake.creates == 0


# --- faults ----------------------------------------------------------------------------------


def gerror(http, status, message, details=None, headers=None) -> Reply:
    body = {"code": http, "message": message, "status": status}
    if details:
        body["details"] = details
    return Reply(http, {"error": body}, headers=headers or {})


@pytest.mark.parametrize(
    "reply, kind",
    [
        (
            gerror(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource exhausted. Please try again later. Please refer to "
                "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
            ),
            ErrorKind.RATE_LIMITED,
        ),
        (gerror(500, "INTERNAL", "Internal error encountered."), ErrorKind.RETRYABLE),
        (gerror(503, "UNAVAILABLE", "The service is currently unavailable."), ErrorKind.RETRYABLE),
        (
            gerror(
                403,
                "PERMISSION_DENIED",
                "This API method requires billing to be enabled.",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "BILLING_DISABLED"}],
            ),
            ErrorKind.BILLING,
        ),
    ],
)
async def test_create_errors_are_classified(fake, client, tmp_path, reply, kind):
    v = on_fake(client, fake, tmp_path)
    fake.fail_next("POST", r".*:predictLongRunning", reply)
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.status) == (kind, reply.status) and fake.creates == 0


async def test_bad_token_or_project_is_auth_and_never_echoes_the_token(fake, client, tmp_path):
    wrong = "ya29.wrong-token-77777"
    v = on_fake(client, fake, tmp_path, token=wrong)
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.status) == (ErrorKind.AUTH, 401) and wrong not in str(e.value)
    v = on_fake(client, fake, tmp_path, project="someone-elses")
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "j"), tmp_path)
    assert (e.value.kind, e.value.status) == (ErrorKind.AUTH, 403)


@pytest.mark.parametrize("model", ["veo-3.0-generate-preview", "veo-9.9-generate-001"])
async def test_retired_or_unknown_model_is_retired(fake, client, tmp_path, model):
    v = on_fake(client, fake, tmp_path, model=model)
    with pytest.raises(ProviderError) as e:
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
    v = on_fake(client, fake, tmp_path)
    call = v.build(req(), "j")
    call.headers["X-Fake-Fault"] = fault
    status = await run_to_end(v, (await v.submit(call, tmp_path)).job_id)
    assert status.state is JobState.FAILED and status.error.kind is kind and words in status.error.message


async def test_the_fake_extends_its_own_gcs_output_and_an_inline_clip(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path, output_gcs_uri="gs://promptreel-takes")
    first = await run_to_end(v, (await v.submit(v.build(req(), "j1"), tmp_path)).job_id)
    for source in (first.media[0].provider_id, str(still_clip(tmp_path))):
        status = await run_to_end(v, (await v.submit(v.build(req(extend_video=source), "j2"), tmp_path)).job_id)
        assert status.state is JobState.SUCCEEDED
    assert fake.creates == 3


def still_clip(tmp_path):
    path = tmp_path / "source.mp4"
    path.write_bytes(tiny_mp4())
    return path


async def test_truncated_gcs_download_is_retried_without_a_new_job(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path, output_gcs_uri="gs://promptreel-takes")
    call = v.build(req(), "j")
    call.headers["X-Fake-Fault"] = "truncate"
    status = await run_to_end(v, (await v.submit(call, tmp_path)).job_id)
    dest = tmp_path / "out.mp4"
    assert await download(client, v, status.media[0], dest) == 2
    assert dest.read_bytes() == fake.media_of(None) and fake.creates == 1


async def test_poll_errors(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path)
    job = await v.submit(v.build(req(), "j"), tmp_path)
    fake.fail_next(
        "POST",
        r".*:fetchPredictOperation",
        gerror(429, "RESOURCE_EXHAUSTED", "slow down", headers={"Retry-After": "30"}),
    )
    with pytest.raises(ProviderError) as e:
        await v.poll(job.job_id)
    assert (e.value.kind, e.value.retry_after) == (ErrorKind.RATE_LIMITED, 30.0)
    with pytest.raises(ProviderError) as e:
        await v.poll(f"{MODEL_PATH[4:]}/operations/nope")
    assert e.value.kind is ErrorKind.PROVIDER
    with pytest.raises(ProviderError) as e:
        await v.poll("not-an-operation")
    assert e.value.kind is ErrorKind.BAD_REQUEST


def test_token_goes_only_to_vertex_and_storage_hosts():
    v = vertex()
    assert (
        signed(v, "https://storage.googleapis.com/storage/v1/b/b/o/x.mp4?alt=media")["Authorization"]
        == f"Bearer {TOKEN}"
    )
    assert signed(v, v.base_url + "/v1/x")["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in signed(v, "https://example.com/x.mp4")
