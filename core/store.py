"""The one database promptreel keeps: its schema as one numbered list of migrations, and how to open it,
on SQLite (a file in the data folder, the default) or PostgreSQL (a studio's shared database).

Every table (jobs, ledger, cache, edits, credentials, takes, templates, claims) is created here and
nowhere else. A database records the last migration applied in `schema_version`; opening it applies
the ones after that, inside one write transaction, so two processes opening a new database at once
apply each migration once. A database newer than this code is refused: an old promptreel must not
write to a schema it does not know. A shared PostgreSQL database is migrated only by `promptreel db
upgrade` (an upgraded seat must not lock the others out unasked), except a new, empty one.

The SQL is kept to what SQLite and PostgreSQL both run (`ON CONFLICT`, `?` parameters, REAL epoch
seconds). What differs is here and only here: column types (PostgreSQL's REAL is 4 bytes, its INTEGER
32 bits), auto-numbered keys, the catalog queries, parameter marks, and how a transaction is serialised.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from .errors import BadInput, UserError

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL database is opened, not before
    import psycopg

    from .settings import Settings

# States in which a job is still being made: one such job per request (its `live_key`), see migration 6.
LIVE_STATES = ("planned", "submitting", "unknown", "queued", "running", "succeeded", "downloading")

Target = Path | str  # a SQLite file, or a postgresql:// URL


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    sql: str = ""
    columns: tuple[tuple[str, str, str], ...] = ()  # (table, column, type) added where missing
    after: Callable[[Database], None] | None = None


def _one_live_job_per_request(db: Database) -> None:
    # Journals written before this migration may hold several unfinished jobs for one request (the
    # double-pay this migration ends): the oldest becomes the request's live job, the others stay as they are.
    marks = ",".join("?" * len(LIVE_STATES))
    db.execute(
        f"UPDATE jobs SET live_key = cache_key WHERE cached_from IS NULL AND state IN ({marks}) AND NOT EXISTS"
        f" (SELECT 1 FROM jobs AS older WHERE older.cache_key = jobs.cache_key AND older.cached_from IS NULL"
        f" AND older.state IN ({marks}) AND (older.created_at < jobs.created_at"
        f" OR (older.created_at = jobs.created_at AND older.id < jobs.id)))",
        (*LIVE_STATES, *LIVE_STATES),
    )
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS jobs_live_key ON jobs(live_key)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "jobs, cost ledger, cache index, edit records",
        """
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
""",
    ),
    Migration(
        2,
        "provenance: credentials of each original and conformed clip",
        """
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
""",
    ),
    Migration(3, "when the provider reported the media ready (statistics)", columns=(("jobs", "media_at", "TEXT"),)),
    Migration(
        4,
        "takes of a shot",
        """
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
""",
    ),
    Migration(
        5,
        "prompt templates",
        """
CREATE TABLE IF NOT EXISTS templates (
    name TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
""",
    ),
    # Exactly once: a job still being made holds its request's identity in `live_key` (unique), so a
    # second identical request, from this batch, a re-run or another process, finds it instead of
    # making another; `claims` says which process drives a job, as a lease that lapses when it dies.
    Migration(
        6,
        "one live job per request; claims on jobs",
        """
CREATE INDEX IF NOT EXISTS jobs_cache_key ON jobs(cache_key);
CREATE TABLE IF NOT EXISTS claims (
    job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_owner ON claims(owner);
""",
        columns=(("jobs", "live_key", "TEXT"),),
        after=_one_live_job_per_request,
    ),
    Migration(
        7, "sandbox spend kept apart from real spend", columns=(("ledger", "sandbox", "INTEGER NOT NULL DEFAULT 0"),)
    ),
    # Shared budgets: a run reserves its estimate before its first create, in one statement per cap that
    # refuses to pass it (`budgets.committed` = spent + reserved), and each job settles at its actual cost;
    # so runs on many seats at once can never pass a cap together. And who asked for each job, from where.
    Migration(
        8,
        "budgets and reservations; the user and host of each job, charge, take and edit",
        """
CREATE TABLE IF NOT EXISTS budgets (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    committed REAL NOT NULL,
    PRIMARY KEY (scope, name)
);
CREATE TABLE IF NOT EXISTS reservations (
    job_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    project TEXT NOT NULL,
    user_name TEXT NOT NULL,
    amount REAL NOT NULL
);
""",
        columns=(
            ("jobs", "user_name", "TEXT"),
            ("jobs", "host", "TEXT"),
            ("ledger", "user_name", "TEXT NOT NULL DEFAULT ''"),
            ("ledger", "host", "TEXT NOT NULL DEFAULT ''"),
            ("takes", "user_name", "TEXT"),
            ("takes", "host", "TEXT"),
            ("edits", "user_name", "TEXT"),
            ("edits", "host", "TEXT"),
        ),
    ),
    Migration(9, "a refined take's parent", columns=(("takes", "parent", "TEXT"),)),
    Migration(
        10,
        "a project's cast of named references",
        """
CREATE TABLE IF NOT EXISTS cast_members (
    project TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    images TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
""",
    ),
)

LATEST = MIGRATIONS[-1].version
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class NewerSchema(UserError):
    pass


class OlderSchema(UserError):
    pass


class Unreachable(UserError):
    pass


class IntegrityError(Exception):
    """A statement broke a constraint (a unique key): the same on either backend."""


def is_postgres(target: Target) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def shown(target: Target) -> str:
    """The database as it may be shown: a URL's password is never printed or logged."""
    if not is_postgres(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def default_target(settings: Settings | None = None) -> Target:
    """Where this seat's data lives: `PROMPTREEL_DATABASE_URL`, else settings' `database_url`, else the
    SQLite journal in the data folder."""
    from .settings import home, load_settings

    url = os.environ.get("PROMPTREEL_DATABASE_URL") or (settings or load_settings()).database_url
    if not url:
        return home() / "journal.sqlite"
    if not is_postgres(url):
        raise BadInput(
            f"The database URL '{shown(url)}' is not a PostgreSQL URL.",
            "Write it as postgresql://user@host/dbname (or unset PROMPTREEL_DATABASE_URL / database_url "
            "to use this machine's own journal).",
        )
    return url


# --- the two backends: one small interface, what the journal and the migrations need ---------------


class Record(Protocol):
    """One row, as both backends give it (sqlite3.Row, and `Row` below): by position, by column name,
    and as a dict. Column values are whatever the driver read, so they are Any."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Rows:
    """A statement's answer, read whole (no cursor outlives the lock or the pooled connection)."""

    def __init__(self, rows: Sequence[Record], rowcount: int, lastrowid: int | None = None):
        self._rows, self.rowcount, self.lastrowid = list(rows), rowcount, lastrowid

    def fetchone(self) -> Record | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Record]:
        return list(self._rows)

    def value(self) -> Any:
        """The first column of the first row: the answer of an aggregate (COUNT, MAX) or RETURNING."""
        if not self._rows:
            raise LookupError("the statement returned no row")
        return self._rows[0][0]

    def __iter__(self) -> Iterator[Record]:
        return iter(self._rows)


class Database:
    dialect = ""
    where = ""

    def execute(self, sql: str, args: Iterable[Any] = ()) -> Rows:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        """Statements inside go in whole or not at all; a transaction inside another joins it."""
        raise NotImplementedError

    def durably(self) -> AbstractContextManager[None]:
        """Commits inside survive power loss, not only the process dying."""
        raise NotImplementedError

    def insert_id(self, sql: str, args: Iterable[Any] = ()) -> int:
        """An INSERT into a table with an auto-numbered `id`; returns the new row's id."""
        raise NotImplementedError

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    def columns(self, table: str) -> set[str]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SQLite(Database):
    dialect = "sqlite"

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        self.where = str(self.path)
        # One connection shared by the engine's tasks (all on one event loop); the lock keeps a CLI
        # thread and the loop from interleaving statements.
        self._lock = threading.RLock()
        self._depth = 0
        if read_only:  # no WAL switch, no folder made: looking changes nothing
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=5, check_same_thread=False
            )
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
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
        self._db = db

    def execute(self, sql: str, args: Iterable[Any] = ()) -> Rows:
        with self._lock:
            try:
                cur = self._db.execute(sql, tuple(args))
            except sqlite3.IntegrityError as e:
                raise IntegrityError(str(e)) from e
            return Rows(cur.fetchall(), cur.rowcount, cur.lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            # IMMEDIATE: the write lock from the first statement, so a read-then-write inside is atomic.
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._db.execute("ROLLBACK")
                raise
            self._depth = 0
            self._db.execute("COMMIT")

    @contextmanager
    def durably(self) -> Iterator[None]:
        with self._lock:  # an fsync of the WAL at the commit (which also flushes every earlier commit)
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                yield
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def insert_id(self, sql: str, args: Iterable[Any] = ()) -> int:
        rowid = self.execute(sql, args).lastrowid
        assert rowid is not None, "an INSERT sets lastrowid"
        return rowid

    def has_table(self, name: str) -> bool:
        return (
            self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            is not None
        )

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self._db.close()


class Row(tuple[Any, ...]):
    """A PostgreSQL row read like sqlite3.Row: by position, by column name, and as a dict."""

    _names: Sequence[str] = ()

    def keys(self) -> list[str]:
        return list(self._names)

    def __getitem__(self, key: int | str) -> Any:  # type: ignore[override]  # by name too, as sqlite3.Row
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], Row]:
    names = [c.name for c in cursor.description or ()]

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row._names = names
        return row

    return make


# PostgreSQL's REAL is 4 bytes (an epoch second to the nearest two minutes, a price to 7 digits), its
# INTEGER 32 bits (a seed may not fit); SQLite's INTEGER PRIMARY KEY numbers rows itself.
_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
)


def _pg_ddl(sql: str) -> str:
    for pattern, replacement in _PG_TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


class Postgres(Database):
    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url, self.where = url, shown(url)
        try:  # one plain connection first: its error says why (the pool's would only time out)
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as e:
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0].strip().rstrip(".")
            parts = urlsplit(url)
            if parts.password:
                reason = reason.replace(parts.password, "***")
            raise Unreachable(
                f"Cannot reach the database {self.where}: {reason}.",
                "Check database_url in settings.toml (or PROMPTREEL_DATABASE_URL) and that the server "
                "runs and lets this seat in.",
            ) from None
        # Statements outside a transaction commit at once, as on SQLite; a pooled connection per thread.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=True,
            name="promptreel",
            kwargs={"autocommit": True, "row_factory": _row_factory, "connect_timeout": 10},
        )
        self._local = threading.local()

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _run(self, conn: psycopg.Connection[Any], sql: str, args: Iterable[Any]) -> Rows:
        import psycopg

        try:
            cur = conn.execute(self._sql(sql), tuple(args))
        except psycopg.IntegrityError as e:
            raise IntegrityError(str(e)) from e
        return Rows(cur.fetchall() if cur.description else [], cur.rowcount)

    def execute(self, sql: str, args: Iterable[Any] = ()) -> Rows:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return self._run(conn, sql, args)
        with self._pool.connection() as conn:
            return self._run(conn, sql, args)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def durably(self) -> Iterator[None]:
        yield  # every PostgreSQL commit is flushed to its WAL (synchronous_commit = on)

    def insert_id(self, sql: str, args: Iterable[Any] = ()) -> int:
        return int(self.execute(sql + " RETURNING id", args).value())

    def has_table(self, name: str) -> bool:
        return bool(self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).value())

    def columns(self, table: str) -> set[str]:
        return {
            r[0]
            for r in self.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?",
                (table,),
            )
        }

    def serialise(self) -> None:
        """Inside a transaction: wait for any other seat's migration (SQLite's BEGIN IMMEDIATE does this)."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (0x70726D74,))

    def close(self) -> None:
        self._pool.close()


# --- versions and migrations ---------------------------------------------------------------------


def version(db: Database) -> int:
    """The last migration applied (0: a new database, or one written before migrations were numbered)."""
    if not db.has_table("schema_version"):
        return 0
    return int(db.execute("SELECT MAX(version) FROM schema_version").value() or 0)


def _refuse_newer(found: int, where: Target) -> None:
    if found > LATEST:
        raise NewerSchema(
            f"The database {shown(where)} was written by a newer promptreel (schema {found}; this one knows up to "
            f"{LATEST}).",
            "Upgrade promptreel on this machine (pip install -U promptreel) before using that database.",
        )


def migrate(db: Database, where: Target = "the journal") -> int:
    """Apply every migration after the database's version, in one write transaction; returns the version."""
    if version(db) == LATEST:
        return LATEST
    with db.transaction():
        if isinstance(db, Postgres):
            db.serialise()
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        current = version(db)  # again, under the write lock: another process may have just migrated
        _refuse_newer(current, where)
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            ddl = _pg_ddl if db.dialect == "postgresql" else str
            if m.sql:
                for statement in filter(str.strip, m.sql.split(";")):
                    db.execute(ddl(statement))
            for table, column, kind in m.columns:
                if column not in db.columns(table):  # journals from before numbering may already have it
                    db.execute(ddl(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
            if m.after is not None:
                m.after(db)
            db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (m.version, time.time()))
    return LATEST


def connect(target: Target, *, upgrade: bool = False) -> Database:
    """The database at `target` (a SQLite path or a postgresql:// URL), migrated to this code's schema.
    A shared PostgreSQL database is migrated only when new, or with `upgrade` (`promptreel db upgrade`)."""
    db: Database = Postgres(str(target)) if is_postgres(target) else SQLite(Path(target))
    try:
        if isinstance(db, Postgres) and not upgrade:
            found = version(db)
            _refuse_newer(found, target)
            if 0 < found < LATEST:
                raise OlderSchema(
                    f"The shared database {db.where} has schema {found}; this promptreel needs {LATEST}.",
                    "Run `promptreel db upgrade` once (every seat then needs this promptreel version or newer).",
                )
        migrate(db, target)
    except BaseException:
        db.close()
        raise
    return db


@dataclass(frozen=True)
class Summary:
    version: int
    jobs: int


def inspect(target: Target) -> Summary:
    """Read-only: the database's schema version and how many jobs it holds (for `doctor`, `db status`)."""
    db: Database = Postgres(str(target)) if is_postgres(target) else SQLite(Path(target), read_only=True)
    try:
        found = version(db)
        _refuse_newer(found, target)
        jobs = db.execute("SELECT count(*) FROM jobs").value() if db.has_table("jobs") else 0
    finally:
        db.close()
    return Summary(found, int(jobs))


def database_errors() -> tuple[type[BaseException], ...]:
    """What a broken or unreachable database raises, on either backend."""
    import psycopg

    return (sqlite3.Error, psycopg.Error, IntegrityError)
