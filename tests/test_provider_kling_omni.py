"""Kling 3: the API key as the bearer (the access / secret JWT kept as the legacy scheme), kling-v3-omni on
omni-video (frames and references in image_list, an earlier take edited through video_list) and
kling-3.0-turbo (sound always on), exact bodies and round trips against the strict fake and the engine."""

import base64

import pytest

from promptreel.core.errors import MissingKey, UnsupportedRequest
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.kling import Kling
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, FakeKling, png_file, sandbox
from promptreel.core.sandbox.drive import poll_to_end, protocol
from promptreel.core.sandbox.kling import ACCESS, API_KEY, SECRET
from tests.sandbox_engine import point_at, run

KEY = {"KLING_API_KEY": API_KEY}
LEGACY = {"KLING_ACCESS_KEY": ACCESS, "KLING_SECRET_KEY": SECRET}


@pytest.fixture(scope="module")
def server():
    with FakeKling() as f:
        yield f


def kling(client, base="https://x", model="kling-v3-omni", creds=KEY):
    return protocol(Kling, model, client, creds, base)


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a paper boat on a canal", "model": "kling-v3-omni", "seconds": 5, "size": "1280x720", **kw}
    )


def b64(path):
    return base64.b64encode(path.read_bytes()).decode()


# --- auth -----------------------------------------------------------------------------------------------------


async def test_the_api_key_is_the_bearer(fake, client, tmp_path):
    proto = kling(client, fake.url, model="kling-v3")
    sub = await proto.submit(proto.build(req(model="kling-v3"), "job-1"), tmp_path / "s")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED
    (create,) = fake.calls_to("POST", r"/v1/videos/text2video")
    assert create.headers["authorization"] == f"Bearer {API_KEY}"


async def test_the_legacy_jwt_still_works(fake, client, tmp_path):
    proto = kling(client, fake.url, model="kling-v3", creds=LEGACY)
    sub = await proto.submit(proto.build(req(model="kling-v3"), "job-1"), tmp_path / "s")
    assert sub.job_id and fake.calls_to("POST", r"/v1/videos/text2video")[0].headers["authorization"].count(".") == 2


async def test_a_wrong_api_key_is_auth_and_never_shown(fake, client, tmp_path):
    wrong = "kling-wrong-key-0123456789abcdef"
    proto = kling(client, fake.url, creds={"KLING_API_KEY": wrong})
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH and wrong not in str(e.value)


def test_credentials_come_from_the_key_or_the_legacy_pair(client, monkeypatch):
    for name in ("KLING_API_KEY", *LEGACY):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("promptreel.core.keys._keyring_get", lambda name: None)
    with pytest.raises(MissingKey, match="KLING_API_KEY"):
        Kling.check_ready()
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    with pytest.raises(MissingKey):  # half a pair is no credential
        Kling.check_ready()
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)
    Kling.check_ready()
    assert kling(client, creds={}).credentials == LEGACY
    monkeypatch.setenv("KLING_API_KEY", API_KEY)
    proto = kling(client, creds={})
    assert proto.credentials == KEY and proto.auth.headers() == {"Authorization": f"Bearer {API_KEY}"}


# --- omni-video -------------------------------------------------------------------------------------------------


def test_build_omni_text_exact(client):
    call = kling(client).build(req(audio=True, negative_prompt="blur"), "job-2")
    assert (call.method, call.path) == ("POST", "/v1/videos/omni-video")
    assert call.json == {
        "model_name": "kling-v3-omni",
        "prompt": "a paper boat on a canal",
        "negative_prompt": "blur",
        "duration": "5",
        "mode": "std",
        "aspect_ratio": "16:9",
        "sound": "on",
        "external_task_id": "job-2",
    }


def test_build_omni_frames_and_references_exact(client, tmp_path):
    first, last, ref = png_file("a.png"), png_file("b.png", "180x320"), png_file("c.png", "200x200")
    call = kling(client).build(req(size="1920x1080", first_frame=first, last_frame=last, reference_images=(ref,)), "j")
    assert call.json["image_list"] == [
        {"image_url": b64(first), "type": "first_frame"},
        {"image_url": b64(last), "type": "end_frame"},
        {"image_url": b64(ref)},
    ]
    assert call.json["mode"] == "pro" and "aspect_ratio" not in call.json  # the first frame sets the framing


def test_build_omni_edit_of_a_url_exact(client):
    call = kling(client).build(req(remix_of="https://cdn.example/clip.mp4", audio=False), "job-3")
    assert call.json == {
        "model_name": "kling-v3-omni",
        "prompt": "a paper boat on a canal",
        "mode": "std",
        "external_task_id": "job-3",
        "video_list": [
            {"video_url": "https://cdn.example/clip.mp4", "refer_type": "base", "keep_original_sound": "yes"}
        ],
    }


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"remix_of": "/tmp/clip.mp4"}, "from a URL"),
        ({"remix_of": "https://cdn.example/c.mp4", "audio": True}, "no new sound"),
        ({"remix_of": "https://cdn.example/c.mp4", "first_frame": png_file()}, "without first or last frames"),
    ],
)
def test_omni_edit_refusals(client, kw, words):
    with pytest.raises(UnsupportedRequest, match=words):
        kling(client).build(req(**kw), "j")


async def test_omni_round_trip_with_references(fake, client, tmp_path):
    proto = kling(client, fake.url)
    sub = await proto.submit(proto.build(req(reference_images=(png_file(),)), "job-4"), tmp_path / "s")
    assert sub.job_id.startswith("omni-video/")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].url


@pytest.mark.parametrize(
    "body",
    [
        {"model_name": "kling-v3", "prompt": "x", "aspect_ratio": "16:9"},  # not an omni model
        {"model_name": "kling-v3-omni", "prompt": "x"},  # no aspect ratio, frame or clip
        {
            "model_name": "kling-v3-omni",
            "prompt": "x",
            "sound": "on",
            "video_list": [{"video_url": "https://a/b.mp4", "refer_type": "base"}],
        },  # sound with a clip
        {"model_name": "kling-v3-omni", "prompt": "x", "video_list": [{"video_url": "/local.mp4"}]},  # not a URL
        {
            "model_name": "kling-v3-omni",
            "prompt": "x",
            "aspect_ratio": "16:9",
            "image_list": [{"image_url": "data:image/png;base64,AAAA"}],
        },  # a data: prefix
    ],
)
async def test_fake_refuses_malformed_omni_bodies(fake, client, body):
    r = await client.post(f"{fake.url}/v1/videos/omni-video", headers={"Authorization": f"Bearer {API_KEY}"}, json=body)
    assert r.json()["code"] == 1201, r.json()


# --- turbo ----------------------------------------------------------------------------------------------------


async def test_turbo_sends_no_sound_field_and_makes_sound(fake, client, tmp_path):
    proto = kling(client, fake.url, model="kling-3.0-turbo")
    call = proto.build(req(model="kling-3.0-turbo", audio=True), "job-5")
    assert call.path == "/v1/videos/text2video" and "sound" not in call.json
    sub = await proto.submit(call, tmp_path / "s")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED
    assert fake.jobs[sub.job_id.split("/")[1]].spec.audio


# --- through the engine: a take, then an edit of it -----------------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["kling"], limit=SMALL) as env:
        yield env


def test_an_earlier_take_is_edited_by_its_video_url(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["kling"]
    (first,), (first_job,) = run(isolated_home, req())
    assert first.ok, first.error
    (edit,), _ = run(isolated_home, req(prompt="make it night", remix_of=first.job_id, audio=False))
    assert edit.ok, edit.error
    bodies = [c.json() for c in fake.calls_to("POST", r"/v1/videos/omni-video")]
    assert bodies[1]["video_list"] == [
        {"video_url": first_job.media_refs[0].url, "refer_type": "base", "keep_original_sound": "yes"}
    ]
    assert fake.creates == 2
