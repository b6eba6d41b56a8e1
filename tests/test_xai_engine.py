"""Grok Imagine through the real engine and journal against the xai sandbox fake: text-to-video, a first
frame and reference images, then an earlier take edited and extended by its job id in later engine runs (a
fresh engine and journal each, as after a restart), and a fill conformed frame-exact into its slots."""

import base64
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.journal import Journal
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run, two_slots


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["xai"], limit=SMALL) as env:
        yield env


def grok(**kw):
    return GenerationRequest(
        **{"prompt": "a fox in snow", "model": "grok-imagine-video", "seconds": 6, "size": "1280x720", **kw}
    )


def creates(fake) -> list[tuple[str, dict]]:
    return [(c.path.rsplit("/", 1)[-1], c.json()) for c in fake.calls_to("POST", r"/v1/videos/\w+")]


def test_a_take_is_made_then_edited_and_extended_by_its_job_id(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["xai"]
    (first,), (first_job,) = run(isolated_home, grok())
    assert first.ok, first.error
    assert first_job.provider_job_id in fake.jobs and first_job.route_key == "xai:grok-imagine-video"
    info = probe(first.path)
    assert info.rate == 24 and info.has_audio and (info.width, info.height) == (320, 180)

    (edited,), _ = run(isolated_home, grok(prompt="the same fox, at night", remix_of=first.job_id))
    assert edited.ok, edited.error
    (extended,), _ = run(isolated_home, grok(prompt="the fox runs off", extend_video=first.job_id, seconds=4))
    assert extended.ok, extended.error
    sent = creates(fake)
    assert [kind for kind, _ in sent] == ["generations", "edits", "extensions"]
    source = first_job.media_refs[0].url
    assert sent[1][1]["video"] == sent[2][1]["video"] == {"url": source}  # the first take's own xAI URL
    assert sent[2][1]["duration"] == 4 and fake.creates == 3


def test_a_take_whose_url_has_expired_is_extended_from_its_mp4_on_disk(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    (first,), (job,) = run(isolated_home, grok())
    assert first.ok, first.error
    assert first.path.suffix == ".mp4"
    journal = Journal(isolated_home / "journal.sqlite")
    try:
        stale = [replace(m, expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc)) for m in job.media_refs]
        journal.update(job.id, media_refs=stale)
    finally:
        journal.close()
    (extended,), _ = run(isolated_home, grok(extend_video=first.job_id, seconds=2))
    assert extended.ok, extended.error
    source = creates(fakes.fakes["xai"])[-1][1]["video"]["url"]
    assert (
        source.startswith("data:video/mp4;base64,")
        and base64.b64decode(source.split(",", 1)[1]) == first.path.read_bytes()
    )


def test_image_to_video_and_reference_images(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    first = still(tmp_path, 1280, 720, "first")
    refs = (still(tmp_path, 512, 512, "a"), still(tmp_path, 512, 512, "b"))
    (i2v,), _ = run(isolated_home, grok(first_frame=first, model="grok-imagine-video-1.5", size="1920x1080"))
    assert i2v.ok, i2v.error
    (r2v,), _ = run(isolated_home, grok(reference_images=refs, size="480x848"))
    assert r2v.ok, r2v.error
    (_, a), (_, b) = creates(fakes.fakes["xai"])
    assert a["image"]["url"].startswith("data:image/png;base64,") and a["resolution"] == "1080p"
    assert len(b["reference_images"]) == 2 and (b["aspect_ratio"], b["resolution"]) == ("9:16", "480p")


def test_fill_conforms_grok_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fill_exact(isolated_home, two_slots("grok-imagine-video", "grok-imagine-video-1.5"))
    assert sorted(body["aspect_ratio"] for _, body in creates(fakes.fakes["xai"])) == ["16:9", "9:16"]


def test_a_take_is_ledgered_at_what_xai_charged_not_at_the_estimate(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["xai"]
    monkeypatch.setitem(fake.prices, "grok-imagine-video", {"480p": 0.05, "720p": 0.06})  # not the catalog's 0.07
    (result,), (job,) = run(isolated_home, grok(prompt="a hare in snow"))
    assert result.ok, result.error
    assert job.estimated_cost == pytest.approx(0.42)  # 6 s at the catalog's $0.07
    assert job.actual_cost == pytest.approx(0.36)  # 6 s at what xAI said it charged
    journal = Journal(isolated_home / "journal.sqlite")
    try:
        ledger = journal.spend("model") + journal.spend("model", sandbox=True)
    finally:
        journal.close()
    assert ledger == [("grok-imagine-video", pytest.approx(0.36), 1)]
