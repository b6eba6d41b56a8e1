"""MiniMax H3 through the real engine and journal against the minimax sandbox fake: text-to-video,
first / last frames and reference images, a refusal before any create, and a fill conformed frame-exact."""

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["minimax"], limit=SMALL) as env:
        yield env


def h3(**kw):
    return GenerationRequest(
        **{"prompt": "a fox in snow", "model": "minimax-h3", "seconds": 6, "size": "1366x768", **kw}
    )


def sent(fake) -> list[dict]:
    return [c.json() for c in fake.calls_to("POST", r"/v2/video_generation")]


def test_text_to_video_then_keyframes_then_references(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["minimax"]
    (t2v,), (job,) = run(isolated_home, h3(seed=11))
    assert t2v.ok, t2v.error
    assert job.provider_job_id in fake.jobs and job.route_key == "minimax:MiniMax-H3"
    info = probe(t2v.path)
    assert info.rate == 24 and info.has_audio
    first, last = still(tmp_path, 768, 1366, "first"), still(tmp_path, 768, 1366, "last")
    (keyed,), _ = run(isolated_home, h3(size="768x1366", first_frame=first, last_frame=last))
    assert keyed.ok, keyed.error
    refs = (still(tmp_path, 512, 512, "a"), still(tmp_path, 512, 512, "b"))
    (r2v,), _ = run(isolated_home, h3(size="1440x2560", reference_images=refs, seconds=15))
    assert r2v.ok, r2v.error
    a, b, c = sent(fake)
    assert (a["ratio"], a["resolution"], a["seed"]) == ("16:9", "768P", 11)
    assert [i.get("role") for i in b["content"]] == [None, "first_frame", "last_frame"] and "ratio" not in b
    assert [i.get("role") for i in c["content"]] == [None, "reference_image", "reference_image"]
    assert (c["ratio"], c["resolution"], c["duration"]) == ("9:16", "2K", 15)
    assert fake.creates == 3


def test_an_extend_is_refused_before_any_create(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    (made,), _ = run(isolated_home, h3())
    with pytest.raises(UnsupportedRequest, match="extend"):  # the planner refuses: the catalog offers no extend
        run(isolated_home, h3(extend_video=made.job_id))
    assert fakes.fakes["minimax"].creates == 1


def test_fill_conforms_h3_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fill_exact(isolated_home, two_slots("minimax-h3", "minimax-h3"))
    assert sorted(body["ratio"] for body in sent(fakes.fakes["minimax"])) == ["16:9", "9:16"]
