"""Gemini Omni on the vertex route: the interactions under the project and location with Vertex's token, the
video inline or through Cloud Storage, refine and extend by the earlier interaction; against the vertex
fake, through the real engine and conform, and with Google's own SDK in Vertex mode."""

from __future__ import annotations

import base64
import io

import av
import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.vertex import VertexOmni, VertexVeo
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, FakeVertex, sandbox, tiny_mp4
from promptreel.core.sandbox.drive import download
from tests.auth_helpers import signed
from tests.sandbox_engine import fill_exact, point_at, run, two_slots

TOKEN = "ya29.fake-vertex-token-0123"
PROJECT = "film-project"
MODEL = "gemini-omni-1.2-flash"
PARENT = f"/v1beta1/projects/{PROJECT}/locations/us-central1"
BUCKET = "gs://promptreel-takes/omni"


def req(**kw) -> GenerationRequest:
    return GenerationRequest(**{"prompt": "a fox in snow", "model": MODEL, "seconds": 6, "size": "1280x720", **kw})


def omni(client=None, base_url=None, model=MODEL, **kw) -> VertexOmni:
    return VertexOmni(
        client or httpx.AsyncClient(),
        Route(protocol="vertex", model_id=model),
        {"access_token": TOKEN},
        base_url=base_url,
        project=PROJECT,
        location="us-central1",
        **kw,
    )


@pytest.fixture(scope="module")
def server():
    with FakeVertex(token=TOKEN, project=PROJECT, limit=SMALL) as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


def on_fake(client, fake, tmp_path, **kw) -> VertexOmni:
    return omni(client, fake.url, staging_dir=tmp_path / "staging", storage_url=fake.url, **kw)


async def run_to_end(v: VertexOmni, job_id: str, limit: int = 10):
    for _ in range(limit):
        status = await v.poll(job_id)
        if status.state in (JobState.SUCCEEDED, JobState.FAILED):
            return status
        assert status.state is JobState.RUNNING
    raise AssertionError("interaction never finished")


async def make(v: VertexOmni, request: GenerationRequest, tmp_path):
    submitted = await v.submit(v.build(request, "job"), tmp_path)
    return submitted.job_id, await run_to_end(v, submitted.job_id)


# --- the route takes Omni's ids to the interactions, Veo's to predictLongRunning ---------------------


def test_the_vertex_route_speaks_interactions_for_omni_ids_only():
    assert protocol_class("vertex", "gemini-omni-1.2-flash") is VertexOmni
    assert protocol_class("vertex", "gemini-omni-1.1-flash-preview") is VertexOmni
    assert protocol_class("vertex", "veo-3.1-generate-001") is VertexVeo


def test_the_body_is_the_interactions_body_under_the_project_and_location():
    call = omni().build(req(size="720x1280"), "job")
    assert (call.method, call.path) == ("POST", f"{PARENT}/interactions")
    assert call.json == {
        "model": MODEL,
        "input": [{"type": "text", "text": "a fox in snow"}],
        "background": True,
        "store": True,
        "generation_config": {"video_config": {"task": "text_to_video"}},
        "response_format": {
            "type": "video",
            "aspect_ratio": "9:16",
            "resolution": "720p",
            "duration": "6s",
            "delivery": "inline",
        },
    }


def test_a_bucket_in_settings_sends_the_video_to_cloud_storage():
    fmt = omni(output_gcs_uri=BUCKET).build(req(size="1920x1080"), "job").json["response_format"]
    assert (fmt["delivery"], fmt["gcs_uri"], fmt["resolution"]) == ("uri", BUCKET, "1080p")


@pytest.mark.parametrize("size", ["1920x1080", "2160x3840"])
def test_1080p_and_4k_without_a_bucket_are_refused_before_anything_is_sent(size):
    with pytest.raises(UnsupportedRequest, match="vertex_output_gcs_uri"):
        omni().build(req(size=size), "job")


# --- the four verbs against the fake ----------------------------------------------------------------


async def test_an_inline_take_is_written_to_staging(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path)
    job_id, status = await make(v, req(), tmp_path)
    assert status.state is JobState.SUCCEEDED and job_id in fake.interactions
    (media,) = status.media
    assert media.inline_path is not None and probe(media.inline_path).has_audio
    (create,) = fake.calls_to("POST", f"{PARENT}/interactions")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_cloud_storage_take_is_downloaded_through_the_json_api_with_the_token(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path, output_gcs_uri=BUCKET)
    job_id, status = await make(v, req(size="1920x1080"), tmp_path)
    (media,) = status.media
    assert media.provider_id == f"{BUCKET}/{job_id}/sample_0.mp4"
    assert media.url.startswith(f"{fake.url}/storage/v1/b/promptreel-takes/o/omni%2F")
    url, headers = v.media_request(media)
    assert headers == {} and signed(v, url)["Authorization"] == f"Bearer {TOKEN}"
    dest = tmp_path / "take.mp4"
    assert await download(client, v, media, dest) == 1
    info = probe(dest)
    assert info.rate == 24 and info.has_audio and info.width > info.height


async def test_a_take_is_refined_and_extended_by_its_interaction(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path)
    first, _ = await make(v, req(), tmp_path)
    refined = await make(v, req(prompt="the same fox, at night", remix_of=first), tmp_path)
    extended = await make(v, req(prompt="the fox runs off", extend_video=first, seconds=4), tmp_path)
    assert refined[1].state is extended[1].state is JobState.SUCCEEDED
    creates = [c.json() for c in fake.calls_to("POST", f"{PARENT}/interactions")]
    assert [c.get("previous_interaction_id") for c in creates] == [None, first, first]
    assert [c["generation_config"]["video_config"]["task"] for c in creates] == ["text_to_video", "edit", "extend"]


async def test_a_local_clip_is_extended_inline(fake, client, tmp_path):
    clip = tmp_path / "plate.mp4"
    clip.write_bytes(tiny_mp4())
    v = on_fake(client, fake, tmp_path)
    _, status = await make(v, req(extend_video=str(clip), seconds=4), tmp_path)
    assert status.state is JobState.SUCCEEDED
    sent = fake.calls_to("POST", f"{PARENT}/interactions")[-1].json()
    assert [c["type"] for c in sent["input"]] == ["text", "video"] and "previous_interaction_id" not in sent


async def test_another_project_is_refused_as_auth(fake, client, tmp_path):
    v = VertexOmni(
        client,
        Route(protocol="vertex", model_id=MODEL),
        {"access_token": TOKEN},
        base_url=fake.url,
        project="someone-elses",
        location="us-central1",
        staging_dir=tmp_path,
    )
    with pytest.raises(ProviderError) as e:
        await v.submit(v.build(req(), "job"), tmp_path)
    assert e.value.kind is ErrorKind.AUTH and fake.creates == 0


async def test_a_moderated_take_fails_as_moderation_and_cancel_is_accepted(fake, client, tmp_path):
    v = on_fake(client, fake, tmp_path)
    fake.fault("outcome", "moderation")
    _, status = await make(v, req(), tmp_path)
    assert status.state is JobState.FAILED and status.error.kind is ErrorKind.MODERATION
    job_id = (await v.submit(v.build(req(), "job"), tmp_path)).job_id
    await v.cancel(job_id)
    assert fake.interactions[job_id].status == "cancelled"


def test_the_fake_refuses_what_vertex_refuses(fake):
    body = {
        "model": MODEL,
        "input": "a fox",
        "background": True,
        "store": True,
        "response_format": {"type": "video", "delivery": "uri"},
    }
    r = httpx.post(f"{fake.url}{PARENT}/interactions", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and "gcs_uri is required" in r.text
    r = httpx.post(
        f"{fake.url}{PARENT}/interactions",
        json={**body, "model": "gemini-omni-1.1-flash"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 404  # 1.1 is `gemini-omni-1.1-flash-preview` on Vertex
    assert fake.creates == 0


# --- the engine, journal and conform -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["vertex"], limit=SMALL) as env:
        yield env


def test_the_engine_makes_refines_and_extends_an_omni_take_on_vertex(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["vertex"]
    (first,), (first_job,) = run(isolated_home, req())
    assert first.ok, first.error
    assert first_job.route_key == "vertex:gemini-omni-1.2-flash" and first_job.provider_job_id in fake.interactions
    (refined,), _ = run(isolated_home, req(prompt="the same fox, at night", remix_of=first.job_id))
    (extended,), _ = run(isolated_home, req(prompt="the fox runs off", extend_video=first.job_id, seconds=4))
    assert refined.ok and extended.ok, (refined.error, extended.error)
    creates = [c.json() for c in fake.calls_to("POST", r"/v1beta1/projects/[^/]+/locations/[^/]+/interactions")]
    assert [c.get("previous_interaction_id") for c in creates] == [None] + [first_job.provider_job_id] * 2


def test_fill_conforms_vertex_omni_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fill_exact(isolated_home, two_slots("gemini-omni-1.2-flash", "gemini-omni-1.1-flash"))
    sent = [c.json() for c in fakes.fakes["vertex"].calls_to("POST", r"/v1beta1/.*/interactions")]
    assert sorted(c["model"] for c in sent) == ["gemini-omni-1.1-flash-preview", "gemini-omni-1.2-flash"]


# --- Google's own SDK in Vertex mode -------------------------------------------------------------------

genai = pytest.importorskip("google.genai")  # in the `test` extra


def test_google_genai_in_vertex_mode_makes_an_omni_video_on_the_fake(fake):
    from google.genai import types
    from google.oauth2.credentials import Credentials

    client = genai.Client(
        vertexai=True,
        project=PROJECT,
        location="us-central1",
        credentials=Credentials(token=TOKEN),
        http_options=types.HttpOptions(base_url=fake.url + "/"),
    )
    made = client.interactions.create(
        model=MODEL,
        input="a lighthouse at dusk",
        background=True,
        store=True,
        response_format={
            "type": "video",
            "aspect_ratio": "16:9",
            "resolution": "720p",
            "duration": "4s",
            "delivery": "uri",
            "gcs_uri": BUCKET,
        },
        generation_config={"video_config": {"task": "text_to_video"}},
    )
    for _ in range(10):
        if made.status == "completed":
            break
        made = client.interactions.get(made.id)
    video = made.output_video  # the SDK's own reading of the steps
    assert video.mime_type == "video/mp4" and video.uri == f"{BUCKET}/{made.id}/sample_0.mp4"
    refined = client.interactions.create(
        model=MODEL,
        input="the same lighthouse in fog",
        background=True,
        store=True,
        previous_interaction_id=made.id,
        response_format={"type": "video", "delivery": "inline"},
        generation_config={"video_config": {"task": "edit"}},
    )
    for _ in range(10):
        if refined.status == "completed":
            break
        refined = client.interactions.get(refined.id)
    with av.open(io.BytesIO(base64.b64decode(refined.output_video.data))) as container:
        assert container.streams.video[0].average_rate == 24 and container.streams.audio
    assert {c.path.split("/")[1] for c in fake.calls_to("POST", r".*/interactions")} == {"v1beta1"}
    assert fake.creates == 2
