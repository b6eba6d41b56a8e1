"""Kling 3.0 multi-shot: consecutive placeholders planned as one take, made by one job on the Kling fake, and
each conformed frame-exact from its own shot's frames of that take (OTIO adjacent `GEN:` clips, a storyboard
row group); the planner's shot lengths and in-points; the exact multi-shot bodies."""

import subprocess
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import assert_frame_exact, media_path

from promptreel.core.catalog import Size, default_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.plan import group_shots, plan_shots, plan_slot
from promptreel.core.providers.kling import Kling
from promptreel.core.request import GenerationRequest, Shot, Slot
from promptreel.core.sandbox import sandbox
from promptreel.core.sandbox.drive import protocol
from promptreel.core.sandbox.media import Limit
from promptreel.core.timeline.fill import fill_timeline
from promptreel.core.timeline.filler import FillOptions, engine_filler
from promptreel.core.timeline.timebase import time_range
from promptreel.otio_adapters.storyboard import ShotRow as BoardShot, build_board
from tests.sandbox_engine import point_at

SIZE = Size(width=320, height=180)
V3 = default_catalog().get("kling-v3")


def slot(frames, rate=24, group="g", prompt="a fox", **kw):
    return Slot(frames=frames, rate=rate, size="320x180", prompt=prompt, model="kling-v3", group=group, **kw)


def test_plan_shots_covers_each_slot_and_starts_each_at_its_shot():
    plans = plan_shots([slot(30, prompt="wakes"), slot(40, prompt="runs"), slot(20, prompt="sleeps")], V3)
    req = plans[0].request
    assert all(p.request is req for p in plans)  # one request: the engine makes one job
    assert req.shots == (
        Shot(prompt="wakes", seconds=2),
        Shot(prompt="runs", seconds=2),
        Shot(prompt="sleeps", seconds=1),
    )
    assert (req.seconds, req.fps, str(req.size)) == (5, 24, "1280x720")
    assert [p.in_point for p in plans] == [0, 48, 96]


def test_plan_shots_pads_the_last_shot_to_the_shortest_take_and_covers_other_rates():
    plans = plan_shots([slot(12), slot(50, rate=25)][:1], V3)
    assert plans[0].request.shots[-1].seconds == 3 == plans[0].request.seconds  # 0.5 s padded to Kling's 3 s
    # 50 frames at 25 fps take 50 source frames at 24 (a speed change keeps them one for one): 3 s, not 2.
    assert plan_shots([slot(50, rate=25), slot(25, rate=25)], V3)[1].in_point == 72


def test_plan_shots_refuses_what_one_take_cannot_hold():
    with pytest.raises(UnsupportedRequest, match="at most 15 s"):
        plan_shots([slot(24 * 8), slot(24 * 8)], V3)
    with pytest.raises(UnsupportedRequest, match="at most 6"):
        plan_shots([slot(24)] * 7, V3)


def test_group_shots_joins_runs_of_one_group_only_on_multi_shot_models():
    models = default_catalog().models
    plans = [
        plan_slot(s, models[s.model])
        for s in (
            slot(24, group="a"),
            slot(24, group="a"),
            slot(24, group="b"),
            slot(24, group=""),
            slot(24, group="c").model_copy(update={"model": "kling-v2.6"}),
            slot(24, group="c").model_copy(update={"model": "kling-v2.6"}),
        )
    ]
    grouped = group_shots(plans, models)
    assert grouped[0].request is grouped[1].request and len(grouped[0].request.shots) == 2
    assert [p.in_point for p in grouped] == [0, 24, None, None, None, None]  # kling-v2.6 makes no multi-shot take
    assert grouped[2:] == plans[2:]


def test_build_multi_shot_body_exact(client):
    proto = protocol(Kling, "kling-v3", client, {"KLING_API_KEY": "k" * 24}, "https://x")
    req = GenerationRequest(
        prompt="a / b",
        model="kling-v3",
        seconds=5,
        size="1280x720",
        shots=(Shot(prompt="a fox wakes", seconds=2), Shot(prompt="it runs", seconds=3)),
    )
    call = proto.build(req, "job-1")
    assert (call.path, call.json) == (
        "/v1/videos/text2video",
        {
            "model_name": "kling-v3",
            "duration": "5",
            "mode": "std",
            "aspect_ratio": "16:9",
            "external_task_id": "job-1",
            "multi_shot": True,
            "shot_type": "customize",
            "multi_prompt": [
                {"index": 1, "prompt": "a fox wakes", "duration": "2"},
                {"index": 2, "prompt": "it runs", "duration": "3"},
            ],
        },
    )


# --- one job fills three placeholders -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    # Full length (the shots must really be in the take), small frames.
    with sandbox(routes=["kling"], limit=Limit(320, 180, None)) as env:
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch, no_poll_waits):
    point_at(fakes, monkeypatch, isolated_home)
    return isolated_home


def gen_clip(name: str, frames: int, rate: int = 24, **meta) -> otio.schema.Clip:
    ref = otio.schema.GeneratorReference(generator_kind="SolidColor", available_range=time_range(0, frames, rate))
    return otio.schema.Clip(
        name=name,
        media_reference=ref,
        source_range=time_range(0, frames, rate),
        metadata={"promptreel": meta} if meta else {},
    )


def frame(path, n: int) -> bytes:
    """Frame `n` of a video as 320x180 RGB."""
    return subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{n})",
            "-vframes",
            "1",
            "-s",
            "320x180",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout


def distance(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def check_cut_from_take(take, clips, starts):
    """Each clip's first and last frames are the take's frames of its own shot (lossy codecs: nearest match)."""
    for clip, start, frames in clips_with(clips, starts):
        path = media_path(clip)
        for own, at in ((0, start), (frames - 1, start + frames - 1)):
            got = frame(path, own)
            near = {k: distance(got, frame(take, k)) for k in range(max(0, at - 2), at + 3)}
            assert min(near, key=near.get) == at, near


def clips_with(clips, starts):
    return [(c, s, round(c.duration().value)) for c, s in zip(clips, starts)]


def the_take(fake, tmp_path, job=None):
    job = job or next(iter(fake.jobs.values()))
    path = tmp_path / "take.mp4"
    path.write_bytes(fake.job_media(job))
    return path


def test_three_adjacent_gen_placeholders_fill_from_one_job_each_exact(fakes, home, tmp_path):
    fake = fakes.fakes["kling"]
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.extend(
        [
            gen_clip("GEN: a fox wakes in its den", 30),
            gen_clip("GEN: the fox runs through snow", 40),
            gen_clip("GEN: the fox sleeps", 20),
            otio.schema.Gap(source_range=time_range(0, 10, 24)),
            gen_clip("GEN: an owl lands", 26),
        ]
    )
    timeline = otio.schema.Timeline(global_start_time=otio.opentime.RationalTime(3600 * 24, 24))
    timeline.tracks.append(track)
    options = FillOptions(output_dir=tmp_path / "media", model="kling-v3", codec="h264", multi_shot=True)

    report = fill_timeline(timeline, engine_filler, options, size=SIZE)

    assert len(report.filled) == 4 and not report.failed
    creates = [c.json() for c in fake.calls_to("POST", r"/v1/videos/text2video")]
    assert fake.creates == 2 and len(creates) == 2  # the three back to back: one job; the owl after a gap: its own
    multi = next(b for b in creates if b.get("multi_shot"))
    assert multi["multi_prompt"] == [
        {"index": 1, "prompt": "a fox wakes in its den", "duration": "2"},
        {"index": 2, "prompt": "the fox runs through snow", "duration": "2"},
        {"index": 3, "prompt": "the fox sleeps", "duration": "1"},
    ]
    assert multi["duration"] == "5" and "prompt" not in multi
    assert all(
        c.headers["authorization"] == f"Bearer {fakes['KLING_API_KEY']}"
        for c in fake.calls_to("POST", r"/v1/videos/text2video")
    )  # the API key, not a JWT
    clips = [track[i] for i in range(3)]
    for clip, frames in zip(clips, (30, 40, 20)):
        assert_frame_exact(clip, frames, Fraction(24))
    job_ids = {f.provenance.job_id for _, f in report.filled[:3]}
    assert len(job_ids) == 1
    # Priced once: a 5 s take at 720p, not three.
    assert [e.cost for e in report.estimates[:3]] == [pytest.approx(5 * 0.084), 0.0, 0.0]
    multi_job = next(j for j in fake.jobs.values() if j.body.get("multi_shot"))
    check_cut_from_take(the_take(fake, tmp_path, multi_job), clips, [0, 48, 96])


def test_a_storyboard_row_group_fills_from_one_job(fakes, home, tmp_path):
    fake = fakes.fakes["kling"]
    shots = [
        BoardShot(shot="SH010", duration="36", prompt="a lighthouse at dusk", group="coast"),
        BoardShot(shot="SH020", duration="2s", prompt="waves on the rocks", group="coast"),
        BoardShot(shot="SH030", duration="25", prompt="a gull takes off", group="coast"),
    ]
    timeline = build_board(shots, Fraction(24), size=SIZE)
    options = FillOptions(output_dir=tmp_path / "media", model="kling-v3", codec="h264")

    report = fill_timeline(timeline, engine_filler, options, size=SIZE)

    assert len(report.filled) == 3 and not report.failed and fake.creates == 1
    clips = list(timeline.tracks[0])
    for clip, frames in zip(clips, (36, 48, 25)):
        assert_frame_exact(clip, frames, Fraction(24))
    (body,) = [c.json() for c in fake.calls_to("POST", r"/v1/videos/text2video")]
    assert [s["duration"] for s in body["multi_prompt"]] == ["2", "2", "2"] and body["duration"] == "6"
    check_cut_from_take(the_take(fake, tmp_path), clips, [0, 48, 96])


def test_core_fill_groups_slots_and_prices_the_one_take_once(fakes, home, tmp_path):
    """The path Resolve fills take: slots of one group through plan_slots, under a budget that holds one 5 s take
    ($0.42) and not three."""
    from promptreel.core.slots import FillSettings, fill_slots_sync

    fake = fakes.fakes["kling"]
    slots = [
        slot(30, prompt="wakes", name="SH010"),
        slot(40, prompt="runs", name="SH020"),
        slot(20, prompt="sleeps", name="SH030"),
    ]
    clips = fill_slots_sync(slots, FillSettings(output_dir=tmp_path / "out", codec="h264", budget=0.5))
    assert all(c.ok for c in clips) and fake.creates == 1
    assert [round(float(c.provenance.cost), 3) for c in clips] == [0.42, 0.0, 0.0]


def test_an_aggregator_route_refuses_a_multi_shot_take():
    from promptreel.core.providers.hosted_inputs import build_input

    req = plan_shots([slot(30), slot(40)], V3)[0].request
    with pytest.raises(UnsupportedRequest, match="multi-shot"):
        build_input("fal", "fal-ai/kling-video/v3", req, "fal")


def test_an_ab_keeps_each_shot_of_the_take():
    """A/B slots are new slot objects: their plan is still the one take's request, from their own shot."""
    from promptreel.core.timeline.fill import Estimate

    plans = plan_shots([slot(30), slot(40)], V3)
    e = Estimate(placeholder=None, slot=plans[1].slot, shape_plan=plans[1])
    twin = plans[1].slot.model_copy(update={"seed": 7})
    assert (e.plan_for(twin).request, e.plan_for(twin).in_point, e.plan_for(twin).slot) == (plans[0].request, 48, twin)
