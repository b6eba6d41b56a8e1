"""The one database promptreel keeps: its schema as one numbered list of migrations, and how to open it.

Every table (jobs, ledger, cache, edits, credentials, takes, templates, claims) is created here and
nowhere else. A database records the last migration applied in `schema_version`; opening it applies
the ones after that, inside one write transaction, so two processes opening a new database at once
apply each migration once. A database newer than this code is refused: an old promptreel must not
write to a schema it does not know.

The SQL is kept to what SQLite and PostgreSQL both run (`ON CONFLICT`, partial indexes, REAL epoch
seconds), so the PostgreSQL store can take the same list.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import UserError

# States in which a job is still being made: one such job per request (its `live_key`), see migration 6.
LIVE_STATES = ("planned", "submitting", "unknown", "queued", "running", "succeeded", "downloading")


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sql: str = ""
    columns: tuple[tuple[str, str, str], ...] = ()  # (table, column, type) added where missing
    after: Callable[[sqlite3.Connection], None] | None = None


def _one_live_job_per_request(db: sqlite3.Connection) -> None:
    # Journals written before this migration may hold several unfinished jobs for one request (the
    # double-pay this migration ends): the oldest becomes the request's live job, the others stay as they are.
    marks = ",".join("?" * len(LIVE_STATES))
    db.execute(
        f"UPDATE jobs SET live_key = cache_key WHERE cached_from IS NULL AND state IN ({marks}) AND rowid IN "
        f"(SELECT MIN(rowid) FROM jobs WHERE cached_from IS NULL AND state IN ({marks}) GROUP BY cache_key)",
        (*LIVE_STATES, *LIVE_STATES))
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS jobs_live_key ON jobs(live_key)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "jobs, cost ledger, cache index, edit records", """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    request TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    variant INTEGER NOT NULL,
    model TEXT NOT NULL,
    route_key TEXT NOT NULL,
    provider_job_id TEXT,
    state TEXT NOT NULL,
    progress REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT,
    estimated_cost REAL NOT NULL DEFAULT 0,
    actual_cost REAL,
    output_path TEXT,
    media_refs TEXT,
    cached_from TEXT,
    error_kind TEXT,
    error_message TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    amount REAL NOT NULL,
    estimated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ledger_day ON ledger(day);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""),
    Migration(2, "provenance: credentials of each original and conformed clip", """
CREATE TABLE IF NOT EXISTS credentials (
    sha256 TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    role TEXT NOT NULL,
    path TEXT NOT NULL,
    parent_sha256 TEXT,
    manifest_label TEXT,
    validation TEXT,
    manifest TEXT,
    recorded_at TEXT NOT NULL
);
"""),
    Migration(3, "when the provider reported the media ready (statistics)", columns=(("jobs", "media_at", "TEXT"),)),
    Migration(4, "takes of a shot", """
CREATE TABLE IF NOT EXISTS takes (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    shot TEXT NOT NULL,
    kind TEXT NOT NULL,
    position INTEGER NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER,
    variant INTEGER NOT NULL DEFAULT 0,
    job_id TEXT,
    path TEXT,
    slot TEXT NOT NULL,
    provenance TEXT NOT NULL,
    error TEXT,
    chosen INTEGER NOT NULL DEFAULT 0,
    source TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS takes_shot ON takes(shot);
CREATE INDEX IF NOT EXISTS takes_group ON takes(group_id);
"""),
    Migration(5, "prompt templates", """
CREATE TABLE IF NOT EXISTS templates (
    name TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""),
    # Exactly once: a job still being made holds its request's identity in `live_key` (unique), so a
    # second identical request, from this batch, a re-run or another process, finds it instead of
    # making another; `claims` says which process drives a job, as a lease that lapses when it dies.
    Migration(6, "one live job per request; claims on jobs", """
CREATE INDEX IF NOT EXISTS jobs_cache_key ON jobs(cache_key);
CREATE TABLE IF NOT EXISTS claims (
    job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_owner ON claims(owner);
""", columns=(("jobs", "live_key", "TEXT"),), after=_one_live_job_per_request),
    Migration(7, "sandbox spend kept apart from real spend", columns=(("ledger", "sandbox", "INTEGER NOT NULL DEFAULT 0"),)),
    Migration(8, "a refined take's parent", columns=(("takes", "parent", "TEXT"),)),
    Migration(9, "a project's cast of named references", """
CREATE TABLE IF NOT EXISTS cast_members (
    project TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    images TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
"""),
)

LATEST = MIGRATIONS[-1].version


class NewerSchema(UserError):
    pass


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def version(db: sqlite3.Connection) -> int:
    """The last migration applied (0: a new database, or one written before migrations were numbered)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _refuse_newer(found: int, where: Path | str) -> None:
    if found > LATEST:
        raise NewerSchema(
            f"The database {where} was written by a newer promptreel (schema {found}; this one knows up to {LATEST}).",
            "Upgrade promptreel on this machine (pip install -U promptreel) before using that database.")


def migrate(db: sqlite3.Connection, where: Path | str = "the journal") -> int:
    """Apply every migration after the database's version, in one write transaction; returns the version."""
    if version(db) == LATEST:
        return LATEST
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        current = version(db)  # again, under the write lock: another process may have just migrated
        _refuse_newer(current, where)
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            if m.sql:
                for statement in filter(str.strip, m.sql.split(";")):
                    db.execute(statement)
            for table, column, kind in m.columns:
                if column not in _columns(db, table):  # journals from before numbering may already have it
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            if m.after is not None:
                m.after(db)
            db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (m.version, time.time()))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return LATEST


def connect(path: Path) -> sqlite3.Connection:
    """The database at `path`, in WAL mode and migrated to this code's schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    # Switching a new database to WAL needs it to itself, and SQLite answers "locked" at once (no busy
    # wait) while another process or thread is opening it too: wait for it, briefly.
    for attempt in range(200):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: every commit survives the process dying (SIGKILL, a crash); the writes that must
            # also survive power loss (a create going out, its provider id) ask for FULL themselves.
            db.execute("PRAGMA synchronous=NORMAL")
            break
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == 199:
                db.close()
                raise
            time.sleep(0.05)
    try:
        migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


@dataclass(frozen=True)
class Summary:
    version: int
    jobs: int


def inspect(path: Path) -> Summary:
    """Read-only: the database's schema version and how many jobs it holds (for `doctor`); changes nothing."""
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        found = version(db)
        _refuse_newer(found, path)
        has_jobs = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone()
        jobs = db.execute("SELECT count(*) FROM jobs").fetchone()[0] if has_jobs else 0
    finally:
        db.close()
    return Summary(found, int(jobs))
