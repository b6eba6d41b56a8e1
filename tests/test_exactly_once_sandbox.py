"""The double-pay cases of the field, end to end through a vendor's sandbox fake (Kling's wire protocol),
with real `promptreel fill` processes: a fill killed with -9 mid-poll and simply run again, and two
identical fills at once, each make exactly one create per shot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import opentimelineio as otio
import pytest

from promptreel.core.journal import Journal
from promptreel.core.sandbox.run import sandbox
from tests.otio_helpers import write_cut

REPO = Path(__file__).resolve().parents[1]
SHOTS = 4

# promptreel as the user runs it, but with the engine's waits between polls cut short (the fake's latency,
# not the route's 5 s cadence, decides when a job is done).
CHILD = """
import asyncio, sys
from promptreel.core.engine import Engine

init = Engine.__init__

def quick(self, *a, **kw):
    init(self, *a, **kw)

    async def brief(seconds):
        await asyncio.sleep(0.05)

    self.sleep = brief

Engine.__init__ = quick
from promptreel.core.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def kling(tmp_path):
    with sandbox(["kling"]) as env:
        yield (
            env,
            {
                **os.environ,
                **env,
                "PROMPTREEL_HOME": str(tmp_path / "home"),
                "PYTHONPATH": str(REPO),
                "PROMPTREEL_NO_BROWSER": "1",
            },
        )


def _cut(tmp_path: Path) -> Path:
    gaps = [
        otio.schema.Gap(
            name=f"GEN: shot {i} of a lighthouse at dusk",
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(12, 24)),
        )
        for i in range(SHOTS)
    ]
    return write_cut(tmp_path / "cut.otio", gaps, size="320x180")


def _fill(env: dict, cut: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            "fill",
            str(cut),
            "-o",
            str(out),
            "--model",
            "kling-v3",
            "--codec",
            "h264",
            "--force",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _jobs(path: Path) -> list:
    if not path.exists():
        return []
    journal = Journal(path)
    try:
        return journal.jobs()
    finally:
        journal.close()


def _filled(out: Path) -> int:
    timeline = otio.adapters.read_from_file(str(out))
    return sum(1 for c in timeline.find_clips() if c.media_reference and c.media_reference.target_url)


def test_a_fill_killed_mid_poll_and_run_again_makes_each_job_once(kling, tmp_path):
    fakes, env = kling
    fake = fakes.fakes["kling"]
    fake.latency = 600  # every job still running when the fill dies
    cut, out = _cut(tmp_path), tmp_path / "filled.otio"
    proc = _fill(env, cut, out)
    journal_path = tmp_path / "home" / "journal.sqlite"
    try:
        deadline = time.monotonic() + 90
        while True:
            jobs = _jobs(journal_path)
            if len(jobs) == SHOTS and all(j.provider_job_id for j in jobs):
                break
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the fill never journaled its provider job ids"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.stdout.close(), proc.stderr.close()
    assert fake.creates == SHOTS

    fake.latency = 0
    again = _fill(env, cut, out)  # the user runs the same command again
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()[-3000:]
    assert fake.creates == SHOTS  # not 2 x SHOTS
    assert _filled(out) == SHOTS


def test_two_identical_fills_at_once_make_each_job_once(kling, tmp_path):
    fakes, env = kling
    fake = fakes.fakes["kling"]
    fake.latency = 1.0
    cut = _cut(tmp_path)
    a, b = _fill(env, cut, tmp_path / "a.otio"), _fill(env, cut, tmp_path / "b.otio")
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert (a.returncode, b.returncode) == (0, 0), [o[1].decode()[-3000:] for o in outs]
    assert fake.creates == SHOTS  # not 2 x SHOTS
    assert _filled(tmp_path / "a.otio") == _filled(tmp_path / "b.otio") == SHOTS
