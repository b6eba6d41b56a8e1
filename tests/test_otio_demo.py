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
    assert [c.duration().value for c in board.find_clips()] == [24, 36, 60]
    for clip, frames in zip(filled.find_clips(), (24, 36, 60)):
        assert_frame_exact(clip, frames, Fraction(24))
        assert clip.media_references()[PLACEHOLDER_KEY].generator_kind == "SolidColor"
    assert [r[0] for r in result.summary_rows()] == ["SH010", "SH020", "SH030"]
    assert all(r[4] == "0.00" for r in result.summary_rows())


def test_demo_command_is_the_two_command_main_job(tmp_path):
    """`promptreel demo` as the README runs it: exit 0, three shots of different lengths read back
    from the files, cost 0, no key and no network."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_TOKEN", "_API_SECRET"))}
    out = subprocess.run([sys.executable, "-m", "promptreel.core.cli", "demo", "--out", str(tmp_path / "d"),
                          "--size", "320x180"], capture_output=True, text=True, env={**env, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    rows = [line.split("│") for line in out.stdout.splitlines() if "SH0" in line]
    assert [(r[1].strip(), r[3].strip(), r[5].strip()) for r in rows] == [
        ("SH010", "24", "320x180"), ("SH020", "36", "320x180"), ("SH030", "60", "320x180")]
    assert "total cost: $0.00" in out.stdout and (tmp_path / "d" / "filled.otio").is_file()
