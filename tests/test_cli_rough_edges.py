"""The command line's rough edges a new user met: `conform` starting with a blank line and silent until
done off a terminal, `resolve edits` printing nothing when there are none, `doctor` listing problems and
then saying everything is in place."""

from __future__ import annotations

import subprocess

from promptreel.core.cli import main
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.resolve_plugin.checkup import report_text
from promptreel.resolve_plugin.doctor import Check


def test_conform_off_a_terminal_says_it_started_and_how_far_it_is_and_prints_no_blank_line(tmp_path, capsys):
    source = tmp_path / "a.mov"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x180:r=24:d=2", str(source)], check=True
    )
    assert main(["conform", str(source), "-o", str(tmp_path / "b.mov"), "--frames", "40", "--fps", "25"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0].startswith(f"{tmp_path / 'b.mov'}: 40 frames at 25 fps")
    assert out.err.splitlines()[0] == "conform a.mov: 40 frames" and out.err.splitlines()[-1].endswith("(100%)")


def test_resolve_edits_says_when_there_are_none(capsys):
    assert main(["resolve", "edits"]) == 0
    assert capsys.readouterr().out.startswith("No fills recorded yet")


def test_doctor_never_says_everything_is_in_place_under_a_problem():
    fine = Check("ffmpeg", True, "7.1", essential=True, section="promptreel")
    warned = Check("keys", False, "no key for any paid route", fix="promptreel keys set ...", section="promptreel")
    assert report_text([fine]).splitlines()[-1] == "Everything promptreel needs is in place."
    assert report_text([fine, warned]).splitlines()[-1] == "promptreel can run; 1 problem(s) to look at: keys."
    broken = Check("ffmpeg", False, "missing", essential=True, section="promptreel")
    assert report_text([broken, warned]).splitlines()[-1] == "1 essential problem(s): ffmpeg."
