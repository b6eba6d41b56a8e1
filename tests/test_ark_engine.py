"""Seedance on BytePlus ModelArk through the real engine and journal against the ark (and runway) sandbox
fakes: text to video, first / last frames and reference images, the second route taken when Runway
refuses the key, a refusal for content without a retry, and a fill conformed frame-exact."""

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots

CREATE = r"/api/v3/contents/generations/tasks"


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["ark", "runway"], limit=SMALL) as env:
        yield env


@pytest.fixture
def ark_only(fakes, isolated_home, monkeypatch):
    """BytePlus's key only: Seedance's first route (Runway) has no key here, so the engine takes ark."""
    point_at(fakes, monkeypatch, isolated_home)
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    return fakes.fakes["ark"]


def seedance(**kw):
    return GenerationRequest(
        **{"prompt": "a fox in snow", "model": "seedance-2", "seconds": 6, "size": "1280x720", **kw}
    )


def sent(fake) -> list[dict]:
    return [c.json() for c in fake.calls_to("POST", CREATE)]


def test_text_to_video_then_keyframes_then_references(ark_only, isolated_home, tmp_path):
    (t2v,), (job,) = run(isolated_home, seedance(audio=True))
    assert t2v.ok, t2v.error
    assert job.provider_job_id in ark_only.jobs and job.route_key == "ark:dreamina-seedance-2-0-260128"
    info = probe(t2v.path)
    assert info.rate == 24 and info.has_audio
    first, last = still(tmp_path, 720, 1280, "first"), still(tmp_path, 720, 1280, "last")
    (keyed,), _ = run(isolated_home, seedance(size="720x1280", first_frame=first, last_frame=last))
    assert keyed.ok, keyed.error
    refs = (still(tmp_path, 512, 512, "a"), still(tmp_path, 512, 512, "b"))
    (r2v,), _ = run(isolated_home, seedance(size="1920x1080", reference_images=refs, seconds=15, audio=False))
    assert r2v.ok, r2v.error
    assert not probe(r2v.path).has_audio
    a, b, c = sent(ark_only)
    assert (a["ratio"], a["resolution"], a["duration"], a["generate_audio"]) == ("16:9", "720p", 6, True)
    assert [i.get("role") for i in b["content"]] == [None, "first_frame", "last_frame"] and b["ratio"] == "adaptive"
    assert [i.get("role") for i in c["content"]] == [None, "reference_image", "reference_image"]
    assert (c["ratio"], c["resolution"], c["duration"], c["generate_audio"]) == ("16:9", "1080p", 15, False)
    assert ark_only.creates == 3


def test_runway_first_and_ark_when_runway_refuses_the_key(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    (made,), (job,) = run(isolated_home, seedance())
    assert made.ok and job.route_key == "runway:seedance2" and fakes.fakes["ark"].creates == 0
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_wrong-runway-secret-0000000000")
    (made,), (job,) = run(isolated_home, seedance(seconds=5))
    assert made.ok, made.error
    assert job.route_key == "ark:dreamina-seedance-2-0-260128" and job.model == "seedance-2"
    assert fakes.fakes["ark"].creates == 1 and fakes.fakes["runway"].creates == 1


def test_a_sensitive_take_fails_as_moderation_without_a_retry(ark_only, isolated_home):
    ark_only.fault("outcome", "sensitive")
    (result,), _ = run(isolated_home, seedance())
    assert result.error_kind == "moderation" and "SensitiveContentDetected" in result.error and ark_only.creates == 1


def test_fill_conforms_seedance_takes_frame_exact_into_their_slots(ark_only, isolated_home):
    fill_exact(isolated_home, two_slots("seedance-2", "seedance-2-fast"))
    # The two creates go out at once, in either order: each model with its own slot's shape.
    assert sorted((body["model"], body["ratio"]) for body in sent(ark_only)) == [
        ("dreamina-seedance-2-0-260128", "16:9"),
        ("dreamina-seedance-2-0-fast-260128", "9:16"),
    ]
