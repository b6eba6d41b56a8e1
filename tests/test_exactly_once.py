"""Promise 2 as users meet it: one job per request when the same shot is asked for twice in a batch,
when a crashed command is simply run again (SIGKILL, real processes), when two runs or two resumes go
at once; claims that lapse when their process dies; `resume --abandon` cancelling at the provider."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promptreel.core.cli import main
from promptreel.core.events import EventKind
from promptreel.core.journal import Journal, owner_id
from promptreel.core.providers.base import JobState
from tests.engine_env import clip, env  # noqa: F401  (fixtures)
from tests.postgres_env import database, pg_cluster  # noqa: F401  (fixtures)

# Every test here runs on this machine's SQLite journal and on a studio's PostgreSQL.
pytestmark = pytest.mark.usefixtures("database")

REPO = Path(__file__).resolve().parents[1]
GENERATE = ["generate", "a kite over the sea", "--model", "test-model", "--seconds", "4", "--variants", "3", "--json"]


def _cli(args: list[str], **env: str) -> subprocess.Popen:
    """promptreel in its own process, as a second terminal (or another seat, `env`) would run it."""
    script = (
        "import os, socket, sys, tests.fakes.testproto; from promptreel.core.cli import main\n"
        "if os.environ.get('PROMPTREEL_TEST_HOSTNAME'):  # a seat on another machine\n"
        "    socket.gethostname = lambda: os.environ['PROMPTREEL_TEST_HOSTNAME']\n"
        f"sys.exit(main({args!r}))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _until(what, journal: Journal, proc: subprocess.Popen | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not what(journal.jobs()):
        assert proc is None or proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _submitted(n: int):
    return lambda jobs: len(jobs) >= n and all(j.provider_job_id for j in jobs)


def _killed_generate(env) -> Journal:
    """`promptreel generate` (3 takes) killed with SIGKILL while its jobs are at the provider."""
    env.api.job_seconds = 600  # still polling when it dies
    journal = Journal.open_default()
    proc = _cli(GENERATE)
    try:
        _until(_submitted(3), journal, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
        proc.stdout.close(), proc.stderr.close()
    assert sum(env.api.creates.values()) == 3
    return journal


def test_resume_records_the_takes_of_a_killed_generate(env, capsys):
    from promptreel.core.takes import list_takes

    journal = _killed_generate(env)
    assert list_takes(journal) == []  # killed before it could record them
    env.api.job_seconds = 0
    assert main(["resume"]) == 0
    assert "Recorded the takes of 1 interrupted generate(s)" in capsys.readouterr().out
    takes = list_takes(journal)
    assert len(takes) == 3 and len({t.shot for t in takes}) == 1 and takes[0].kind == "variants"
    assert {t.job_id for t in takes} == {j.id for j in journal.jobs()} and all(t.path for t in takes)
    assert main(["resume"]) == 0 and len(list_takes(journal)) == 3  # recorded once
    journal.close()


def test_the_same_request_twice_in_a_batch_is_one_job_paid_once(env):
    results = env.run([env.plan(), env.plan(), env.plan(prompt="another kite")])
    assert [r.ok for r in results] == [True, True, True]
    assert results[0].job_id == results[1].job_id != results[2].job_id
    assert sorted(env.api.creates.values()) == [1, 1]  # two distinct requests, two jobs
    assert results[0].cost > 0 and results[1].cost == 0.0 and results[1].cached
    assert len(env.journal.jobs()) == 2


def test_a_crashed_generate_run_again_attaches_to_its_jobs(env, capsys):
    journal = _killed_generate(env)
    first = {j.id for j in journal.jobs()}
    assert sum(env.api.creates.values()) == 3

    env.api.job_seconds = 0
    assert main(GENERATE) == 0  # the user runs the same command again instead of `resume`
    results = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in results] == ["done"] * 3
    assert {r["job_id"] for r in results} == first  # the crashed run's jobs, collected
    assert sum(env.api.creates.values()) == 3 and set(env.api.creates) == first  # nothing made twice
    assert {j.id for j in journal.jobs()} == first
    assert main(["resume", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []
    journal.close()


def test_two_identical_runs_at_once_make_each_job_once(env):
    env.api.job_seconds = 1.0
    a, b = _cli(GENERATE), _cli(GENERATE)
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, [o[1].decode()[-2000:] for o in outs]
    ra, rb = (json.loads(o[0]) for o in outs)
    assert sum(env.api.creates.values()) == 3  # not 6
    assert {r["job_id"] for r in ra} == {r["job_id"] for r in rb}
    assert all(r["state"] == "done" and Path(r["path"]).is_file() for r in ra + rb)
    # One of the two paid; the other was handed the same takes at no cost.
    assert sorted(round(sum(r["cost_usd"] for r in rs), 2) for rs in (ra, rb)) == [0.0, 1.2]
    assert sum(env.api.downloads.values()) == 3


def test_two_resumes_at_once_download_each_job_once(env):
    journal = _killed_generate(env)
    env.api.job_seconds = 0.5
    a, b = _cli(["resume", "--json"]), _cli(["resume", "--json"])
    outs = [p.communicate(timeout=120) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, [o[1].decode()[-2000:] for o in outs]
    assert sum(env.api.downloads.values()) == 3 and set(env.api.downloads.values()) == {1}
    assert sum(env.api.creates.values()) == 3
    assert {j.state for j in journal.jobs()} == {JobState.DONE}
    journal.close()


def test_a_resume_beside_a_live_run_changes_nothing_it_owns(env, capsys):
    env.api.job_seconds = 1.5
    journal = Journal.open_default()
    live = _cli(GENERATE)
    try:
        _until(_submitted(3), journal, live)
        job = journal.jobs()[0].id
        # Abandoning or resending a job a live run drives is refused, and changes nothing.
        assert main(["resume", "--abandon", job]) == 2
        assert "being made by another promptreel process" in capsys.readouterr().err
        assert journal.get(job).state in (JobState.QUEUED, JobState.RUNNING)
        assert main(["resume", "--json"]) == 0  # waits on the live run's jobs and reports them
        resumed = json.loads(capsys.readouterr().out)
        out, err = live.communicate(timeout=120)
        assert live.returncode == 0, err.decode()[-2000:]
    finally:
        live.kill()
    assert [r["state"] for r in resumed] == ["done"] * 3 and all(r["cost_usd"] == 0 for r in resumed)
    assert sum(env.api.downloads.values()) == 3 and sum(env.api.creates.values()) == 3
    journal.close()


def test_resume_abandon_cancels_at_the_provider_and_deletes_partials(env):
    env.api.job_seconds = 600
    env.settings.poll_cap_seconds = 0.2  # the run stops polling and leaves the job for resume
    env.run([env.plan()])
    [job] = env.journal.jobs()
    assert job.state in (JobState.QUEUED, JobState.RUNNING)
    partial = Path(env.settings.output_dir) / f".{job.id}.part.mp4"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half a download")
    env.new_engine()
    env.resume(abandon=[job.id])
    assert env.journal.get(job.id).state is JobState.CANCELED
    assert env.api.cancels[job.provider_job_id] == 1
    assert not partial.exists()
    assert "cancel" in env.journal.get(job.id).error_message


def test_a_claim_lapses_when_its_process_dies(database):
    journal = Journal(database)
    me, other = owner_id(), owner_id()
    assert journal.claim("job_a", me)
    assert not journal.claim("job_a", other)  # held by a live process
    assert journal.claim("job_a", me)  # renewing one's own

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = f"{socket.gethostname()}/{dead.pid}/deadbeef"
    assert journal.claim("job_b", gone)
    assert journal.claim("job_b", me)  # its process is gone: taken at once, no lease to wait out

    elsewhere = "render-node-7/4242/cafe0000"  # another machine: only its lease tells
    assert journal.claim("job_c", elsewhere, seconds=0.2)
    assert not journal.claim("job_c", me)
    time.sleep(0.3)
    assert journal.claim("job_c", me)
    journal.close()


def test_a_killed_process_claim_is_taken_over_by_a_rerun(env):
    """SIGKILL leaves the claims behind; the re-run takes them over at once (the holder's pid is gone)."""
    journal = _killed_generate(env)
    assert journal.execute("SELECT count(*) FROM claims").fetchone()[0] == 3
    env.api.job_seconds = 0
    env.new_engine()
    assert [r.state for r in env.resume()] == [JobState.DONE] * 3
    # Taken over at once, since the holder's pid is gone: no job was waited on (no lease waited out).
    assert [e for e in env.events if e.kind is EventKind.WAITING] == []
    assert journal.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    journal.close()


@pytest.mark.parametrize("no_cache", [False, True])
def test_only_a_failed_job_or_no_cache_is_made_again(env, no_cache):
    env.api.refuse = "moderation"
    [failed] = env.run([env.plan()])
    assert not failed.ok
    env.api.refuse = None
    [again] = env.run([env.plan()], no_cache=no_cache)
    assert again.ok and again.job_id != failed.job_id
    [third] = env.run([env.plan()], no_cache=no_cache)
    assert third.cached != no_cache
    assert sum(env.api.creates.values()) == (2 if no_cache else 1)  # the refused create made no job


def test_repeated_uses_in_one_fill_make_one_job_each_at_its_own_length(env, tmp_path):
    from fractions import Fraction

    from promptreel.core.conform.probe import probe
    from promptreel.core.request import Slot
    from promptreel.core.slots import FillSettings, fill_slots

    def slot(frames: int, name: str) -> Slot:
        return Slot(
            frames=frames,
            rate=Fraction(24),
            size="320x180",
            prompt="the same kite",
            model="test-model",
            seed=7,
            name=name,
        )

    slots = [slot(12, "SH010"), slot(20, "SH020"), slot(12, "SH030")]  # one generation covers all three
    import asyncio

    clips = asyncio.run(fill_slots(slots, FillSettings(output_dir=tmp_path), engine=env.engine))
    assert all(c.ok for c in clips), [c.error for c in clips]
    assert sum(env.api.creates.values()) == 1
    assert [probe(c.path).frames for c in clips] == [12, 20, 12]
    assert clips[0].path == clips[2].path != clips[1].path  # the same length conformed once
    assert len({c.provenance.job_id for c in clips}) == 1
    assert sum(c.provenance.cost for c in clips) == clips[0].provenance.cost > 0


def test_sandbox_jobs_are_kept_apart_from_real_spend(tmp_path, clip, monkeypatch, capsys):
    """A route sent to loopback with the sandbox's placeholder key is the sandbox: its price is not money.
    The same loopback route with a real-looking key (a local proxy) is real spend."""
    import asyncio

    from promptreel.core.catalog import load_catalog
    from promptreel.core.engine import Engine
    from promptreel.core.plan import PlannedRequest
    from promptreel.core.request import GenerationRequest
    from tests.engine_env import write_settings
    from tests.fakes.testproto import KEY_NAME, FakeJobAPI

    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path))
    for key, sandboxed in (("sbx-placeholder-key-0000", True), ("sk-live-proxy-5f1c0a77", False)):
        monkeypatch.setenv(KEY_NAME, key)
        with FakeJobAPI(clip, key=key) as api:
            settings = write_settings(tmp_path, api.url, daily_cap_usd=0.5)
            journal = Journal.open_default()
            engine = Engine(load_catalog(settings.catalog_file), journal, settings)
            req = GenerationRequest(prompt=f"kite {key}", model="test-model", seconds=4, size="1280x720")
            [r] = asyncio.run(engine.run([PlannedRequest(req)]))
            assert r.ok and r.cost == 0.4
            assert journal.spent_on() == (0.0 if sandboxed else 0.4)
            journal.close()
    assert main(["cost", "--by", "model", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["test-model,0.4000,1"]
    assert main(["cost", "--by", "model", "--csv", "--sandbox"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["test-model,0.4000,1"]


def test_a_dead_seat_elsewhere_holds_its_jobs_until_its_lease_lapses_then_any_seat_finishes_them(env, capsys):
    """A seat on another machine killed mid-job: its pid cannot be checked from here, so its claims hold
    until their lease lapses (here: made to lapse, not waited out); then this seat collects its jobs."""
    env.api.job_seconds = 600
    journal = Journal.open_default()
    seat_b = _cli(GENERATE, PROMPTREEL_TEST_HOSTNAME="render-node-7")
    try:
        _until(_submitted(3), journal, seat_b)
        seat_b.send_signal(signal.SIGKILL)
        seat_b.wait()
    finally:
        seat_b.kill()
        seat_b.stdout.close(), seat_b.stderr.close()
    owners = {r[0] for r in journal.execute("SELECT owner FROM claims")}
    assert len(owners) == 1 and owners.pop().startswith("render-node-7/")
    job = journal.jobs()[0].id
    assert main(["resume", "--abandon", job]) == 2  # still held: the other seat may be alive
    assert "being made by another promptreel process" in capsys.readouterr().err
    journal.execute("UPDATE claims SET expires_at = ?", (time.time() - 1,))  # 30 s later
    env.api.job_seconds = 0
    assert main(["resume", "--json"]) == 0
    assert [r["state"] for r in json.loads(capsys.readouterr().out)] == ["done"] * 3
    assert sum(env.api.creates.values()) == 3 and journal.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    journal.close()


def test_a_take_another_seat_made_that_this_one_cannot_read_is_not_paid_for_again(env):
    from promptreel.core.errors import BadInput

    [made] = env.run([env.plan()])
    assert made.ok and sum(env.api.creates.values()) == 1
    env.journal.update(made.job_id, host="edit-bay-2")  # made on another seat of the studio's database...
    made.path.unlink()  # ...whose media folder this machine does not have mounted
    with pytest.raises(BadInput, match="edit-bay-2.*cannot read"):
        env.run([env.plan()])
    assert sum(env.api.creates.values()) == 1  # refused before anything was spent
    [fresh] = env.run([env.plan()], no_cache=True)  # the editor's explicit choice
    assert fresh.ok and sum(env.api.creates.values()) == 2


def test_this_seats_own_deleted_take_is_made_again(env):
    [made] = env.run([env.plan()])
    made.path.unlink()
    [again] = env.run([env.plan()])
    assert again.ok and again.job_id != made.job_id and sum(env.api.creates.values()) == 2
