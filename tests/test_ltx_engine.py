"""LTX-2.3 through the real engine and journal against the LTX sandbox fake: async takes made and collected,
extended and retaken by their job id in later engine runs (a fresh engine and journal each, as after a
restart), a lost create never sent twice, and takes conformed frame-exact into their slots."""

import asyncio
import base64
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from promptreel.core.catalog import Size, default_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.engine import Engine
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.request import GenerationRequest, Slot
from promptreel.core.sandbox import Limit, sandbox
from promptreel.core.settings import load_settings
from promptreel.core.timeline.fill import fill_timeline
from promptreel.core.timeline.filler import FillOptions, engine_filler
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run

CREATE = r"/v2/(text-to-video|image-to-video|extend|retake)"


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["ltx"], limit=Limit(seconds=4)) as env:  # 4 s: enough frames to extend (LTX needs 73)
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    return isolated_home


def ltx(**kw):
    return GenerationRequest(
        **{
            "prompt": "a paper boat in a gutter",
            "model": "ltx-2.3-pro",
            "seconds": 6,
            "size": "1920x1080",
            "fps": 24,
            **kw,
        }
    )


def test_a_take_is_made_then_extended_and_retaken_from_its_journaled_file(fakes, home):
    fake = fakes.fakes["ltx"]
    (first,), (first_job,) = run(home, ltx())
    assert first.ok, first.error
    assert first_job.provider_job_id.startswith("text-to-video/") and first_job.route_key == "ltx:ltx-2-3-pro"
    info = probe(first.path)
    assert (info.rate, info.has_audio) == (24, True)

    (extended,), _ = run(home, ltx(prompt="the boat reaches a drain", extend_video=first.job_id))
    assert extended.ok, extended.error
    (retaken,), (retake_job,) = run(home, ltx(prompt="the same gutter, at night", remix_of=first.job_id))
    assert retaken.ok, retaken.error
    assert retake_job.provider_job_id.startswith("retake/")
    creates = fake.calls_to("POST", CREATE)
    assert [c.path for c in creates] == ["/v2/text-to-video", "/v2/extend", "/v2/retake"]
    kept = base64.b64encode(Path(first_job.output_path).read_bytes()).decode()
    assert all(c.json()["video_uri"] == f"data:video/mp4;base64,{kept}" for c in creates[1:])
    assert fake.creates == 3


def test_fast_cannot_extend_and_is_refused_before_anything_is_sent(fakes, home):
    with pytest.raises(UnsupportedRequest, match="does not accept a extend input"):
        run(home, ltx(model="ltx-2.3-fast", extend_video="take.mp4"))
    assert fakes.fakes["ltx"].creates == 0


def test_a_take_from_another_route_is_refused_before_any_create(fakes, home):
    (draft,), _ = run(home, GenerationRequest(prompt="a slate", model="draft", seconds=1, size="320x180"))
    (ext,), _ = run(home, ltx(extend_video=draft.job_id))
    assert ext.error_kind == "bad_request" and "made on the draft route" in ext.error
    assert fakes.fakes["ltx"].creates == 0


def test_a_lost_create_is_never_sent_again(fakes, home):
    """LTX cannot look a job up but by its id: after a create whose answer was lost the job waits for the
    user (resume --resend / --abandon), and nothing is paid twice."""
    fake = fakes.fakes["ltx"]
    fake.fault("create", "drop")
    (result,), (job,) = run(home, ltx())
    assert not result.ok and result.resumable and result.error_kind == "unknown_outcome"
    assert job.state.value == "unknown" and "resume --resend" in result.error
    assert fake.creates == 1


def test_a_failed_job_is_not_retried_and_says_why(fakes, home):
    fake = fakes.fakes["ltx"]
    fake.fault("outcome", "failed")
    (result,), _ = run(home, ltx())
    assert result.error_kind == "moderation" and "content_policy_error" in result.error and fake.creates == 1


def test_fill_conforms_ltx_takes_frame_exact_into_their_slots(fakes, home):
    slots = [
        Slot(
            frames=30,
            rate=Fraction(24000, 1001),
            size="320x180",
            prompt="a kite over dunes",
            model="ltx-2.3-fast",
            name="SH010",
        ),
        Slot(
            frames=27,
            rate=Fraction(25),
            size="180x320",
            prompt="a paper boat on a canal",
            model="ltx-2.3-pro",
            name="SH020",
        ),
    ]
    fill_exact(home, slots)
    sent = sorted((c.json()["resolution"], c.json()["fps"]) for c in fakes.fakes["ltx"].calls_to("POST", CREATE))
    assert sent == [("1080x1920", 25), ("1920x1080", 24)]


def test_image_to_video_takes_the_first_frame(fakes, home, tmp_path):
    first = still(tmp_path, 1920, 1080, "first")
    (result,), (job,) = run(home, ltx(first_frame=first, fps=50))
    assert result.ok, result.error
    (call,) = fakes.fakes["ltx"].calls_to("POST", CREATE)
    assert call.path == "/v2/image-to-video" and call.json()["image_uri"].startswith("data:image/png;base64,")
    assert job.provider_job_id.startswith("image-to-video/") and probe(result.path).rate == 50


def test_an_otio_fill_places_ltx_takes_frame_exact(fakes, home, monkeypatch):
    """Two placeholders of a 25 fps cut, one per LTX-2.3 model, filled through the engine and conformed."""

    async def no_wait(seconds):
        return None

    init = Engine.__init__

    def quick(self, *a, **kw):
        init(self, *a, **kw)
        self.sleep = no_wait

    monkeypatch.setattr(Engine, "__init__", quick)
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name, frames, model in (("SH010", 40, "ltx-2.3-fast"), ("SH020", 33, "ltx-2.3-pro")):
        clip = otio.schema.Clip(
            name=name,
            media_reference=otio.schema.MissingReference(),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(frames, 25)
            ),
        )
        clip.metadata["promptreel"] = {"prompt": f"{name}: rain on a tin roof", "model": model}
        track.append(clip)
    timeline = otio.schema.Timeline(name="cut")
    timeline.tracks.append(track)
    report = fill_timeline(
        timeline, engine_filler, FillOptions(output_dir=home / "filled", codec="h264"), size=Size.parse("320x180")
    )
    assert len(report.filled) == 2 and not report.failed, report.failed
    for (_placeholder, filled), frames in zip(report.filled, (40, 33)):
        info = probe(filled.path)
        assert (info.frames, info.rate, info.width, info.height) == (frames, 25, 320, 180)
        assert filled.provenance.model in ("ltx-2.3-fast", "ltx-2.3-pro")
    assert fakes.fakes["ltx"].creates == 2


def test_a_resolve_fill_places_ltx_takes_frame_exact(fakes, home, monkeypatch):
    """Through the Resolve double: the panel's engine clip maker makes LTX-2.3 Fast takes for a 23.976 cut
    and each lands over its placeholder at exactly its length, with its job recorded on the clip."""
    from promptreel.resolve_plugin.fill import fill
    from promptreel.resolve_plugin.gateway import DirectGateway
    from promptreel.resolve_plugin.worker import EngineClipMaker
    from tests.fakes.resolve import cut_with_placeholders

    async def no_wait(seconds):
        return None

    init = Engine.__init__

    def quick(self, *a, **kw):
        init(self, *a, **kw)
        self.sleep = no_wait

    monkeypatch.setattr(Engine, "__init__", quick)
    resolve, timeline = cut_with_placeholders(rate="23.976")
    gw = DirectGateway(resolve)
    report = fill(gw, EngineClipMaker(gw), model="ltx-2.3-fast")
    assert report.failed == []
    placed = sorted((it for it in timeline._items() if it._mpi is not None), key=lambda it: it._start)
    assert [(it._track, it._duration) for it in placed] == [(2, 30), (2, 17)]
    for item, record in zip(placed, report.edits):
        assert item.GetMediaPoolItem().GetThirdPartyMetadata("promptreel.job_id") == record.job_id
    sent = [c.json() for c in fakes.fakes["ltx"].calls_to("POST", CREATE)]
    assert [(b["model"], b["fps"], b["resolution"]) for b in sent] == [("ltx-2-3-fast", 24, "1920x1080")] * 2


def test_a_take_left_mid_poll_is_collected_by_a_later_resume(fakes, home):
    """The poll needs only the journaled "endpoint/id": a later process (fresh engine and journal) collects
    the take without a second create."""
    fake = fakes.fakes["ltx"]
    fake.fault("poll", *["500"] * Engine.attempts)  # every retry of this run fails; the job stays collectable
    (first,), (job,) = run(home, ltx())
    assert not first.ok and first.resumable and job.provider_job_id.startswith("text-to-video/")
    journal = Journal(home / "journal.sqlite")
    try:
        engine = Engine(default_catalog(), journal, load_settings())

        async def no_wait(seconds):
            return None

        engine.sleep = no_wait
        (collected,) = asyncio.run(engine.resume())
    finally:
        journal.close()
    assert collected.ok, collected.error
    assert probe(collected.path).rate == 24 and fake.creates == 1
