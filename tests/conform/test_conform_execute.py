"""Conform with the real ffmpeg: exact frame counts for every strategy, sizes, codecs, colour, refusals."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from promptreel.core.conform.execute import ConformFailed, conform, execute
from promptreel.core.conform.plan import Choices, plan_conform
from promptreel.core.conform.probe import probe
from promptreel.core.conform.target import Target
from promptreel.core.errors import UnsupportedRequest
from tests.conform import media

RATES = ["24000/1001", "25", "30000/1001"]
STRATEGIES = ["speed", "nearest", "blend", "minterpolate"]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_exact_frames_for_every_strategy(clips, tmp_path, rate, strategy):
    target = Target(frames=29, rate=rate, size="320x180", start_timecode="01:00:00:00")
    events = []
    out = conform(clips["24"], tmp_path / "out.mov", target, Choices(fps_mode=strategy), on_event=events.append)
    media.assert_conformed(probe(out.path), target)
    kinds = [e.kind for e in events]
    assert kinds[0] == "planned" and kinds[-2:] == ["verified", "done"] and "progress" in kinds
    assert events[-1].frame == 29
    assert [p.name for p in tmp_path.iterdir()] == ["out.mov"]  # no temporary left behind


def test_drop_frame_timecode(clips, tmp_path):
    target = Target(frames=10, rate="30000/1001", size="320x180", start_timecode="00:10:00;00")
    assert conform(clips["30"], tmp_path / "out.mov", target).timecode == "00:10:00;00"
    ndf = Target(frames=10, rate="30000/1001", size="320x180", drop_frame=False, start_timecode="01:00:00:00")
    assert conform(clips["30"], tmp_path / "ndf.mov", ndf).timecode == "01:00:00:00"


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_timecode_in_every_container_a_codec_offers(clips, tmp_path, suffix):
    # Matroska keeps its tags in capitals (TIMECODE): the check read only `timecode` and refused every .mkv.
    target = Target(frames=10, rate="25", size="320x180", codec="h265-10", start_timecode="01:00:00:00")
    out = conform(clips["24"], tmp_path / f"out{suffix}", target)
    assert out.timecode == "01:00:00:00" and probe(out.path).timecode == "01:00:00:00"


@pytest.mark.parametrize("short", ["hold", "slow"])
@pytest.mark.parametrize("strategy", ["speed", "nearest"])
def test_short_source_hold_or_slow(clips, tmp_path, short, strategy):
    target = Target(frames=40, rate="24", size="320x180", codec="h264", bit_depth=8)
    out = conform(clips["short"], tmp_path / "out.mov", target, Choices(short=short, fps_mode=strategy))
    assert out.frames == 40


def test_short_source_refused_by_default(clips, tmp_path):
    target = Target(frames=25, rate="24", size="320x180")  # the clip has 24 frames, and the last is partial
    with pytest.raises(UnsupportedRequest, match="23 usable frames.*longer clip"):
        conform(clips["short"], tmp_path / "out.mov", target)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("source", ["short", "dup"])
def test_short_only_by_the_uncounted_last_frame_holds_the_one_before(clips, tmp_path, source):
    # A generation exactly as long as the slot whose last frame is partial or a repeat still fills it.
    info = probe(clips[source])
    target = Target(frames=info.frames, rate="24", size="320x180")
    plan = plan_conform(info, target)
    assert plan.hold_frames == 1 and plan.video_filters[0][2]["end_frame"] == info.frames - 1
    assert any("held in its place" in note for note in plan.notes)
    assert execute(plan, tmp_path / "out.mov").frames == info.frames


def test_partial_last_frame_is_never_used(clips, tmp_path):
    target = Target(frames=23, rate="24", size="320x180", codec="h264", bit_depth=8)
    plan = plan_conform(probe(clips["short"]), target, Choices(anchor="end"))
    assert plan.in_frame == 0 and plan.video_filters[0][2]["end_frame"] == 23
    assert execute(plan, tmp_path / "out.mov").frames == 23


def test_anchor_end_takes_the_last_frames(clips, tmp_path):
    # The source's frames differ: the end-anchored conform's last frame matches the source's last.
    target = Target(frames=10, rate="24", size="320x180", codec="prores-hq")
    end = conform(clips["24"], tmp_path / "end.mov", target, Choices(anchor="end"))
    start = conform(clips["24"], tmp_path / "start.mov", target, Choices(anchor="start"))
    src_last = _luma_sum(_last_frame(clips["24"]))
    assert abs(_luma_sum(_last_frame(end.path)) - src_last) < abs(_luma_sum(_last_frame(start.path)) - src_last)


def _last_frame(path):
    import av

    with av.open(str(path)) as c:
        *_, last = c.decode(video=0)
        return last.reformat(width=64, height=36, format="gray")


def _luma_sum(frame) -> int:
    return sum(bytes(frame.planes[0]))


# The grey/white halves source is 320x180 (16:9); 478x200 is 2.39:1.
GREY, WHITE, BLACK = range(3)


def _kind(frame, x, y) -> int:
    v = media.pixel(frame, x, y)  # 10-bit limited range: black 64, white 940, grey about 500
    return BLACK if v < 120 else WHITE if v > 880 else GREY


@pytest.mark.parametrize(
    "fit, size, expect",
    [
        # fit: scaled to 356x200, black bars 61 px each side
        ("fit", "478x200", {(5, 100): BLACK, (472, 100): BLACK, (100, 100): GREY, (400, 100): WHITE}),
        # fill: scaled to 478x268 and cropped top and bottom: no bars
        ("fill", "478x200", {(5, 100): GREY, (472, 100): WHITE, (5, 0): GREY, (472, 199): WHITE}),
        # crop: no resize, centre 160x90 of the source: the grey/white edge stays in the middle
        ("crop", "160x90", {(10, 45): GREY, (150, 45): WHITE}),
        # crop into a larger frame pads all round
        ("crop", "478x200", {(5, 100): BLACK, (240, 5): BLACK, (100, 100): GREY, (300, 100): WHITE, (420, 100): BLACK}),
        # stretch: whole picture, no bars, no crop
        ("stretch", "478x200", {(5, 100): GREY, (472, 100): WHITE, (5, 0): GREY}),
    ],
)
def test_fit_modes(clips, tmp_path, fit, size, expect):
    target = Target(frames=6, rate="24", size=size)
    out = conform(clips["halves"], tmp_path / "out.mov", target, Choices(fit=fit))
    assert (out.width, out.height) == (target.size.width, target.size.height)
    frame = media.first_frame(out.path)
    assert {xy: _kind(frame, *xy) for xy in expect} == expect


def test_rotation_is_honoured(clips, tmp_path):
    target = Target(frames=6, rate="24", size="180x320")
    out = conform(clips["rotated"], tmp_path / "out.mov", target, Choices(fit="stretch"))
    assert (out.width, out.height, out.rotation) == (180, 320, 0)
    frame = media.first_frame(out.path)
    # Turned 90° counter-clockwise, the source's left (grey) half is at the bottom.
    assert (_kind(frame, 90, 300), _kind(frame, 90, 20)) == (GREY, WHITE)


def test_unknown_codec_and_unsupported_depth_are_refused():
    with pytest.raises(UnsupportedRequest, match="Choose one of"):
        Target(frames=5, rate="24", size="320x180", codec="cinepak")
    with pytest.raises(UnsupportedRequest, match="h265-10"):
        Target(frames=5, rate="24", size="320x180", codec="h264", bit_depth=10)
    with pytest.raises(UnsupportedRequest, match="at least 1 frame"):
        Target(frames=0, rate="24", size="320x180")
    with pytest.raises(UnsupportedRequest, match="at least 256x120"):
        Target(frames=5, rate="24", size="320x100", codec="dnxhr-hq", bit_depth=8)
    with pytest.raises(UnsupportedRequest, match="even width and height"):
        Target(frames=5, rate="24", size="321x180", codec="h264", bit_depth=8)


def test_result_that_fails_verification_is_deleted(clips, tmp_path):
    target = Target(frames=12, rate="24", size="320x180")
    plan = plan_conform(probe(clips["24"]), target)
    # Sabotage the graph: cut one frame early. Verification must catch it and keep nothing.
    bad = dataclasses.replace(plan, video_filters=[*plan.video_filters, ("trim", (), {"end_frame": 11})])
    with pytest.raises(ConformFailed, match="11 frames, not 12"):
        execute(bad, tmp_path / "out.mov")
    assert not list(tmp_path.iterdir())


def test_speed_change_audio_follows(clips, tmp_path):
    target = Target(frames=25, rate="25", size="320x180")
    plan = plan_conform(probe(clips["24"]), target)
    assert plan.strategy == "speed" and plan.tempo == Fraction(25, 24)
    out = execute(plan, tmp_path / "out.mov")
    assert out.audio[0].rate == 48000 and out.duration == 1


def test_conform_slot_for_the_engine(clips, tmp_path):
    from promptreel.core.conform import conform_slot
    from promptreel.core.request import Slot

    slot = Slot(frames=30, rate="24000/1001", size="320x180", prompt="a shot")
    out = conform_slot(clips["24"], slot, tmp_path / "shot.mov", start_timecode="01:00:00:00")
    assert (out.frames, out.rate, out.pix_fmt, out.timecode) == (
        30,
        Fraction(24000, 1001),
        "yuv422p10le",
        "01:00:00:00",
    )


def test_anamorphic_target_pixel_aspect(clips, tmp_path):
    # 240x180 with 4:3 pixels shows as 320x180: the 16:9 picture fills it without cropping.
    target = Target(frames=4, rate="24", size="240x180", pixel_aspect="4/3")
    out = conform(clips["halves"], tmp_path / "out.mov", target)
    assert (out.width, out.height, out.sample_aspect) == (240, 180, Fraction(4, 3))
    frame = media.first_frame(out.path)
    assert (_kind(frame, 2, 90), _kind(frame, 237, 90)) == (GREY, WHITE)


def test_raising_from_an_event_cancels_and_keeps_nothing(clips, tmp_path):
    class Stop(Exception):
        pass

    def on_event(event):
        if event.kind == "progress":
            raise Stop

    target = Target(frames=2000, rate="24", size="64x36", codec="prores")
    with pytest.raises(Stop):
        conform(clips["24"], tmp_path / "out.mov", target, Choices(short="hold"), on_event=on_event)
    assert not list(tmp_path.iterdir())


def test_twelve_bit_is_h265_main12_and_really_twelve_bits(clips, tmp_path):
    target = Target(frames=4, rate="24", size="320x180", codec="h265-12", bit_depth=12)
    out = conform(clips["bars"], tmp_path / "out.mov", target)
    media.assert_conformed(out, target)
    assert (out.pix_fmt, out.bit_depth, out.profile) == ("yuv420p12le", 12, "Rext")
    frame = media.first_frame(out.path)
    # 12-bit limited range: black 256, white 3760.
    assert abs(media.pixel(frame, 40, 90) - 256) <= 8 and abs(media.pixel(frame, 200, 90) - 3760) <= 16
    # A scaled picture has values between the 10-bit steps: a 10-bit encode shifted up would have none.
    scaled = conform(
        clips["24"], tmp_path / "scaled.mov", Target(frames=2, rate="24", size="478x200", codec="h265-12", bit_depth=12)
    )
    frame = media.first_frame(scaled.path)
    assert any(media.pixel(frame, x, y) % 4 for x in range(0, 478, 7) for y in range(0, 200, 9))


@pytest.mark.parametrize("codec", ["prores-hq", "prores-4444", "dnxhr-hqx", "h264", "h265-10"])
def test_twelve_bit_elsewhere_is_refused_naming_the_codec_that_does_it(codec):
    with pytest.raises(UnsupportedRequest, match=r"not 12-bit.*carries 12-bit: h265-12"):
        Target(frames=5, rate="24", size="320x180", codec=codec, bit_depth=12)


def test_a_twelve_bit_slot_takes_the_codecs_nearest_depth():
    from promptreel.core.request import Slot

    slot = Slot(frames=10, rate="24", size="320x180", bit_depth=12, prompt="a shot")
    assert Target.from_slot(slot, "h265-12").bit_depth == 12
    assert Target.from_slot(slot).bit_depth == 10  # ProRes 422 HQ: 10-bit is what this ffmpeg writes
