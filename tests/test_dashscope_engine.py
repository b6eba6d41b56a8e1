"""Wan 2.7 on Alibaba's DashScope through the real engine and journal against the dashscope sandbox fake:
text to video, a first frame sent to the image-to-video model, a refusal for content without a retry,
and 30 fps takes conformed frame-exact into 23.976 and 25 fps slots."""

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots

CREATE = r"/api/v1/services/aigc/video-generation/video-synthesis"


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["dashscope"], limit=SMALL) as env:
        yield env


@pytest.fixture
def fake(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    return fakes.fakes["dashscope"]


def wan(**kw):
    return GenerationRequest(
        **{"prompt": "a paper boat on a canal", "model": "wan-2.7", "seconds": 5, "size": "1920x1080", **kw}
    )


def sent(fake) -> list[dict]:
    return [c.json() for c in fake.calls_to("POST", CREATE)]


def test_text_to_video_then_a_first_and_last_frame(fake, isolated_home, tmp_path):
    (t2v,), (job,) = run(isolated_home, wan(seed=11, negative_prompt="people"))
    assert t2v.ok, t2v.error
    assert job.provider_job_id in fake.jobs and job.route_key == "dashscope:wan2.7-t2v"
    info = probe(t2v.path)
    assert info.rate == 30 and info.has_audio
    first, last = still(tmp_path, 720, 1280, "first"), still(tmp_path, 720, 1280, "last")
    (i2v,), _ = run(isolated_home, wan(size="720x1280", first_frame=first, last_frame=last, seconds=12, audio=False))
    assert i2v.ok, i2v.error
    assert not probe(i2v.path).has_audio
    a, b = sent(fake)
    assert a["model"] == "wan2.7-t2v" and a["input"]["negative_prompt"] == "people"
    assert a["parameters"] == {
        "resolution": "1080P",
        "duration": 5,
        "prompt_extend": False,
        "ratio": "16:9",
        "seed": 11,
    }
    assert b["model"] == "wan2.7-i2v" and [m["type"] for m in b["input"]["media"]] == ["first_frame", "last_frame"]
    assert b["parameters"] == {"resolution": "720P", "duration": 12, "prompt_extend": False, "audio": False}
    assert all(c.headers.get("x-dashscope-async") == "enable" for c in fake.calls_to("POST", CREATE))
    assert fake.creates == 2


def test_an_inspection_refusal_fails_as_moderation_without_a_retry(fake, isolated_home):
    fake.fault("outcome", "inspection")
    (result,), _ = run(isolated_home, wan())
    assert result.error_kind == "moderation" and "DataInspectionFailed" in result.error and fake.creates == 1


def test_fill_conforms_wan_takes_frame_exact_into_their_slots(fake, isolated_home):
    fill_exact(isolated_home, two_slots("wan-2.7", "wan-2.7"))
    assert sorted(body["parameters"]["ratio"] for body in sent(fake)) == ["16:9", "9:16"]
