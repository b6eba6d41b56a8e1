"""The OTIO half of the demo runs the whole path offline: storyboard, drafts, fill, filled timeline."""

from fractions import Fraction

import opentimelineio as otio

from otio_helpers import assert_frame_exact
from promptreel.otio_adapters.demo import run_demo
from promptreel.otio_adapters.writeback import PLACEHOLDER_KEY


def test_demo_full_path_offline(tmp_path):
    result = run_demo(tmp_path / "démo run")
    board = otio.adapters.read_from_file(str(result.board))
    filled = otio.adapters.read_from_file(str(result.filled))
    assert [c.duration().value for c in board.find_clips()] == [24, 36, 36]
    for clip, frames in zip(filled.find_clips(), (24, 36, 36)):
        assert_frame_exact(clip, frames, Fraction(24))
        assert clip.media_references()[PLACEHOLDER_KEY].generator_kind == "SolidColor"
    assert [r[0] for r in result.summary_rows()] == ["SH010", "SH020", "SH030"]
    assert all(r[4] == "0.00" for r in result.summary_rows())
