"""`promptreel db`: status and upgrade of a journal made before this version, and `db copy` moving a
seat's history into a shared PostgreSQL, from which any seat's `resume` then collects its jobs."""

from __future__ import annotations

import json

import pytest

from promptreel.core import store
from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.prompts.templates import TemplateStore, new_template
from promptreel.core.providers.base import JobState
from tests.engine_env import clip, env  # noqa: F401  (fixtures)
from tests.postgres_env import pg_cluster  # noqa: F401  (fixtures)

BEFORE = 7  # the schema the previous promptreel wrote


def _journal_of_the_previous_version(path, monkeypatch) -> None:
    """A journal at schema 7, written as the previous promptreel wrote it (its columns, its statements)."""
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:BEFORE])
        m.setattr(store, "LATEST", BEFORE)
        db = store.connect(path)
    jobs = [("job_done", "done", "k1:0", None), ("job_open", "queued", "k2:0", "k2:0")]
    for job_id, state, key, live in jobs:
        db.execute(
            "INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, provider_job_id,"
            " state, created_at, updated_at, estimated_cost, live_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                job_id,
                "b1",
                '{"prompt": "kite"}',
                key,
                0,
                "test-model",
                "testproto:test-1",
                "prov-" + job_id,
                state,
                "2026-12-01T10:00:00",
                "2026-12-01T10:00:00",
                0.4,
                live,
            ),
        )
    db.execute(
        "INSERT INTO ledger (job_id, at, day, model, project, amount, estimated, sandbox)"
        " VALUES ('job_done', '2026-12-01T10:01:00', '2026-12-01', 'test-model', 'film', 0.4, 0, 0)"
    )
    db.execute(
        "INSERT INTO takes (id, group_id, shot, kind, position, model, seed, variant, job_id, slot, provenance,"
        " created_at) VALUES ('take_1', 'group_1', 'SH010', 'variants', 0, 'test-model', 4294967296, 0,"
        " 'job_done', '{}', '{}', '2026-12-01T10:02:00')"
    )
    db.close()


def test_db_status_and_upgrade_of_a_journal_from_the_previous_version(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path))
    path = tmp_path / "journal.sqlite"
    assert main(["db", "status"]) == 0 and "none yet" in capsys.readouterr().out
    _journal_of_the_previous_version(path, monkeypatch)
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{path} (SQLite)" in out and f"schema: {BEFORE} of {store.LATEST}" in out and "db upgrade" in out
    assert "jobs: 2" in out
    assert store.inspect(path).version == BEFORE  # status changed nothing
    assert main(["db", "upgrade"]) == 0
    assert f"from schema {BEFORE} to {store.LATEST}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0 and "(up to date)" in capsys.readouterr().out
    journal = Journal(path)
    assert {j.id: j.state for j in journal.jobs()} == {"job_done": JobState.DONE, "job_open": JobState.QUEUED}
    assert journal.live_job("k2:0") == "job_open" and journal.spend("project") == [("film", 0.4, 1)]
    assert journal.execute("SELECT seed FROM takes").fetchone()[0] == 4294967296
    journal.close()


def test_db_copy_moves_a_seat_history_and_any_seat_collects_it(env, pg_cluster, monkeypatch, capsys):
    env.run([env.plan()])  # a finished, paid take
    env.api.job_seconds = 600
    env.settings.poll_cap_seconds = 0.2  # this one is left at the provider, for resume
    [left] = env.run([env.plan(prompt="still at the provider")])
    assert left.resumable
    TemplateStore().save(new_template("night", "{subject} at night", ["ext"]))
    env.journal.add_edit(left.job_id, "otio_clip", "track 1 / item 2", {"media": "placeholder"}, {"media": "x"})
    before_jobs = {j.id: j.state for j in env.journal.jobs()}
    assert main(["cost", "--csv"]) == 0
    spend = capsys.readouterr().out

    url = pg_cluster.new_database()
    assert main(["db", "copy", "--to", url]) == 0
    out = capsys.readouterr().out
    assert "2 jobs" in out and "1 ledger" in out and "1 edits" in out and "1 templates" in out
    assert main(["db", "copy", "--to", url]) == 0  # a second copy adds nothing
    assert "Copied nothing new" in capsys.readouterr().out

    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", url)  # this seat (or any other) now uses the shared one
    shared = Journal.open_default()
    assert shared.backend == "postgresql"
    assert {j.id: j.state for j in shared.jobs()} == before_jobs
    assert len(shared.edits()) == 1 and [t.name for t in TemplateStore().list()] == ["night"]
    assert main(["cost", "--csv"]) == 0 and capsys.readouterr().out == spend
    env.api.job_seconds = 0
    assert main(["resume", "--json"]) == 0
    [collected] = json.loads(capsys.readouterr().out)
    assert collected["job_id"] == left.job_id and collected["state"] == "done"
    assert sum(env.api.creates.values()) == 2  # collected, not made again
    shared.close()


@pytest.mark.parametrize("url", ["mysql://db/studio", "/tmp/other.sqlite"])
def test_db_copy_wants_a_postgresql_url(url, capsys):
    assert main(["db", "copy", "--to", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a PostgreSQL URL" in err[0]


def test_an_unreachable_database_is_one_line_with_its_fix_and_no_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", f"postgresql://seat:s3cret-pw@/studio?host={tmp_path}")
    assert main(["jobs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Cannot reach the database" in err[0] and "database_url" in err[0]
    assert "s3cret-pw" not in err[0] and "seat:***@" in err[0]


def test_the_sandbox_demo_never_writes_to_a_shared_database(tmp_path, monkeypatch):
    """`demo --sandbox` keeps its pretend jobs in its own folder's journal, even on a studio seat."""
    from promptreel.core.errors import BadInput
    from promptreel.otio_adapters import demo

    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", "postgresql://seat@db.studio.invalid/promptreel")
    seen = []

    def stand_in(*args, **kw):  # where the demo's engine would write, then stop (the demo itself is tested elsewhere)
        seen.append(store.default_target())
        raise BadInput("stop here", "")

    monkeypatch.setattr(demo, "run_demo", stand_in)
    assert main(["demo", "--sandbox", "--out", str(tmp_path / "demo")]) == 2
    assert seen == [tmp_path / "demo" / "sandbox-home" / "journal.sqlite"]


def test_doctor_checks_the_shared_database(pg_cluster, tmp_path, monkeypatch):
    from promptreel.resolve_plugin.checkup import journal_check

    url = pg_cluster.new_database()
    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", url)
    Journal(url).close()
    check = journal_check()
    assert check.ok and f"schema {store.LATEST}, 0 job(s)" in check.detail and url in check.detail
    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", f"postgresql://seat:pw@/gone?host={tmp_path}")
    check = journal_check()
    assert not check.ok and "Cannot reach the database" in check.detail and "pw@" not in check.detail
