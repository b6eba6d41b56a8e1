"""The journal's own guarantees: WAL on disk, one ledger line per job, spend grouping, edit records."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from promptreel.core.journal import Journal
from promptreel.core.providers.base import JobState, MediaRef


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()


def _job(journal, model="m", project=""):
    return journal.add_job(batch_id="b1", request={"prompt": "p", "tags": {"project": project}}, cache_key="k:0",
                           variant=0, model=model, route_key="proto:m-1", estimated_cost=0.4)


def test_wal_and_provider_id_visible_to_another_connection(journal, tmp_path):
    job = _job(journal)
    journal.set_submitting(job, "proto:m-1")
    journal.set_submitted(job, "prov-123", JobState.QUEUED)
    other = sqlite3.connect(str(tmp_path / "journal.sqlite"))  # another process's view
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT provider_job_id, state FROM jobs").fetchone() == ("prov-123", "queued")
    other.close()


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
    assert journal.edits("job_1") == [{"id": edit, "job_id": "job_1", "target_kind": "otio_clip",
                                       "target_ref": "track 1 / item 3", "before": {"media": "placeholder"},
                                       "after": {"media": "job_1.mp4"}, "created_at": journal.edits()[0]["created_at"]}]


def test_many_threads_opening_a_new_journal_at_once(tmp_path):
    """The panel's workers, or a CLI beside the panel, may open a fresh journal together."""
    import threading

    from promptreel.core.journal import Journal

    errors = []
    for round_ in range(20):  # a fresh database each round: the race is in setting it up
        start = threading.Barrier(8)

        def open_one(path=tmp_path / f"journal-{round_}.sqlite"):
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


def test_a_transaction_goes_in_whole_or_not_at_all(journal, tmp_path):
    row = ("t1", "g1", "SH010", "ab", 0, "draft", "{}", "{}", "2026-12-06")
    insert = ("INSERT INTO takes (id, group_id, shot, kind, position, model, slot, provenance, created_at)"
              " VALUES (?,?,?,?,?,?,?,?,?)")
    with journal.transaction():
        journal.execute(insert, row)
    with pytest.raises(sqlite3.IntegrityError):
        with journal.transaction():
            journal.execute(insert, ("t2", *row[1:]))
            journal.execute(insert, row)  # the same id again: the whole group goes
    other = sqlite3.connect(journal.path)
    assert [r[0] for r in other.execute("SELECT id FROM takes")] == ["t1"]


def test_a_journal_from_before_numbered_migrations_is_upgraded_in_place(tmp_path):
    """Its double-paid duplicates (two unfinished jobs for one request) keep working: the oldest holds
    the request from now on, the other is left as it was."""
    from promptreel.core import store

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(store.MIGRATIONS[0].sql)
    for job_id, at in (("job_old", "2026-01-01T00:00:00"), ("job_dup", "2026-01-01T00:00:01")):
        db.execute("INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, state, created_at,"
                   " updated_at) VALUES (?, 'b', '{}', 'k:0', 0, 'm', 'p:m', 'queued', ?, ?)", (job_id, at, at))
    db.commit()
    db.close()
    journal = Journal(path)
    assert store.version(journal._db) == store.LATEST
    assert journal.live_job("k:0") == "job_old"
    assert {j.id for j in journal.unfinished()} == {"job_old", "job_dup"}
    assert journal.add_job(batch_id="b2", request={}, cache_key="k:0", variant=0, model="m", route_key="p:m",
                           estimated_cost=0, live=True) == "job_old"
    journal.close()
    assert store.inspect(path) == store.Summary(store.LATEST, 2)


def test_a_database_from_a_newer_promptreel_is_refused_and_left_alone(tmp_path, monkeypatch, capsys):
    from promptreel.core import store
    from promptreel.core.cli import main

    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path))
    Journal(tmp_path / "journal.sqlite").close()
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, 0)", (store.LATEST + 1,))
    db.commit()
    before = (tmp_path / "journal.sqlite").read_bytes()
    assert main(["jobs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "newer promptreel" in err[0] and "Traceback" not in err[0]
    assert (tmp_path / "journal.sqlite").read_bytes() == before
    with pytest.raises(store.NewerSchema):
        store.inspect(tmp_path / "journal.sqlite")


def test_two_processes_opening_a_new_database_apply_each_migration_once(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "new.sqlite"
    script = "import sys; from promptreel.core.journal import Journal; Journal(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(4)]
    assert [p.wait() for p in procs] == [0] * 4
    db = sqlite3.connect(path)
    from promptreel.core import store

    assert [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY version")] == \
        [m.version for m in store.MIGRATIONS]
