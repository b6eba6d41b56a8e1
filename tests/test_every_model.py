"""Every model of the shipped catalog, end to end through the real engine against its route's sandbox fake:
a text-to-video take placed over a placeholder in the Resolve double, an image-to-video one (the shot before
the slot as its first frame) where the model takes a first frame, and an OTIO fill, each conformed to exactly
its slot's frames at a 23.976 timeline rate (slots that are no whole number of seconds).

The models are read from core/data/catalog.toml, so a model added there is covered with no edit here. Which:
every model that is not retired, on its first usable route (the one the engine takes). A model whose route has
no sandbox fake fails `test_every_available_model_runs_somewhere`, naming it: a fake is part of adding a
route. `draft` renders here with the bundled ffmpeg (no network, nothing to fake) and goes through the same
tests. ComfyUI's local models go through its fake like any other route (tests/test_comfyui*.py test the
workflows themselves). A model that makes no take from a prompt (aleph-2 requires a video to remix) has no
text-to-video or OTIO case; its remix is tested with its route
(tests/test_provider_runway_hosted.py, tests/test_runway_engine.py); a new one fails here until it is looked at.

One sandbox serves the module: fakes at zero latency, answering with SMALL media (320x180) at most 1.5 s
long, long enough for every slot here.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from promptreel.core.catalog import Size, build_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.engine import Engine
from promptreel.core.journal import Journal
from promptreel.core.sandbox import Limit, Spec, fake_classes, render, sandbox
from promptreel.core.timeline.fill import fill_timeline
from promptreel.core.timeline.filler import FillOptions, engine_filler
from promptreel.core.tomlfile import shipped
from tests.otio_helpers import assert_frame_exact, media_path
from tests.sandbox_engine import point_at

LOCAL = {"draft"}  # routes that render on this machine: no wire, no fake
RATE = Fraction(24000, 1001)
FRAMES = 29  # 1.2095 s at 23.976: no whole number of seconds
SHOT = 24  # the shot cut before an image-to-video slot (its last frame is the first frame)
SANDBOX_SECONDS = Fraction(3, 2)  # every slot here is shorter

CATALOG = build_catalog(shipped("catalog.toml")["models"])
MODELS = {m.id: m for m in CATALOG.models.values() if m.usable_routes()}
ROUTE = {mid: m.usable_routes()[0].protocol for mid, m in MODELS.items()}
FAKES = fake_classes()
RUNNABLE = sorted(mid for mid in MODELS if ROUTE[mid] in FAKES or ROUTE[mid] in LOCAL)
PROMPTED = [mid for mid in RUNNABLE if not MODELS[mid].requires or MODELS[mid].requires == ["first_frame"]]
TEXT = [mid for mid in PROMPTED if not MODELS[mid].requires]
IMAGE = [mid for mid in PROMPTED if "first_frame" in MODELS[mid].inputs]
EDIT_ONLY = [mid for mid in RUNNABLE if mid not in PROMPTED]  # takes a video to remix or extend, no prompt alone


def test_every_available_model_runs_somewhere():
    """A model that is not retired has a fake for its route (or renders here), and a case below unless it only
    edits a video."""
    missing = sorted(f"{mid} (route {ROUTE[mid]})" for mid in MODELS if mid not in RUNNABLE)
    assert not missing, f"No sandbox fake for the first usable route of: {', '.join(missing)}"
    assert len(RUNNABLE) >= 20 and "veo-3.1" in TEXT and "gen-4-turbo" in IMAGE and "gen-4-turbo" not in TEXT
    assert EDIT_ONLY == ["aleph-2"], f"Models with no text- or image-to-video case: {', '.join(EDIT_ONLY)}"


@pytest.fixture(scope="module")
def fakes():
    routes = sorted({ROUTE[mid] for mid in RUNNABLE} - LOCAL)
    with sandbox(routes=routes, limit=Limit(seconds=SANDBOX_SECONDS)) as env:
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch):
    from promptreel.resolve_plugin import panel_settings

    point_at(fakes, monkeypatch, isolated_home)

    async def no_wait(seconds):
        return None

    init = Engine.__init__

    def quick(self, *a, **kw):
        init(self, *a, **kw)
        self.sleep = no_wait  # polls at once: the fakes finish after their status reads, not a clock

    monkeypatch.setattr(Engine, "__init__", quick)
    panel_settings.update({"codec": "h264"})  # the panel's ProRes default is slower to encode, same frames
    return isolated_home


def neighbour(folder: Path) -> Path:
    """A real 320x180 shot at the timeline rate, for the frame before a slot."""
    path = folder / "shot.mp4"
    path.write_bytes(render(Spec(320, 180, RATE, frames=SHOT)))
    return path


def resolve_cut(with_shot: Path | None):
    """A 23.976 project holding one `GEN:` placeholder of FRAMES on V1, after a shot of `with_shot` if given."""
    from tests.fakes.resolve import FakeResolve, MediaPoolItem

    resolve = FakeResolve()
    project = resolve._new_project(rate="23.976", width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Cut 1")
    start = timeline.GetStartFrame()
    if with_shot is not None:
        mpi = MediaPoolItem(with_shot, RATE, 320, 180, SHOT)
        mpi._folder = pool.GetRootFolder()
        mpi._folder._clips.append(mpi)
        timeline._add(1, start, SHOT, mpi._name, mpi)
    timeline._add(1, start + SHOT, FRAMES, "GEN: a lighthouse at dusk, waves below", kind="generator")
    return resolve, timeline, start + SHOT


def fill_in_resolve(home: Path, model: str, with_shot: Path | None, stills: Path | None):
    """Fill the cut's placeholder on `model` through the panel's engine clip maker; the placed item read back."""
    from promptreel.resolve_plugin.fill import fill
    from promptreel.resolve_plugin.gateway import DirectGateway
    from promptreel.resolve_plugin.worker import EngineClipMaker

    resolve, timeline, at = resolve_cut(with_shot)
    gw = DirectGateway(resolve)
    report = fill(gw, EngineClipMaker(gw), model=model, stills_dir=stills)
    assert report.failed == [] and len(report.edits) == 1, report.failed
    assert timeline.GetSetting("timelineFrameRate") in ("23.976", 23.976)
    placed = [it for it in timeline._items() if it._mpi is not None and it._mpi._path != with_shot]
    assert [(it.GetStart(), it.GetDuration()) for it in placed] == [(at, FRAMES)]
    media = placed[0].GetMediaPoolItem()
    assert media.GetThirdPartyMetadata("promptreel.job_id") == report.edits[0].job_id
    journal = Journal(home / "journal.sqlite")
    try:
        job = journal.get(report.edits[0].job_id)
    finally:
        journal.close()
    assert (job.model, job.route_key.split(":")[0]) == (model, ROUTE[model])  # the route the catalog puts first
    info = probe(Path(media.GetClipProperty("File Path")))
    assert (info.frames, info.rate, info.width, info.height) == (FRAMES, RATE, 320, 180)


def sent_to(fakes, model: str) -> bytes:
    """Every byte the model's route fake received (API and CDN), or b"" for a local route."""
    fake = fakes.fakes.get(ROUTE[model])
    return b"\n".join(c.body for c in (fake.api.calls + fake.cdn.calls)) if fake else b""


@pytest.mark.parametrize("model", TEXT)
def test_text_to_video_fills_a_resolve_placeholder_frame_exact(model, fakes, home):
    fill_in_resolve(home, model, None, None)
    if ROUTE[model] not in LOCAL:
        assert fakes.fakes[ROUTE[model]].creates == 1


@pytest.mark.parametrize("model", IMAGE)
def test_image_to_video_takes_the_shot_before_as_its_first_frame(model, fakes, home, tmp_path):
    stills = tmp_path / "stills"
    fill_in_resolve(home, model, neighbour(tmp_path), stills)
    (first,) = stills.glob("*.png")  # the shot's last frame, read from its media
    data = first.read_bytes()
    if ROUTE[model] not in LOCAL:
        body = sent_to(fakes, model)
        assert data in body or base64.b64encode(data) in body, f"{ROUTE[model]} never received the first frame"
        assert fakes.fakes[ROUTE[model]].creates == 1


@pytest.mark.parametrize("model", PROMPTED)
def test_an_otio_fill_conforms_a_take_frame_exact(model, fakes, home, tmp_path):
    """A 23.976 cut: a shot, then a placeholder on `model` (the shot's last frame is its first frame where the
    model needs one)."""
    rate = float(RATE)
    shot = otio.schema.Clip(
        name="SH010",
        media_reference=otio.schema.ExternalReference(
            target_url=str(neighbour(tmp_path)),
            available_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(SHOT, rate)
            ),
        ),
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(SHOT, rate)
        ),
    )
    slot = otio.schema.Clip(
        name="SH020",
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(FRAMES, rate)
        ),
    )
    slot.metadata["promptreel"] = {"prompt": "rain on a tin roof", "model": model}
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.extend([shot, slot])
    timeline = otio.schema.Timeline(name="cut")
    timeline.tracks.append(track)
    options = FillOptions(
        output_dir=home / "filled", codec="h264", frames_from_neighbours="first_frame" in MODELS[model].requires
    )
    report = fill_timeline(timeline, engine_filler, options, size=Size.parse("320x180"))
    assert len(report.filled) == 1 and not report.failed, report.failed
    ((_placeholder, filled),) = report.filled
    info = probe(filled.path)
    assert (info.frames, info.rate, info.width, info.height) == (FRAMES, RATE, 320, 180)
    assert filled.provenance.model == model
    path = tmp_path / "filled.otio"  # as an editor gets it: written, then read back
    otio.adapters.write_to_file(timeline, str(path))
    placed = [c for c in otio.adapters.read_from_file(str(path)).find_clips() if c.name == "SH020"]
    assert len(placed) == 1 and media_path(placed[0]) == Path(filled.path)
    assert_frame_exact(placed[0], FRAMES, RATE)
