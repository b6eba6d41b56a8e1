"""The sandbox fakes driven by the vendors' own Python SDKs (pinned in the `test` extra): each route's
documented happy path and its image-input path, so a fake can no longer drift from the real protocol
unseen. The SDKs are pointed at the loopback fakes by their base-URL settings; polls read the status
the SDK's own way, without the SDKs' sleeping poll helpers (the fakes advance a job per read).
Kling and LTX publish no Python SDK; the Gemini API's Veo route has none that speaks it (below)."""

from __future__ import annotations

import base64
import contextlib
from datetime import date
from fractions import Fraction

import fal_client
import httpx
import openai
import pytest
import replicate
import runwayml
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from promptreel.core.sandbox import (
    FakeFal,
    FakeOpenAIVideos,
    FakeReplicate,
    FakeRunway,
    FakeVertexVeo,
    Spec,
    png,
    render,
)
from promptreel.core.sandbox.media import png_file

READS = 10  # status reads before a test gives up (the fakes finish in 2 or 3)


def mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


def fetched(url: str, **headers) -> bytes:
    return httpx.get(url, headers=headers, follow_redirects=True).content


# --- OpenAI: openai-python ------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Sora API shut down on 2026-09-24
@pytest.mark.parametrize("with_image", [False, True])
def test_openai_sdk_makes_a_sora_video_on_the_fake(with_image):
    with FakeOpenAIVideos() as fake:
        fake.today = date(2026, 9, 1)  # the Sora API as it answered before its shutdown
        client = openai.OpenAI(api_key=fake.key, base_url=fake.base_url, max_retries=0)
        extra = {"input_reference": ("first.png", png(1280, 720), "image/png")} if with_image else {}
        video = client.videos.create(
            model="sora-2", prompt="a lighthouse at dusk", seconds="4", size="1280x720", **extra
        )
        for _ in range(READS):
            if video.status in ("completed", "failed"):
                break
            video = client.videos.retrieve(video.id)
        assert video.status == "completed" and video.model == "sora-2"
        assert mp4(client.videos.download_content(video.id).read())
        assert fake.creates == 1


# --- Google Vertex AI: google-genai ---------------------------------------------------------------


@pytest.mark.parametrize(
    "model, with_image",
    [
        ("veo-3.1-generate-001", False),
        ("veo-3.1-generate-001", True),
        ("veo-3.1-fast-generate-001", True),
        ("veo-3.1-lite-generate-001", False),
        ("veo-3.1-lite-generate-001", True),
    ],
)
def test_google_genai_makes_a_veo_video_on_the_vertex_fake(model, with_image):
    """Veo 3.1, Fast and the Lite preview (google-genai's own Vertex test model) by their Vertex ids."""

    with FakeVertexVeo() as fake:
        # The SDK speaks /v1beta1 by default, which the service accepts; the fake serves it beside /v1.
        client = genai.Client(
            vertexai=True,
            project=fake.project,
            location="us-central1",
            credentials=Credentials(token=fake.token),
            http_options=types.HttpOptions(base_url=fake.url + "/"),
        )
        image = types.Image(image_bytes=png(1280, 720), mime_type="image/png") if with_image else None
        op = client.models.generate_videos(
            model=model,
            source=types.GenerateVideosSource(prompt="a lighthouse at dusk", image=image),
            config=types.GenerateVideosConfig(
                duration_seconds=8, aspect_ratio="16:9", resolution="720p", generate_audio=True, number_of_videos=1
            ),
        )
        for _ in range(READS):
            if op.done:
                break
            op = client.operations.get(op)
        assert op.done and op.error is None
        (made,) = op.response.generated_videos
        assert mp4(made.video.video_bytes)
        assert {c.path.split("/")[1] for c in fake.api.calls} == {"v1beta1"} and fake.creates == 1


def test_google_genai_3_no_longer_speaks_veo_on_the_gemini_api():
    """Why the Gemini route has no SDK test: google-genai 3.x refuses generate_videos on the Gemini API
    (Veo's predictLongRunning there ended with Veo 2 / 3 on 2026-06-30); the catalog retires the route."""
    client = genai.Client(
        api_key="AIzaFakeGeminiKey0123456789", http_options=types.HttpOptions(base_url="http://127.0.0.1:9/")
    )
    with pytest.raises(ValueError, match="only supported"):
        client.models.generate_videos(
            model="veo-3.1-generate-preview", source=types.GenerateVideosSource(prompt="a lighthouse")
        )


# --- Runway: runwayml ------------------------------------------------------------------------------


def _runway_task(client, case: str):
    image = "data:image/png;base64," + base64.b64encode(png(1280, 720)).decode()
    clip = "data:video/mp4;base64," + base64.b64encode(render(Spec(640, 360, Fraction(24), Fraction(1)))).decode()
    if case == "veo3.1 from text":
        return client.text_to_video.create(
            model="veo3.1",
            prompt_text="a lighthouse at dusk",
            ratio="1280:720",
            duration=8,
            audio=False,
            negative_prompt="text",
        )
    if case == "gen4_turbo from an image":
        return client.image_to_video.create(
            model="gen4_turbo", prompt_image=image, prompt_text="a lighthouse", ratio="1280:720", duration=5
        )
    if case == "seedance2 from first and last frames":
        return client.image_to_video.create(
            model="seedance2",
            prompt_image=[{"uri": image, "position": "first"}, {"uri": image, "position": "last"}],
            prompt_text="a lighthouse",
            ratio="1920:1080",
            duration=6,
            audio=True,
            seed=3,
        )
    if case == "aleph2 editing a clip":
        return client.video_to_video.create(model="aleph2", video_uri=clip, prompt_text="make it snow", seed=3)
    if case == "aleph2 editing an uploaded clip":  # the SDK's two-step upload, then the clip by its runway:// URI
        upload = client.uploads.create_ephemeral(
            file=("plate.mp4", base64.b64decode(clip.split(",", 1)[1]), "video/mp4")
        )
        return client.video_to_video.create(model="aleph2", video_uri=upload.uri, prompt_text="make it snow")
    return client.video_to_video.create(
        model="seedance2_5",
        prompt_video=clip,
        mode="extend",  # extending a clip
        prompt_text="the tide comes in",
        duration=5,
        audio=False,
    )


@pytest.mark.parametrize(
    "case",
    [
        "veo3.1 from text",
        "gen4_turbo from an image",
        "seedance2 from first and last frames",
        "aleph2 editing a clip",
        "aleph2 editing an uploaded clip",
        "seedance2_5 extending a clip",
    ],
)
def test_runwayml_sdk_makes_a_video_on_the_fake(case):
    with FakeRunway() as fake:
        client = runwayml.RunwayML(api_key=fake.key, base_url=fake.url, max_retries=0)
        task = _runway_task(client, case)
        for _ in range(READS):
            task = client.tasks.retrieve(task.id)
            if task.status in ("SUCCEEDED", "FAILED"):
                break
        assert task.status == "SUCCEEDED"
        assert mp4(fetched(task.output[0])) and fake.creates == 1


def test_runwayml_sdk_reads_what_a_task_charged():
    with FakeRunway() as fake:
        fake.credits_per_second["veo3.1"] = 40
        client = runwayml.RunwayML(api_key=fake.key, base_url=fake.url, max_retries=0)
        task = _runway_task(client, "veo3.1 from text")
        for _ in range(READS):
            task = client.tasks.retrieve(task.id)
            if task.status == "SUCCEEDED":
                break
        assert task.cost.credits == 320  # 8 s at 40 credits a second, in the SDK's own type


# --- Replicate: replicate-python ---------------------------------------------------------------------


@pytest.mark.parametrize("with_image", [False, True])
def test_replicate_sdk_makes_a_prediction_on_the_fake(with_image, tmp_path):
    with FakeReplicate() as fake:
        client = replicate.Client(api_token=fake.key, base_url=fake.url)
        inputs = {"prompt": "a fox in snow", "duration": 8, "aspect_ratio": "16:9", "resolution": "720p"}
        with contextlib.ExitStack() as opened:
            if with_image:  # the SDK uploads a file input through the Files API and sends its URL
                inputs["image"] = opened.enter_context(open(png_file("first.png", "1280x720"), "rb"))
            prediction = client.predictions.create(model="google/veo-3.1", input=inputs)
        for _ in range(READS):
            if prediction.status in ("succeeded", "failed", "canceled"):
                break
            prediction.reload()
        assert prediction.status == "succeeded", prediction.error
        output = prediction.output if isinstance(prediction.output, str) else prediction.output[0]
        assert mp4(fetched(str(output)))
        if with_image:
            (uploaded,) = fake.files.values()
            assert client.files.get(uploaded["id"]).etag == uploaded["etag"]
        assert fake.creates == 1


# --- fal: fal-client -----------------------------------------------------------------------------------


@pytest.mark.parametrize("with_image", [False, True])
def test_fal_client_makes_a_video_on_the_fake(with_image, monkeypatch):
    with FakeFal() as fake:
        # fal-client addresses queue.fal.run over HTTPS only; its queue base is pointed at the fake.
        monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", fake.url + "/")
        client = fal_client.SyncClient(key=fake.key)
        args = {"prompt": "a tram in the rain", "duration": "8s", "aspect_ratio": "16:9", "resolution": "720p"}
        app = "fal-ai/veo3.1"
        if with_image:
            app += "/image-to-video"
            args["image_url"] = fal_client.encode(png(1280, 720), "image/png")
        handle = client.submit(app, arguments=args)
        for _ in range(READS):
            status = handle.status(with_logs=True)
            if isinstance(status, fal_client.Completed):
                break
            if isinstance(status, fal_client.InProgress):
                assert isinstance(status.logs, list)  # asked with logs: a list, as fal sends it
        assert isinstance(status, fal_client.Completed)
        result = handle.get()
        assert mp4(fetched(result["video"]["url"])) and fake.creates == 1
