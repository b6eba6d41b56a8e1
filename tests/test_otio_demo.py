"""The OTIO half of the demo runs the whole path offline: storyboard, drafts, fill, filled timeline."""

from fractions import Fraction

import opentimelineio as otio
from otio_helpers import assert_frame_exact

from promptreel.core.timeline.writeback import PLACEHOLDER_KEY
from promptreel.otio_adapters.demo import run_demo


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


def test_demo_reports_one_job_per_shot(tmp_path):
    events = []
    result = run_demo(tmp_path / "d", on_event=events.append)
    jobs = {e.job_id for e in events}
    assert len(jobs) == len(result.report.filled) == 3
    assert {f.provenance.job_id for _, f in result.report.filled} == jobs


def test_demo_command_is_the_two_command_main_job(tmp_path):
    """`promptreel demo` as the README runs it: exit 0, three shots of different lengths read back
    from the files, cost 0, no key and no network."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_TOKEN", "_API_SECRET"))}
    out = subprocess.run(
        [sys.executable, "-m", "promptreel.core.cli", "demo", "--out", str(tmp_path / "d"), "--size", "320x180"],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "80"},
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split("│") for line in out.stdout.splitlines() if "SH0" in line]
    # At 80 columns nothing an editor reads is cut: whole timecodes, no ellipsis (the file and codec give way).
    assert [(r[1].strip(), r[2].strip(), r[3].strip(), r[4].strip(), r[6].strip()) for r in rows] == [
        ("SH010", "draft", "01:00:00:00", "24", "320x180"),
        ("SH020", "draft", "01:00:01:00", "36", "320x180"),
        ("SH030", "draft", "01:00:02:12", "60", "320x180"),
    ]
    assert "…" not in out.stdout
    # One job row per shot: the draft slates the board is made of are not jobs of their own.
    assert [line.split()[0] for line in out.stderr.splitlines() if line.startswith("SH0")] == [
        "SH010",
        "SH020",
        "SH030",
    ]
    assert "total cost: $0.00" in out.stdout and (tmp_path / "d" / "filled.otio").is_file()


def test_demo_through_the_sandbox_fills_each_shot_on_its_own_model(tmp_path, monkeypatch):
    """`demo --sandbox`: Gemini Omni, Kling and Runway through their loopback fakes (real HTTP, real media),
    each shot conformed frame-exact; the fakes' jobs stay in the demo's own journal."""
    from promptreel.core.conform.probe import probe
    from promptreel.core.sandbox.media import Limit
    from promptreel.core.sandbox.run import sandbox
    from promptreel.otio_adapters.demo import SANDBOX_SHOTS

    with sandbox(routes=["gemini", "kling", "runway"], limit=Limit(seconds=None), export=True) as env:
        # Small frames, but each model's real length: conform must trim, not be handed a short clip.
        result = run_demo(tmp_path / "sbx", model=None, shots_csv=SANDBOX_SHOTS)
        creates = {route: fake.creates for route, fake in env.fakes.items()}
    models = [f.provenance.model for _, f in result.report.filled]
    assert models == ["gemini-omni-1.2-flash", "kling-v3", "gen-4.5"]
    for (ph, filled), frames in zip(result.report.filled, (24, 36, 60)):
        assert probe(filled.path).frames == frames == ph.frames
    assert creates == {"gemini": 1, "kling": 1, "runway": 1}  # one create per shot, no resend
    assert result.report.cost > 0
