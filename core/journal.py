"""The journal: one SQLite database (WAL) holding jobs, the cost ledger, the cache index and edit records.

Every write commits at once, so what is on disk is what happened: a provider job id is
durable (fsynced) the moment `set_submitted` returns. Every text that goes in passes `keys.redact`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from .keys import redact
from .providers.base import JobState, MediaRef

SCHEMA = """
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
"""

# Columns added after a journal format shipped: `ALTER TABLE ... ADD COLUMN` when missing, so an
# existing journal upgrades in place and an older promptreel still reads it.
ADDED_COLUMNS = (
    ("jobs", "media_at", "TEXT"),  # when the provider reported the media ready (statistics' submit-to-media time)
)

UNFINISHED = (JobState.PLANNED, JobState.SUBMITTING, JobState.UNKNOWN, JobState.QUEUED, JobState.RUNNING,
              JobState.SUCCEEDED, JobState.DOWNLOADING)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def local_day(when: datetime | None = None) -> str:
    """The editor's calendar day: the daily cap follows the local clock, not UTC."""
    return (when or datetime.now(timezone.utc)).astimezone().date().isoformat()


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


@dataclass
class Job:
    id: str
    batch_id: str
    request: dict[str, Any]
    cache_key: str
    variant: int
    model: str
    route_key: str
    provider_job_id: str | None
    state: JobState
    progress: float | None
    created_at: str
    updated_at: str
    sent_at: str | None
    estimated_cost: float
    actual_cost: float | None
    output_path: str | None
    media_refs: list[MediaRef]
    cached_from: str | None
    error_kind: str | None
    error_message: str | None
    media_at: str | None = None

    @property
    def protocol(self) -> str:
        return self.route_key.split(":", 1)[0]

    @property
    def route_model_id(self) -> str:
        return self.route_key.split(":", 1)[1]


def _media_to_json(refs: Iterable[MediaRef]) -> str:
    return json.dumps([
        {"url": m.url, "inline_path": str(m.inline_path) if m.inline_path else None,
         "expires_at": m.expires_at.isoformat() if m.expires_at else None, "provider_id": m.provider_id}
        for m in refs
    ])


def _media_from_json(text: str | None) -> list[MediaRef]:
    out = []
    for d in json.loads(text or "[]"):
        out.append(MediaRef(url=d["url"], inline_path=Path(d["inline_path"]) if d["inline_path"] else None,
                            expires_at=datetime.fromisoformat(d["expires_at"]) if d["expires_at"] else None,
                            provider_id=d.get("provider_id")))
    return out


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the engine's tasks (all on one event loop); the lock keeps
        # a CLI thread and the loop from interleaving statements.
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._schemas: set[str] = set()  # other modules' tables created through this connection
        # Switching a new database to WAL needs it to itself, and SQLite answers "locked" at once
        # (no busy wait) while another process or thread is opening it too: wait for it, briefly.
        for attempt in range(200):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: every commit survives the process dying (SIGKILL, a crash); the writes that
                # must also survive power loss (a create going out, its provider id) go through `_durably`.
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(SCHEMA)
                self._add_columns()
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == 199:
                    raise
                time.sleep(0.05)

    def _add_columns(self) -> None:
        for table, column, kind in ADDED_COLUMNS:
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as e:  # another process added it first
                    if "duplicate column" not in str(e):
                        raise

    @classmethod
    def open_default(cls) -> "Journal":
        from .settings import home

        return cls(home() / "journal.sqlite")

    def close(self) -> None:
        self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(_clean(a) for a in args))

    # --- tables other modules keep in this database (takes) ------------------------------------

    def with_tables(self, schema: str) -> "Journal":
        """This journal, with another module's tables created (`CREATE ... IF NOT EXISTS`) on first use."""
        if schema not in self._schemas:
            with self._lock:
                self._db.executescript(schema)
            self._schemas.add(schema)
        return self

    def execute(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        """One statement, every text redacted."""
        return self._exec(sql, args)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside go in whole or not at all."""
        with self._lock:
            self._exec("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._exec("ROLLBACK")
                raise
            self._exec("COMMIT")

    # --- jobs -------------------------------------------------------------------------------

    def add_job(self, *, batch_id: str, request: dict, cache_key: str, variant: int, model: str, route_key: str,
                estimated_cost: float, state: JobState = JobState.PLANNED, job_id: str | None = None,
                output_path: str | None = None, cached_from: str | None = None) -> str:
        job_id = job_id or new_id("job")
        t = now_iso()
        self._exec(
            "INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, state, created_at,"
            " updated_at, estimated_cost, output_path, cached_from) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (job_id, batch_id, json.dumps(request, sort_keys=True), cache_key, variant, model, route_key,
             state.value, t, t, estimated_cost, output_path, cached_from),
        )
        return job_id

    def _durably(self, fn, *args, **kw):
        """Run a write with an fsync of the WAL at its commit (which also flushes every earlier commit)."""
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                return fn(*args, **kw)
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def update(self, job_id: str, **fields: Any) -> None:
        if "state" in fields and isinstance(fields["state"], JobState):
            fields["state"] = fields["state"].value
        if "media_refs" in fields:
            fields["media_refs"] = _media_to_json(fields["media_refs"])
        fields["updated_at"] = now_iso()
        cols = ", ".join(f"{k} = ?" for k in fields)
        self._exec(f"UPDATE jobs SET {cols} WHERE id = ?", (*fields.values(), job_id))

    def set_state(self, job_id: str, state: JobState, **fields: Any) -> None:
        self.update(job_id, state=state, **fields)

    def set_submitting(self, job_id: str, route_key: str) -> str:
        """Committed before the create goes out: a crash from here on leaves a recognisable unknown outcome."""
        sent_at = now_iso()
        self._durably(self.update, job_id, state=JobState.SUBMITTING, route_key=route_key, sent_at=sent_at,
                      error_kind=None, error_message=None)
        return sent_at

    def set_submitted(self, job_id: str, provider_job_id: str, state: JobState) -> None:
        """The first write after a create returns: the provider's job id, committed."""
        self._durably(self.update, job_id, provider_job_id=provider_job_id, state=state, error_kind=None,
                      error_message=None)

    def set_error(self, job_id: str, kind: str, message: str, state: JobState | None = None) -> None:
        fields: dict[str, Any] = {"error_kind": kind, "error_message": message}
        if state is not None:
            fields["state"] = state
        self.update(job_id, **fields)

    def get(self, job_id: str) -> Job | None:
        row = self._exec("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def jobs(self, states: Iterable[JobState] | None = None, batch_id: str | None = None) -> list[Job]:
        sql, args = "SELECT * FROM jobs", []
        where = []
        if states is not None:
            states = list(states)
            where.append(f"state IN ({','.join('?' * len(states))})")
            args += [s.value for s in states]
        if batch_id is not None:
            where.append("batch_id = ?")
            args.append(batch_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, variant"
        return [self._job(r) for r in self._exec(sql, args).fetchall()]

    def unfinished(self) -> list[Job]:
        return self.jobs(UNFINISHED)

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        d = dict(row)
        d["request"] = json.loads(d["request"])
        d["state"] = JobState(d["state"])
        d["media_refs"] = _media_from_json(d["media_refs"])
        return Job(**d)

    # --- cost ledger ------------------------------------------------------------------------

    def charge(self, job_id: str, model: str, amount: float, project: str = "", estimated: bool = False) -> None:
        """One ledger line per job (a second charge for the same job is ignored: never pay twice on paper)."""
        at = datetime.now(timezone.utc)
        self._exec(
            "INSERT OR IGNORE INTO ledger (job_id, at, day, model, project, amount, estimated) VALUES (?,?,?,?,?,?,?)",
            (job_id, at.isoformat(timespec="seconds"), local_day(at), model, project, amount, int(estimated)),
        )
        self.update(job_id, actual_cost=amount)

    def spent_on(self, day: str | None = None) -> float:
        row = self._exec("SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE day = ?", (day or local_day(),)).fetchone()
        return float(row[0])

    def spend(self, by: str = "day", since: date | None = None) -> list[tuple[str, float, int]]:
        """(group, total USD, jobs) rows, grouped by 'day', 'model' or 'project'."""
        column = {"day": "day", "model": "model", "project": "project"}[by]
        sql = f"SELECT {column}, SUM(amount), COUNT(*) FROM ledger"
        args: list[Any] = []
        if since is not None:
            sql += " WHERE day >= ?"
            args.append(since.isoformat())
        sql += f" GROUP BY {column} ORDER BY {column}"
        return [(r[0], float(r[1]), int(r[2])) for r in self._exec(sql, args).fetchall()]

    # --- cache ------------------------------------------------------------------------------

    def cache_get(self, key: str) -> tuple[str, Path] | None:
        row = self._exec("SELECT job_id, path FROM cache WHERE key = ?", (key,)).fetchone()
        return (row[0], Path(row[1])) if row else None

    def cache_put(self, key: str, job_id: str, path: Path) -> None:
        self._exec("INSERT OR REPLACE INTO cache (key, job_id, path, created_at) VALUES (?,?,?,?)",
                   (key, job_id, str(path), now_iso()))

    # --- edits (fill records, written by the placing side) ----------------------------------

    def add_edit(self, job_id: str, target_kind: str, target_ref: str, before: Any, after: Any) -> int:
        cur = self._exec(
            "INSERT INTO edits (job_id, target_kind, target_ref, before, after, created_at) VALUES (?,?,?,?,?,?)",
            (job_id, target_kind, target_ref, json.dumps(before, sort_keys=True), json.dumps(after, sort_keys=True),
             now_iso()),
        )
        return int(cur.lastrowid)

    def edits(self, job_id: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM edits", ()
        if job_id is not None:
            sql, args = sql + " WHERE job_id = ?", (job_id,)
        rows = self._exec(sql + " ORDER BY id", args).fetchall()
        return [{**dict(r), "before": json.loads(r["before"]), "after": json.loads(r["after"])} for r in rows]

    # --- credentials (provenance: each original and conformed clip, by content hash) ----------

    def record_credentials(self, sha256: str, *, job_id: str, role: str, path: Path, parent_sha256: str | None = None,
                           label: str | None = None, validation: str | None = None,
                           manifest: dict | None = None) -> None:
        """One row per file content: `role` is "original" (the provider's download) or "conformed"
        (a clip made from the original `parent_sha256`); `manifest` is its C2PA manifest store, if any."""
        self._exec(
            "INSERT OR REPLACE INTO credentials (sha256, job_id, role, path, parent_sha256, manifest_label, validation,"
            " manifest, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (sha256, job_id, role, str(path), parent_sha256, label, validation,
             json.dumps(manifest, sort_keys=True) if manifest is not None else None, now_iso()),
        )

    def credentials(self, sha256: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM credentials WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        return {**dict(row), "manifest": json.loads(row["manifest"]) if row["manifest"] else None}
