"""Ctrl-C during a fill: the clips already conformed keep their provenance (AI disclosure, original,
sidecar); the conform still running is stopped and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import opentimelineio as otio

from promptreel.core.provenance import sidecar_path
from tests.otio_helpers import write_cut

REPO = Path(__file__).resolve().parents[1]


def _gap(name: str, frames: int) -> otio.schema.Gap:
    return otio.schema.Gap(
        name=name,
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(frames, 24)),
    )


def _finished(media: Path) -> list[Path]:
    return [p for p in media.glob("*.mov") if not p.name.startswith(".")]


def test_ctrl_c_during_a_fill_keeps_provenance_of_finished_clips(tmp_path):
    # One short shot conforms in a moment; one long ProRes shot is still conforming when Ctrl-C comes.
    cut = write_cut(
        tmp_path / "cut.otio", [_gap("GEN: a quick flash", 12), _gap("GEN: a very long take", 1200)], size="640x360"
    )
    media = tmp_path / "media"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promptreel.core.cli",
            "fill",
            str(cut),
            "-o",
            str(tmp_path / "filled.otio"),
            "--model",
            "draft",
            "--media-dir",
            str(media),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not (_finished(media) and list(media.glob(".*.partial.*"))):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the fill never reached its conforms"
            time.sleep(0.05)
        time.sleep(0.5)  # let the short clip's provenance land (it is kept the moment its conform is done)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert b"Traceback" not in err, err.decode()[-3000:]
    finished = _finished(media)
    assert finished, "the short clip was conformed before Ctrl-C"
    for clip in finished:
        assert sidecar_path(clip).is_file(), f"{clip.name} has no provenance"
    assert not list(media.glob(".*.partial.*"))  # the long conform was stopped and cleaned
    assert not (tmp_path / "filled.otio").exists()  # no half-filled timeline
