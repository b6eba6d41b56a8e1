"""The plan is a pure function: properties over many sources, targets and choices (hypothesis)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptreel.core.conform.plan import Choices, choose_strategy, fit_geometry, plan_conform
from promptreel.core.conform.probe import AudioInfo, MediaInfo
from promptreel.core.conform.target import Target, codec_families
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.request import Slot

RATES = [
    Fraction(16),
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
]


@st.composite
def sources(draw):
    audio = draw(st.booleans())
    return MediaInfo(
        path=Path("gen.mp4"),
        width=draw(st.integers(16, 4096)),
        height=draw(st.integers(16, 4096)),
        rate=draw(st.sampled_from(RATES)),
        frames=draw(st.integers(1, 5000)),
        pix_fmt="yuv420p",
        has_audio=audio,
        sample_aspect=draw(st.sampled_from([Fraction(1), Fraction(4, 3), Fraction(8, 9)])),
        rotation=draw(st.sampled_from([0, 90, 180, 270])),
        variable_rate=draw(st.booleans()),
        last_frame_partial=draw(st.booleans()),
        last_frame_duplicate=draw(st.booleans()),
        color_range=draw(st.sampled_from([None, "tv", "pc"])),
        color_transfer=draw(st.sampled_from([None, "bt709", "smpte2084", "arib-std-b67"])),
        audio=(AudioInfo(44100, 2, "aac"),) if audio else (),
    )


@st.composite
def targets(draw):
    codec = draw(st.sampled_from(list(codec_families())))
    min_w, min_h = codec_families()[codec].min_size
    width, height = 2 * draw(st.integers(max(1, min_w // 2), 4096)), 2 * draw(st.integers(max(1, min_h // 2), 2048))
    return Target(
        frames=draw(st.integers(1, 20000)),
        rate=draw(st.sampled_from(RATES)),
        size=f"{width}x{height}",
        pixel_aspect=draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(4, 3)])),
        codec=codec,
        bit_depth=codec_families()[codec].bit_depths[-1],
    )


choices = st.builds(
    Choices,
    fps_mode=st.sampled_from(["auto", "speed", "nearest", "blend", "minterpolate"]),
    fit=st.sampled_from(["fit", "fill", "crop", "stretch"]),
    anchor=st.sampled_from(["start", "centre", "end"]),
    in_point=st.none() | st.integers(0, 6000),
    short=st.sampled_from(["hold", "slow", "refuse"]),
    hdr=st.sampled_from(["tonemap", "keep"]),
)


def _final_size(plan, start):
    w, h = start
    for name, _, kw in plan.video_filters:
        if name == "scale":
            w, h = kw.get("w", w), kw.get("h", h)
        elif name == "crop":
            assert kw["x"] >= 0 and kw["x"] + kw["w"] <= w and kw["y"] >= 0 and kw["y"] + kw["h"] <= h
            w, h = kw["w"], kw["h"]
        elif name == "pad":
            assert kw["x"] >= 0 and kw["x"] + w <= kw["w"] and kw["y"] >= 0 and kw["y"] + h <= kw["h"]
            w, h = kw["w"], kw["h"]
    return w, h


@settings(max_examples=200, deadline=None)
@given(sources(), targets(), choices)
def test_plan_always_makes_exactly_n_frames_of_the_target_size(source, target, choice):
    try:
        plan = plan_conform(source, target, choice)
    except BadInput:
        assert choice.in_point is not None and choice.in_point >= source.usable_frames
        return
    except UnsupportedRequest as refused:
        if "cannot carry HDR" in str(refused):
            assert choice.hdr == "keep" and source.color_transfer in ("smpte2084", "arib-std-b67")
            assert not (target.family.hdr and target.bit_depth >= 10)
        else:
            assert choice.short == "refuse" and "--short hold" in str(refused)
        return
    n = target.frames
    names = [f[0] for f in plan.video_filters]
    first_trim, last_trim = plan.video_filters[0], plan.video_filters[names.index("trim", 1)]
    # Never a frame past the usable ones (a partial or duplicated last frame is not a frame).
    assert first_trim[2]["start_frame"] == plan.in_frame >= 0
    assert first_trim[2]["end_frame"] <= source.usable_frames
    # Exactly N out: the graph cuts at N (not -frames:v, which would cut the audio short), and enough frames
    # reach the cut.
    assert last_trim[2] == {"end_frame": n} and "frames:v" not in plan.output_args()
    pad = next((f[2]["stop"] for f in plan.video_filters if f[0] == "tpad"), 0)
    used = first_trim[2]["end_frame"] - first_trim[2]["start_frame"]
    if plan.strategy in ("same", "speed"):
        assert used + pad >= n
    else:
        span = Fraction(used) / source.rate * plan.stretch
        assert math.floor(span * target.rate) + pad >= n
    # Exactly the target size, whatever the fit, rotation and pixel aspect.
    arriving = (source.height, source.width) if source.rotation in (90, 270) else (source.width, source.height)
    assert _final_size(plan, arriving) == (target.size.width, target.size.height)
    assert plan.pix_fmt == target.pix_fmt()
    # HDR is tone-mapped unless kept; the frames are labelled with exactly the tags written.
    hdr = source.color_transfer in ("smpte2084", "arib-std-b67")
    assert plan.tone_mapped == (hdr and choice.hdr == "tonemap") and ("tonemap" in names) == plan.tone_mapped
    assert plan.colour["color_trc"] == (
        "bt709" if plan.tone_mapped or not source.color_transfer else source.color_transfer
    )
    labels = next(kw for name, _, kw in plan.video_filters if name == "setparams")
    assert labels == {**{k: plan.colour[k] for k in ("color_primaries", "color_trc", "colorspace")}, "range": "tv"}
    if plan.has_audio:
        assert plan.audio_filters[-1][2] == {"end_sample": round(Fraction(n) / target.rate * 48000)}
    assert all(isinstance(line, str) and line for line in plan.describe())


@settings(max_examples=200, deadline=None)
@given(sources(), targets(), st.sampled_from(["fit", "fill"]))
def test_fit_and_fill_keep_the_picture_shape(source, target, fit):
    w, h = fit_geometry(source, target, fit)
    W, H = target.size.width, target.size.height
    sw, sh = source.display_size
    if fit == "fit":
        assert w <= W and h <= H and (w >= W - 2 or h >= H - 2)  # touches one pair of edges
    else:
        assert w >= W and h >= H and (w <= W + 2 or h <= H + 2)
    # The picture's shape is kept: each side within rounding to even pixels of the exact scale.
    scale = (min if fit == "fit" else max)(W * target.pixel_aspect / sw, Fraction(H, sh))
    assert abs(w - sw * scale / target.pixel_aspect) <= 2 and abs(h - sh * scale) <= 2


def _info(rate, frames=200, **kw):
    return MediaInfo(
        path=Path("gen.mp4"),
        width=1280,
        height=720,
        rate=Fraction(rate),
        frames=frames,
        pix_fmt="yuv420p",
        has_audio=False,
        **kw,
    )


@pytest.mark.parametrize(
    "src, dst, expect",
    [
        ("24", "24", "same"),
        ("24", "25", "speed"),  # 4.2%: the PAL speed-up
        ("25", "24000/1001", "speed"),
        ("24", "24000/1001", "speed"),
        ("24", "48", "nearest"),  # a multiple
        ("24000/1001", "48", "nearest"),  # close to a multiple
        ("30", "60000/1001", "nearest"),
        ("24", "30", "nearest"),  # 25% away
        ("16", "24", "nearest"),
    ],
)
def test_default_rate_rule(src, dst, expect):
    target = Target(frames=10, rate=dst, size="1280x720")
    assert choose_strategy(_info(src), target) == expect


def test_variable_rate_source_defaults_to_nearest():
    assert choose_strategy(_info("24", variable_rate=True), Target(frames=10, rate="24", size="1280x720")) == "nearest"


def test_speed_change_that_would_leave_it_short_repeats_frames_instead():
    # 192 frames at 24 -> 200 at 25 is short by speed change (192 < 200) but covered in time (8 s).
    plan = plan_conform(_info("24", 192), Target(frames=200, rate="25", size="1280x720"))
    assert plan.strategy == "nearest" and any("short" in n for n in plan.notes)


@pytest.mark.parametrize("anchor, first", [("start", 0), ("centre", 40), ("end", 80)])
def test_anchors(anchor, first):
    plan = plan_conform(_info("24", 200), Target(frames=120, rate="24", size="1280x720"), Choices(anchor=anchor))
    assert (plan.in_frame, plan.source_frames) == (first, 120)


def test_drop_last_ends_the_clip_before_the_sources_last_frames():
    """A head extension: the take's last frame (the model's copy of the clip's first) is left out, the slot
    ending on the frame before it; a source one frame too short is refused, not held."""
    target = Target(frames=120, rate="24", size="1280x720")
    plan = plan_conform(_info("24", 200), target, Choices(anchor="end", drop_last=1))
    assert (plan.in_frame, plan.source_frames) == (79, 120)  # frames 79..198; 199 is left out
    with pytest.raises(UnsupportedRequest, match="short"):
        plan_conform(_info("24", 120), target, Choices(anchor="end", drop_last=1))


def test_in_point_and_refusals():
    target = Target(frames=120, rate="24", size="1280x720")
    assert plan_conform(_info("24", 200), target, Choices(in_point=50)).in_frame == 50
    with pytest.raises(UnsupportedRequest, match="short.*--short hold"):
        plan_conform(_info("24", 200), target, Choices(in_point=100))
    with pytest.raises(BadInput, match="In-point"):
        plan_conform(_info("24", 200), target, Choices(in_point=200))


def test_hold_and_slow_words():
    target = Target(frames=120, rate="24", size="1280x720")
    hold = plan_conform(_info("24", 100), target, Choices(short="hold"))
    assert hold.hold_frames == 20 and "held for 20 frames" in " ".join(hold.describe())
    slow = plan_conform(_info("24", 100), target, Choices(short="slow"))
    assert slow.stretch == Fraction(6, 5) and "slowed" in " ".join(slow.describe())


def test_dry_run_command_is_ffmpeg():
    plan = plan_conform(_info("24", 100), Target(frames=48, rate="24000/1001", size="1920x1080"))
    cmd = plan.command("out.mov")
    assert cmd[-1] == "out.mov" and cmd[1:4] == ["-hide_banner", "-nostdin", "-y"] and "-filter_complex" in cmd
    assert "trim=end_frame=48" in cmd[cmd.index("-filter_complex") + 1] and cmd[cmd.index("-r") + 1] == "24000/1001"
    assert cmd[cmd.index("-c:v") + 1] == "prores_aw" and cmd[cmd.index("-pix_fmt") + 1] == "yuv422p10le"


def test_target_from_slot():
    slot = Slot(frames=100, rate="24000/1001", size="2048x858", bit_depth=12, prompt="a shot")
    t = Target.from_slot(slot)
    assert (t.frames, t.rate, str(t.size), t.codec, t.bit_depth) == (
        100,
        Fraction(24000, 1001),
        "2048x858",
        "prores-hq",
        10,
    )
    assert Target.from_slot(slot, codec="h264").bit_depth == 8
    assert Target.from_slot(slot, start_timecode="01:00:00:00").start_frame == 86400


def test_target_crosses_a_wire_exactly():
    t = Target(
        frames=100,
        rate="30000/1001",
        size="1440x1080",
        pixel_aspect="4/3",
        codec="dnxhr-hqx",
        start_timecode="01:00:00;00",
    )
    data = t.model_dump(mode="json")
    assert (data["rate"], data["size"], data["pixel_aspect"]) == ("30000/1001", "1440x1080", "4/3")
    back = Target.model_validate(data)
    assert back == t and back.timecode == "01:00:00;00" and back.is_drop_frame
