"""Promises 1, 2 and 5 end to end: a crashed batch is collected by `resume` (for real, SIGKILL),
a crash mid-create is reconciled, and a planted key appears nowhere."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.keys import install_log_redaction
from promptreel.core.providers.base import JobState
from tests.engine_env import PLANTED_KEY, clip, env  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]


def test_crash_after_creates_then_resume_collects_each_job_once(env, capsys):
    env.api.job_seconds = 600  # the batch is still polling when it dies
    script = (
        "import sys, tests.fakes.testproto; from promptreel.core.cli import main; "
        "sys.exit(main(['generate', 'a kite over the sea', '--model', 'test-model', '--seconds', '4', "
        "'--variants', '4', '--json']))"
    )
    child_env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    journal = Journal(env.home / "journal.sqlite")
    try:
        deadline = time.monotonic() + 60
        while True:
            jobs = journal.jobs()
            if len(jobs) == 4 and all(j.provider_job_id for j in jobs):
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the batch never journaled its provider job ids"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert {j.state for j in journal.jobs()} <= {JobState.QUEUED, JobState.RUNNING}
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert sorted(env.api.creates.values()) == [1, 1, 1, 1]

    env.api.job_seconds = 0
    assert main(["resume", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in results] == ["done"] * 4
    ids = {j.id for j in journal.jobs()}
    assert {r["job_id"] for r in results} == ids
    assert set(env.api.creates) == ids and sorted(env.api.creates.values()) == [1, 1, 1, 1]  # created exactly once
    assert sum(env.api.downloads.values()) == 4
    for r in results:
        assert Path(r["path"]).is_file() and r["frames"] == 24
    journal.close()
    assert main(["resume", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []


def test_crash_while_submitting_is_reconciled_not_resent(env):
    """The journal says SUBMITTING (we died with the create in flight) and the provider did make the job."""
    planned = env.plan()
    job_id = env.journal.add_job(
        batch_id="b",
        request=planned.request.model_dump(mode="json"),
        cache_key=planned.request.cache_key() + ":0",
        variant=0,
        model="test-model",
        route_key="testproto:tm-1",
        estimated_cost=0.4,
    )
    env.journal.set_submitting(job_id, "testproto:tm-1")
    httpx.post(
        f"{env.api.url}/v1/models/tm-1/jobs",
        json={"prompt": "x", "client_ref": job_id},
        headers={"Authorization": f"Bearer {PLANTED_KEY}"},
    )  # the create that got through
    results = env.resume()
    assert results[0].ok
    assert env.api.creates[job_id] == 1
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1


def test_planted_key_appears_nowhere(env, caplog):
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    env.run([env.plan(prompt="this one works")])  # success
    env.api.drop_creates = 1
    env.run([env.plan(prompt="answer lost", model="test-blind")])  # unknown outcome
    env.api.truncate_downloads = 1
    env.api.rate_limit_creates, env.api.fail_creates = 1, 1
    env.run([env.plan(prompt="bumpy but fine")])
    env.api.key = "the-server-wants-another-key"  # 401s that echo the key we sent
    failed = env.run([env.plan(prompt="wrong key")])
    assert failed[0].state is JobState.FAILED and failed[0].error_kind == "auth"
    assert "[redacted]" in failed[0].error  # the provider echoed it; we blanked it
    env.journal.close()

    texts = [caplog.text, *(r.error or "" for r in failed), *(e.reason or "" for e in env.events)]
    assert caplog.text  # the engine did log at DEBUG
    for text in texts:
        assert PLANTED_KEY not in text
    blob = b"".join(p.read_bytes() for p in env.home.glob("journal.sqlite*"))
    assert b"[redacted]" in blob and PLANTED_KEY.encode() not in blob


def test_a_route_that_cannot_authenticate_here_gives_way_to_the_next(tmp_path, monkeypatch):
    """Veo 3.1 lists Vertex first; with no Google credentials on this machine and a Replicate token,
    the engine takes Replicate for the same model instead of failing on Vertex."""
    from promptreel.core.catalog import load_catalog
    from promptreel.core.engine import Engine
    from promptreel.core.journal import Journal
    from promptreel.core.settings import Settings

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_" + "x" * 37)
    catalog = load_catalog()
    engine = Engine(catalog, Journal(tmp_path / "j.sqlite"), Settings())
    veo = catalog.get("veo-3.1")
    assert engine._pick_route(veo).protocol == "replicate"

    key = tmp_path / "sa.json"
    key.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert engine._pick_route(veo).protocol == "vertex"  # the preferred route, once it can authenticate


def test_a_success_and_its_charge_go_in_together(env):
    """A run stopped between a job's success and its charge (here the ledger refuses the line) leaves the job
    where `resume` polls it again and charges it once: never a paid take downloaded and never charged."""
    env.journal.execute("CREATE TRIGGER refuse_ledger BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'no'); END")
    [result] = env.run([env.plan()])
    assert not result.ok and result.resumable
    job = env.journal.job(result.job_id)
    assert job.provider_job_id and job.state is JobState.QUEUED  # not SUCCEEDED without its charge
    assert env.journal.spend() == []

    env.journal.execute("DROP TRIGGER refuse_ledger")
    [again] = env.resume()
    assert again.ok and again.job_id == job.id
    assert [(total, jobs) for _, total, jobs in env.journal.spend()] == [(0.4, 1)]
    assert list(env.api.creates.values()) == [1]
