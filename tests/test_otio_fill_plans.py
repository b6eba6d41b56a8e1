"""The OTIO fill plans each slot once: the estimate's plans (one per shape) go to the engine as they are,
and they are exactly what planning every slot again would have made — plain fills and A/B takes alike."""

import opentimelineio as otio
import pytest

import promptreel.core.slots as core_slots
import promptreel.core.timeline.fill as timeline_fill
from promptreel.core.catalog import Size, default_catalog
from promptreel.core.engine import Engine
from promptreel.core.plan import plan_slot
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.takes import take_slots
from promptreel.core.timeline.fill import fill_timeline
from promptreel.core.timeline.filler import FillOptions, engine_filler

RATE = 24
SIZE = Size(width=320, height=180)


def timeline() -> otio.schema.Timeline:
    """Three placeholders of two shapes: SH010 and SH030 alike but for their words and seed, SH020 longer."""
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name, frames, prompt, seed in [
        ("SH010", 12, "a gull over the swell", 4),
        ("SH020", 20, "fog rolls in", None),
        ("SH030", 12, "a kite over the dunes", 9),
    ]:
        clip = otio.schema.Clip(
            name=name,
            media_reference=otio.schema.MissingReference(),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(frames, RATE)
            ),
        )
        clip.metadata["promptreel"] = {"prompt": prompt, **({"seed": seed} if seed is not None else {})}
        track.append(clip)
    t = otio.schema.Timeline(name="cut")
    t.tracks.append(track)
    return t


@pytest.fixture
def counted(monkeypatch):
    """Every plan_slot call the fill makes (in the estimate and in core/slots.py), and the plans the engine runs."""
    calls, ran = [], []

    def counting(slot, model, *a, **kw):
        calls.append(slot)
        return plan_slot(slot, model, *a, **kw)

    monkeypatch.setattr(timeline_fill, "plan_slot", counting)
    monkeypatch.setattr(core_slots, "plan_slot", counting)
    init, run = Engine.__init__, Engine.run

    async def no_wait(seconds):
        return None

    def quick(self, *a, **kw):
        init(self, *a, **kw)
        self.sleep = no_wait

    async def recording(self, planned, **kw):
        ran.extend(planned)
        return await run(self, planned, **kw)

    monkeypatch.setattr(Engine, "__init__", quick)
    monkeypatch.setattr(Engine, "run", recording)
    return calls, ran


def replanned(slots):
    """What planning every slot again (the old second pass) makes."""
    return [plan_slot(s, default_catalog().get(s.model)) for s in slots]


def test_a_fill_plans_each_shape_once_and_runs_the_same_requests(tmp_path, counted):
    calls, ran = counted
    report = fill_timeline(timeline(), engine_filler, FillOptions(output_dir=tmp_path, codec="h264"), size=SIZE)
    assert len(report.filled) == 3 and not report.failed
    assert len(calls) == 2  # one per shape; planning again in the filler would make it 5
    slots = [e.slot for e in report.estimates]
    assert [p.slot for p in ran] == slots
    assert [p.request for p in ran] == [p.request for p in replanned(slots)]
    assert [p.request.prompt for p in ran] == ["a gull over the swell", "fog rolls in", "a kite over the dunes"]
    assert [p.request.seed for p in ran] == [4, None, 9] and ran[2].request.tags == {"shot": "SH030"}


def test_an_ab_fill_plans_each_shape_once_per_model_with_the_takes_seeds(tmp_path, counted):
    calls, ran = counted
    with sandbox(routes=["runway"], limit=SMALL, export=True) as env:
        report = fill_timeline(
            timeline(),
            engine_filler,
            FillOptions(output_dir=tmp_path, codec="h264", models=("draft", "gen-4.5")),
            size=SIZE,
        )
        creates = env.fakes["runway"].creates
    assert len(report.filled) == 3 and not report.failed and not report.failed_takes and creates == 3
    assert len(calls) == 4  # two shapes on each of two models
    takes = [take_slots(e.slot, [model])[0] for e in report.estimates for model in ("draft", "gen-4.5")]
    assert sorted(map(repr, (p.slot for p in ran))) == sorted(map(repr, takes))
    by_slot = {repr(p.slot): p.request for p in ran}
    assert [by_slot[repr(s)] for s in takes] == [p.request for p in replanned(takes)]
    assert all(p.request.seed is not None for p in ran)  # an A/B's takes carry seeds, so promote can keep them


def test_fill_slots_refuses_plans_for_other_slots(tmp_path):
    slots = [e.slot for e in timeline_fill.scan_timeline(timeline(), size=SIZE)[0]]
    plans = replanned(slots)
    with pytest.raises(ValueError, match="not for its slots"):
        core_slots.fill_slots_sync(slots[:2], core_slots.FillSettings(output_dir=tmp_path), planned=plans[1:])
