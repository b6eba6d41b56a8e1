"""Luma Ray 3.2 through the real engine and journal against the luma sandbox fake: text-to-video, first and
last frames, then an earlier take edited and extended by its job id in later engine runs (a fresh engine and
journal each, as after a restart), and a fill conformed frame-exact into its slots."""

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["luma"], limit=SMALL) as env:
        yield env


def ray(**kw):
    return GenerationRequest(**{"prompt": "a fox in snow", "model": "ray-3.2", "seconds": 5, "size": "1280x720", **kw})


def sent(fake) -> list[dict]:
    return [c.json() for c in fake.calls_to("POST", r"/v1/generations")]


def test_a_take_is_made_then_edited_and_extended_by_its_job_id(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["luma"]
    (first,), (first_job,) = run(isolated_home, ray())
    assert first.ok, first.error
    assert first_job.provider_job_id in fake.jobs and first_job.route_key == "luma:ray-3.2"
    info = probe(first.path)
    assert info.rate == 24 and (info.width, info.height) == (320, 180)

    (edited,), _ = run(isolated_home, ray(prompt="the same fox, at night", remix_of=first.job_id))
    assert edited.ok, edited.error
    (extended,), _ = run(isolated_home, ray(prompt="the fox runs off", extend_video=first.job_id))
    assert extended.ok, extended.error
    made, edit, ext = sent(fake)
    assert (made["type"], edit["type"], ext["type"]) == ("video", "video_edit", "video")
    assert edit["source"] == ext["video"]["start_frame"] == {"generation_id": first_job.provider_job_id}
    assert fake.creates == 3


def test_first_and_last_frames_ride_on_keyframes(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    first, last = still(tmp_path, 720, 1280, "first"), still(tmp_path, 720, 1280, "last")
    (result,), _ = run(isolated_home, ray(size="720x1280", seconds=10, first_frame=first, last_frame=last))
    assert result.ok, result.error
    (body,) = sent(fakes.fakes["luma"])
    assert body["video"]["keyframe_indexes"] == [0, 240] and body["aspect_ratio"] == "9:16"


def test_fill_conforms_ray_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fill_exact(isolated_home, two_slots("ray-3.2", "ray-3.2"))
    assert sorted(body["aspect_ratio"] for body in sent(fakes.fakes["luma"])) == ["16:9", "9:16"]
