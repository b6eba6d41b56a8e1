"""A conform killed with -9 leaves no ffmpeg running and, by the next run, no half-written clip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptreel.core.conform.execute import clean_stale_partials

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from fractions import Fraction
from promptreel.core.conform.execute import conform
from promptreel.core.conform.target import Target
from promptreel.core.providers.draft import render_draft
from promptreel.core.request import GenerationRequest

src, out = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    render_draft(GenerationRequest(prompt="a long take", frames=2400, fps=24, size="320x180"), src)
print("conforming", flush=True)
conform(src, out, Target(frames=2400, rate=Fraction(24), size="1920x1080", codec="prores-hq"))
"""


def _ffmpeg_writing(folder: Path) -> list[int]:
    """Processes whose command line names `folder` (the ffmpeg a conform started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(folder) in cmd and "ffmpeg" in cmd and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_conform_leaves_no_ffmpeg_and_its_partial_is_cleaned(tmp_path):
    src, out_dir = tmp_path / "src.mp4", tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(src), str(out_dir / "clip.mov"), "render"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline().strip() == b"conforming", proc.stderr.read().decode()
        deadline = time.monotonic() + 60
        while not (list(out_dir.glob(".*.partial.*")) and _ffmpeg_writing(out_dir)):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the conform never started writing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.stdout.close(), proc.stderr.close()
    deadline = time.monotonic() + 10
    while _ffmpeg_writing(out_dir):  # the kernel stops it with its parent
        assert time.monotonic() < deadline, "ffmpeg outlived the process that started it"
        time.sleep(0.05)
    [partial] = out_dir.glob(".*.partial.*")
    assert clean_stale_partials(out_dir) == [partial] and not partial.exists()


def test_a_live_process_partial_is_left_alone(tmp_path):
    mine = tmp_path / f".clip.{os.getpid()}-0123abcd.partial.mov"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".clip.{dead.pid}-0123abcd.partial.mov"
    other = tmp_path / ".notes.partial.txt"  # not one of ours
    for p in (mine, stale, other):
        p.write_bytes(b"x")
    assert clean_stale_partials(tmp_path) == [stale]
    assert mine.exists() and other.exists() and not stale.exists()
