"""Colour with the real ffmpeg: full range converted (measured), tags carried or Rec.709, HDR tone-mapped or kept."""

from __future__ import annotations

import pytest

from promptreel.core.conform.execute import conform, execute
from promptreel.core.conform.plan import Choices, plan_conform
from promptreel.core.conform.probe import probe
from promptreel.core.conform.target import Target
from promptreel.core.errors import UnsupportedRequest
from tests.conform import media

# 10-bit limited-range levels of the bars (black, grey 128/255, white, red) and red's Cr.
LIMITED = {"black": 64, "grey": 502, "white": 940}
RED_CR = 960  # 10-bit limited-range Cr of full red (BT.709)


def _bars(path):
    frame = media.first_frame(path)
    luma = [media.pixel(frame, x + 40, 90) for _, x in media.BARS]
    return luma, media.pixel(frame, (media.BARS[3][1] + 40) // 2, 90, plane=2)  # 4:2:2: chroma is half width


@pytest.mark.parametrize("source", ["bars_full", "bars"])
def test_full_and_limited_range_sources_come_out_at_limited_levels(clips, tmp_path, source):
    target = Target(frames=4, rate="24", size="320x180")
    plan = plan_conform(probe(clips[source]), target)
    assert plan.range_converted is (source == "bars_full")
    out = execute(plan, tmp_path / "out.mov")
    assert out.color_range == "tv"
    (black, grey, white, _), cr = _bars(out.path)
    # A relabelled full-range source would read black 0, white 1020.
    assert abs(black - LIMITED["black"]) <= 4 and abs(white - LIMITED["white"]) <= 4
    assert abs(grey - LIMITED["grey"]) <= 6
    assert abs(cr - RED_CR) <= 8


def test_colour_tags_carried_or_rec709(clips, tmp_path):
    tagged = conform(
        clips["pq"], tmp_path / "keep.mov", Target(frames=4, rate="24", size="320x180"), Choices(hdr="keep")
    )
    assert (tagged.color_primaries, tagged.color_transfer, tagged.color_matrix) == ("bt2020", "smpte2084", "bt2020nc")
    plan = plan_conform(probe(clips["24"]), Target(frames=4, rate="24", size="320x180"))  # testsrc2: untagged
    assert any("written as Rec.709" in n for n in plan.notes)
    untagged = execute(plan, tmp_path / "untagged.mov")
    assert (untagged.color_primaries, untagged.color_transfer, untagged.color_matrix) == ("bt709",) * 3


@pytest.mark.parametrize("source, name", [("pq", "PQ"), ("hlg", "HLG")])
def test_hdr_is_tone_mapped_to_rec709_by_default(clips, tmp_path, source, name):
    info = probe(clips[source])
    relabelled = media.pixel(media.first_frame(clips[source]), 300, 90)  # HDR code value of SDR white
    plan = plan_conform(info, Target(frames=4, rate="24", size="320x180"))
    assert plan.tone_mapped and f"HDR ({name}, bt2020) tone-mapped to SDR Rec.709" in "\n".join(plan.describe())
    out = execute(plan, tmp_path / "out.mov")
    assert (out.color_primaries, out.color_transfer, out.color_matrix, out.color_range) == ("bt709",) * 3 + ("tv",)
    frame = media.first_frame(out.path)
    grey, white = media.pixel(frame, 20, 90), media.pixel(frame, 300, 90)
    # Midtones land where SDR puts them; white is bright SDR, far above the HDR code value it came from.
    assert abs(grey - LIMITED["grey"]) <= 20
    assert white >= 760 and white - relabelled >= 150


def test_hdr_kept_when_asked_and_the_codec_carries_it(clips, tmp_path):
    target = Target(frames=4, rate="24", size="320x180", codec="h265-10")
    plan = plan_conform(probe(clips["pq"]), target, Choices(hdr="keep"))
    assert not plan.tone_mapped and "HDR (PQ) kept" in "\n".join(plan.describe())
    out = execute(plan, tmp_path / "out.mp4")
    assert (out.color_primaries, out.color_transfer) == ("bt2020", "smpte2084")
    src_white = media.pixel(media.first_frame(clips["pq"]), 300, 90)
    assert abs(media.pixel(media.first_frame(out.path), 300, 90) - src_white) <= 6  # the PQ code value, untouched


def test_keeping_hdr_in_an_8_bit_codec_is_refused(clips):
    target = Target(frames=4, rate="24", size="320x180", codec="h264", bit_depth=8)
    with pytest.raises(UnsupportedRequest, match="cannot carry HDR.*prores-hq.*h265-10"):
        plan_conform(probe(clips["hlg"]), target, Choices(hdr="keep"))
