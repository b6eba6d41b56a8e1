"""The journal's own guarantees: WAL on disk, one ledger line per job, spend grouping, edit records; on
this machine's SQLite journal and on a studio's PostgreSQL (`database`, tests/postgres_env.py)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from promptreel.core import store
from promptreel.core.journal import Journal, whoami
from promptreel.core.providers.base import JobState, MediaRef
from tests.postgres_env import database, pg_cluster  # noqa: F401  (fixtures)


@pytest.fixture
def journal(database):
    j = Journal(database)
    yield j
    j.close()


def _job(journal, model="m", project=""):
    return journal.add_job(
        batch_id="b1",
        request={"prompt": "p", "tags": {"project": project}},
        cache_key="k:0",
        variant=0,
        model=model,
        route_key="proto:m-1",
        estimated_cost=0.4,
    )


def test_provider_id_visible_to_another_connection_at_once(journal, database):
    job = _job(journal)
    journal.set_submitting(job, "proto:m-1")
    journal.set_submitted(job, "prov-123", JobState.QUEUED)
    other = Journal(database)  # another process's view
    assert (other.get(job).provider_job_id, other.get(job).state) == ("prov-123", JobState.QUEUED)
    other.close()
    if journal.backend == "sqlite":
        raw = sqlite3.connect(str(database))
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()


def test_postgres_keeps_full_precision_and_big_numbers(journal):
    """PostgreSQL's REAL is 4 bytes and its INTEGER 32 bits: the store's columns are neither."""
    job = _job(journal)
    journal.charge(job, "m", 0.1234567891, "film")
    assert journal.get(job).actual_cost == 0.1234567891
    journal.execute("INSERT INTO claims (job_id, owner, expires_at) VALUES (?, ?, ?)", ("j", "o", 1796000000.125))
    assert journal.execute("SELECT expires_at FROM claims WHERE job_id = 'j'").fetchone()[0] == 1796000000.125
    journal.execute(
        "INSERT INTO takes (id, group_id, shot, kind, position, model, seed, slot, provenance, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        ("t", "g", "S", "ab", 0, "m", 2**40, "{}", "{}", "x"),
    )
    assert journal.execute("SELECT seed FROM takes").fetchone()["seed"] == 2**40


def test_media_refs_round_trip_and_unfinished(journal):
    job = _job(journal)
    journal.update(job, state=JobState.SUCCEEDED, media_refs=[MediaRef(url="https://x/y.mp4")])
    got = journal.get(job)
    assert got.media_refs[0].url == "https://x/y.mp4" and got.protocol == "proto" and got.route_model_id == "m-1"
    assert [j.id for j in journal.unfinished()] == [job]
    journal.set_state(job, JobState.DONE)
    assert journal.unfinished() == []


def test_ledger_charges_each_job_once_and_groups(journal):
    a, b, c = _job(journal, "m1", "film"), _job(journal, "m2", "film"), _job(journal, "m2", "")
    journal.charge(a, "m1", 0.4, "film")
    journal.charge(a, "m1", 0.4, "film")  # the same job again: ignored
    journal.charge(b, "m2", 1.0, "film")
    journal.charge(c, "m2", 0.5)
    assert journal.spent_on() == pytest.approx(1.9)
    assert journal.spend("model") == [("m1", pytest.approx(0.4), 1), ("m2", pytest.approx(1.5), 2)]
    assert journal.spend("project") == [("", pytest.approx(0.5), 1), ("film", pytest.approx(1.4), 2)]
    assert journal.spend("day", since=date(2999, 1, 1)) == []
    assert journal.get(a).actual_cost == pytest.approx(0.4)


def test_cache_and_edits(journal, tmp_path):
    assert journal.cache_get("k:0") is None
    journal.cache_put("k:0", "job_1", tmp_path / "job_1.mp4")
    assert journal.cache_get("k:0") == ("job_1", tmp_path / "job_1.mp4")
    edit = journal.add_edit("job_1", "otio_clip", "track 1 / item 3", {"media": "placeholder"}, {"media": "job_1.mp4"})
    assert journal.edits("job_1") == [
        {
            "id": edit,
            "job_id": "job_1",
            "target_kind": "otio_clip",
            "target_ref": "track 1 / item 3",
            "before": {"media": "placeholder"},
            "after": {"media": "job_1.mp4"},
            "created_at": journal.edits()[0]["created_at"],
            "user_name": whoami()[0],
            "host": whoami()[1],
        }
    ]


def test_many_threads_opening_a_new_journal_at_once(tmp_path):
    """The panel's workers, or a CLI beside the panel, may open a fresh journal together."""
    import threading

    from promptreel.core.journal import Journal

    errors = []
    for round_ in range(20):  # a fresh database each round: the race is in setting it up
        start = threading.Barrier(8)

        def open_one(path=tmp_path / f"journal-{round_}.sqlite", start=start):
            try:
                start.wait()
                Journal(path).jobs()
            except Exception as e:  # collected: an exception in a thread would not fail the test
                errors.append(e)

        threads = [threading.Thread(target=open_one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_a_transaction_goes_in_whole_or_not_at_all(journal, database):
    row = ("t1", "g1", "SH010", "ab", 0, "draft", "{}", "{}", "2026-12-06")
    insert = (
        "INSERT INTO takes (id, group_id, shot, kind, position, model, slot, provenance, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?)"
    )
    with journal.transaction():
        journal.execute(insert, row)
    with pytest.raises(store.IntegrityError), journal.transaction():
        journal.execute(insert, ("t2", *row[1:]))
        journal.execute(insert, row)  # the same id again: the whole group goes
    other = Journal(database)
    assert [r[0] for r in other.execute("SELECT id FROM takes")] == ["t1"]
    other.close()


def test_a_journal_from_before_numbered_migrations_is_upgraded_in_place(tmp_path):
    """Its double-paid duplicates (two unfinished jobs for one request) keep working: the oldest holds
    the request from now on, the other is left as it was."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(store.MIGRATIONS[0].sql)
    for job_id, at in (("job_old", "2026-01-01T00:00:00"), ("job_dup", "2026-01-01T00:00:01")):
        db.execute(
            "INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, state, created_at,"
            " updated_at) VALUES (?, 'b', '{}', 'k:0', 0, 'm', 'p:m', 'queued', ?, ?)",
            (job_id, at, at),
        )
    db.commit()
    db.close()
    journal = Journal(path)
    assert store.version(journal._db) == store.LATEST
    assert journal.live_job("k:0") == "job_old"
    assert {j.id for j in journal.unfinished()} == {"job_old", "job_dup"}
    assert (
        journal.add_job(
            batch_id="b2",
            request={},
            cache_key="k:0",
            variant=0,
            model="m",
            route_key="p:m",
            estimated_cost=0,
            live=True,
        )
        == "job_old"
    )
    journal.close()
    assert store.inspect(path) == store.Summary(store.LATEST, 2)


def test_a_database_from_a_newer_promptreel_is_refused_and_left_alone(database, capsys):
    from promptreel.core.cli import main

    journal = Journal(database)
    journal.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 0)", (store.LATEST + 1,))
    journal.close()
    before = database.read_bytes() if journal.backend == "sqlite" else None
    for command in (["jobs"], ["db", "status"], ["db", "upgrade"], ["templates", "list"]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "newer promptreel" in err[0] and "Traceback" not in err[0], command
    if before is not None:
        assert database.read_bytes() == before
    with pytest.raises(store.NewerSchema):
        store.inspect(database)


def test_a_shared_database_is_upgraded_only_by_db_upgrade(pg_cluster, monkeypatch, capsys):
    """An upgraded seat must not migrate the studio's database under the others unasked."""
    from promptreel.core.cli import main

    url = pg_cluster.new_database()
    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", url)
    journal = Journal(url)  # a new, empty database is set up on first use
    job = _job(journal)
    last = store.MIGRATIONS[-1]
    journal.execute("DELETE FROM schema_version WHERE version = ?", (last.version,))
    for table, column, _ in last.columns:  # as the previous promptreel left it
        journal.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    journal.close()

    assert main(["jobs"]) == 2
    err = capsys.readouterr().err
    assert f"schema {last.version - 1}" in err and "promptreel db upgrade" in err
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "PostgreSQL" in out and f"schema: {last.version - 1} of {store.LATEST}" in out and "jobs: 1" in out
    assert main(["db", "upgrade"]) == 0
    assert f"from schema {last.version - 1} to {store.LATEST}" in capsys.readouterr().out
    assert main(["db", "status"]) == 0 and "(up to date)" in capsys.readouterr().out
    journal = Journal(url)
    assert journal.get(job).model == "m"
    journal.close()


def test_two_processes_opening_a_new_database_apply_each_migration_once(database):
    import subprocess
    import sys

    script = "import sys; from promptreel.core.journal import Journal; Journal(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(database)]) for _ in range(4)]
    assert [p.wait() for p in procs] == [0] * 4
    journal = Journal(database)
    assert [r[0] for r in journal.execute("SELECT version FROM schema_version ORDER BY version")] == [
        m.version for m in store.MIGRATIONS
    ]
    journal.close()
