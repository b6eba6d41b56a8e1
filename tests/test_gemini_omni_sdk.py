"""Google's own SDK (google-genai, `client.interactions` and `client.files`) drives the gemini fake's Omni
side: the fake answers what the official client sends and parses, so it is faithful where it counts.

google-genai 3.x addresses the Gemini API's v1 by default (promptreel sends v1beta, as Google's curl
examples do); the fake serves both, as the service does."""

from __future__ import annotations

import io

import av
import pytest

from promptreel.core.sandbox import FakeGemini

genai = pytest.importorskip("google.genai")  # in the `test` extra; skipped only where it is missing

KEY = "AIzaFakeGeminiKey0123456789"
MODEL = "gemini-omni-1.2-flash"


@pytest.fixture(scope="module")
def fake():
    with FakeGemini(key=KEY) as server:
        yield server


@pytest.fixture
def client(fake):
    fake.reset()
    return genai.Client(api_key=KEY, http_options={"base_url": fake.url})


def finished(client, interaction, limit=10):
    for _ in range(limit):
        if interaction.status == "completed":
            return interaction
        interaction = client.interactions.get(interaction.id)
    raise AssertionError(f"interaction still {interaction.status}")


def test_sdk_makes_a_video_waits_for_its_file_and_downloads_it(client, fake):
    made = client.interactions.create(
        model=MODEL,
        input="a lighthouse at dusk",
        background=True,
        store=True,
        response_format={
            "type": "video",
            "aspect_ratio": "9:16",
            "resolution": "720p",
            "duration": "4s",
            "delivery": "uri",
        },
        generation_config={"video_config": {"task": "text_to_video"}},
    )
    assert made.status == "in_progress"
    done = finished(client, made)
    video = done.output_video  # the SDK's own reading of steps[].model_output
    assert video.mime_type == "video/mp4" and "/files/" in video.uri
    assert done.usage.total_output_tokens == 5792 * 4
    name = "files/" + video.uri.rsplit("/", 1)[1]
    states = [str(client.files.get(name=name).state) for _ in range(2)]
    assert states == ["FileState.PROCESSING", "FileState.ACTIVE"]
    data = client.files.download(file=client.files.get(name=name))
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (180, 320)
        assert stream.average_rate == 24 and container.streams.audio
    assert fake.creates == 1


def test_sdk_refines_by_previous_interaction_id(client, fake):
    first = finished(
        client,
        client.interactions.create(
            model=MODEL,
            input="a fox in snow",
            background=True,
            response_format={"type": "video", "duration": "3s", "delivery": "uri"},
        ),
    )
    refined = client.interactions.create(
        model=MODEL,
        input="the same fox, at night",
        background=True,
        previous_interaction_id=first.id,
        response_format={"type": "video", "delivery": "uri"},
        generation_config={"video_config": {"task": "edit"}},
    )
    assert refined.previous_interaction_id == first.id
    assert fake.interactions[refined.id].spec.seconds == 3  # a refinement keeps its source's length
    assert finished(client, refined).output_video.uri


def test_sdk_parses_the_fakes_errors(client):
    # The interactions client raises its own errors (not google.genai.errors): a 404 whose body does not
    # fit the Interactions error schema would surface as a parse error instead.
    from google.genai._interactions_errors import APIStatusError as genai_errors

    with pytest.raises(genai_errors) as e:
        client.interactions.create(
            model="gemini-omni-0.9-flash", input="x", background=True, response_format={"type": "video"}
        )
    assert e.value.status_code == 404 and "is not found" in e.value.message
    with pytest.raises(genai_errors) as e:
        client.interactions.create(
            model=MODEL,
            input="x",
            background=True,
            previous_interaction_id="v1_gone",
            response_format={"type": "video"},
        )
    assert e.value.status_code == 404 and "v1_gone not found" in e.value.message
