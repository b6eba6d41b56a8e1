"""The journal: jobs, claims on them, the cost ledger, the cache index and edit records, in the one
database `core/store.py` keeps (this machine's SQLite file, or a studio's PostgreSQL).

Every write commits at once, so what is on disk is what happened: a provider job id is
durable (fsynced) the moment `set_submitted` returns. Every text that goes in passes `keys.redact`.

Exactly once: a job still being made holds its request's identity (`live_key`, unique), so `add_job`
for a request that already has a live job returns that job instead of a new one; and a process drives
a job only while it holds the job's claim, a lease it renews while alive (`claim`, `renew`).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from . import store
from .errors import BudgetExceeded, UserError
from .jobstate import JobState, MediaRef
from .keys import redact
from .media_paths import located, stored
from .procs import pid_alive

UNFINISHED = (
    JobState.PLANNED,
    JobState.SUBMITTING,
    JobState.UNKNOWN,
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.SUCCEEDED,
    JobState.DOWNLOADING,
)


# A claim lasts this long unless renewed; the engine renews its claims every third of it. A process on
# this machine that has died loses its claims at once (its pid is gone); one elsewhere, when they lapse.
CLAIM_SECONDS = 30.0


def owner_id() -> str:
    """This process, as the owner of claims: host, pid and a nonce (a reused pid is another owner)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _owner_gone(owner: str) -> bool:
    """True when `owner` was a process on this machine that no longer runs."""
    host, _, rest = owner.partition("/")
    pid = rest.partition("/")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def whoami() -> tuple[str, str]:
    """(user, host) of this seat, as recorded on its jobs and charges; PROMPTREEL_USER names the editor
    where the login does not (a shared render account)."""
    user = os.environ.get("PROMPTREEL_USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (a container): nothing better to say
            user = "unknown"
    return user, socket.gethostname()


@dataclass(frozen=True)
class Caps:
    """The budgets a run is held to (None / absent: no cap)."""

    day: float | None = None
    user_day: float | None = None
    projects: dict[str, float] | None = None

    def __bool__(self) -> bool:
        return self.day is not None or self.user_day is not None or bool(self.projects)


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
    live_key: str | None = None
    user_name: str | None = None
    host: str | None = None

    @property
    def protocol(self) -> str:
        return self.route_key.split(":", 1)[0]

    @property
    def route_model_id(self) -> str:
        return self.route_key.split(":", 1)[1]


def _media_to_json(refs: Iterable[MediaRef]) -> str:
    return json.dumps(
        [
            {
                "url": m.url,
                "inline_path": str(m.inline_path) if m.inline_path else None,
                "expires_at": m.expires_at.isoformat() if m.expires_at else None,
                "provider_id": m.provider_id,
            }
            for m in refs
        ]
    )


def _media_from_json(text: str | None) -> list[MediaRef]:
    out = []
    for d in json.loads(text or "[]"):
        out.append(
            MediaRef(
                url=d["url"],
                inline_path=Path(d["inline_path"]) if d["inline_path"] else None,
                expires_at=datetime.fromisoformat(d["expires_at"]) if d["expires_at"] else None,
                provider_id=d.get("provider_id"),
            )
        )
    return out


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_UNSET: Any = object()


class Journal:
    def __init__(self, target: store.Target, media_root: Path | None = _UNSET):
        """`target`: a SQLite file, or a postgresql:// URL (a studio's shared database). `media_root`: where
        this seat mounts the studio's shared media (core/media_paths.py); by default, from its settings."""
        self.path = target if store.is_postgres(target) else Path(target)
        self._db = store.connect(self.path)
        self._media_root = media_root

    @property
    def media_root(self) -> Path | None:
        if self._media_root is _UNSET:
            from .settings import media_root

            try:
                self._media_root = media_root()
            except UserError:  # a bad settings file: whatever reads the settings says so, with the fix
                self._media_root = None
        return self._media_root

    @media_root.setter
    def media_root(self, root: Path | None) -> None:
        self._media_root = root

    @classmethod
    def open_default(cls) -> Journal:
        """This seat's journal: the shared database when one is set, else the data folder's SQLite file."""
        return cls(store.default_target())

    @property
    def backend(self) -> str:
        return self._db.dialect

    def close(self) -> None:
        self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> store.Rows:
        return self._db.execute(sql, tuple(_clean(a) for a in args))

    # --- statements of other modules (takes, templates) -------------------------------------

    def execute(self, sql: str, args: Iterable[Any] = ()) -> store.Rows:
        """One statement, every text redacted."""
        return self._exec(sql, args)

    def transaction(self) -> AbstractContextManager[None]:
        """Statements inside go in whole or not at all (one inside another joins it)."""
        return self._db.transaction()

    # --- jobs -------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        batch_id: str,
        request: dict[str, Any],
        cache_key: str,
        variant: int,
        model: str,
        route_key: str,
        estimated_cost: float,
        state: JobState = JobState.PLANNED,
        job_id: str | None = None,
        output_path: str | None = None,
        cached_from: str | None = None,
        live: bool = False,
        owner: str | None = None,
    ) -> str:
        """A new job, or, with `live`, the job already being made for `cache_key` when there is one.

        `live`: the job holds its request's identity while it is being made, so an identical request
        (this batch, a re-run after a crash, another process) gets this job back instead of a new one.
        `owner`: claim the new job for that owner in the same transaction (no moment where another
        process could take it over). Returns the job's id, new or found."""
        job_id = job_id or new_id("job")
        while True:
            found = self._add_job(
                job_id,
                batch_id,
                request,
                cache_key,
                variant,
                model,
                route_key,
                estimated_cost,
                state,
                output_path,
                cached_from,
                live,
                owner,
            )
            if found is not None:
                return found
            # The live job it met ended between our insert and our look: try again (a new job, or the next one).

    def _add_job(
        self,
        job_id: str,
        batch_id: str,
        request: dict[str, Any],
        cache_key: str,
        variant: int,
        model: str,
        route_key: str,
        estimated_cost: float,
        state: JobState,
        output_path: str | None,
        cached_from: str | None,
        live: bool,
        owner: str | None,
    ) -> str | None:
        t = now_iso()
        with self.transaction():
            cur = self._exec(
                "INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, state, created_at,"
                " updated_at, estimated_cost, output_path, cached_from, live_key, user_name, host)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (
                    job_id,
                    batch_id,
                    json.dumps(request, sort_keys=True),
                    cache_key,
                    variant,
                    model,
                    route_key,
                    state.value,
                    t,
                    t,
                    estimated_cost,
                    self.stored_path(output_path),
                    cached_from,
                    cache_key if live and state.value in store.LIVE_STATES else None,
                    *whoami(),
                ),
            )
            if cur.rowcount == 0:  # a job for this request is already being made (or this id is taken)
                found = self.live_job(cache_key) if live else None
                return found or (job_id if self.get(job_id) is not None else None)
            if owner is not None:
                self._exec(
                    "INSERT INTO claims (job_id, owner, expires_at) VALUES (?,?,?)",
                    (job_id, owner, time.time() + CLAIM_SECONDS),
                )
        return job_id

    def live_job(self, cache_key: str) -> str | None:
        """The job being made for this request now, if any."""
        row = self._exec("SELECT id FROM jobs WHERE live_key = ?", (cache_key,)).fetchone()
        return str(row[0]) if row else None

    def _durably(self, fn: Callable[..., None], *args: Any, **kw: Any) -> None:
        """Run a write whose commit must survive power loss, not only the process dying."""
        with self._db.durably():
            return fn(*args, **kw)

    def update(self, job_id: str, **fields: Any) -> None:
        ended = False
        if "state" in fields:
            state = JobState(fields["state"])
            fields["state"] = state.value
            if state.terminal:  # made (or given up): an identical request now gets the cache, or a new job
                fields["live_key"] = None
                ended = True
        if "media_refs" in fields:
            fields["media_refs"] = _media_to_json(fields["media_refs"])
        if "output_path" in fields:
            fields["output_path"] = self.stored_path(fields["output_path"])
        fields["updated_at"] = now_iso()
        cols = ", ".join(f"{k} = ?" for k in fields)
        if not ended:
            self._exec(f"UPDATE jobs SET {cols} WHERE id = ?", (*fields.values(), job_id))
            return
        with self.transaction():
            self._exec(f"UPDATE jobs SET {cols} WHERE id = ?", (*fields.values(), job_id))
            self._settle(job_id, None)  # one that ended without a charge (failed, abandoned) gives its reservation back

    def set_state(self, job_id: str, state: JobState, **fields: Any) -> None:
        self.update(job_id, state=state, **fields)

    def set_submitting(self, job_id: str, route_key: str) -> str:
        """Committed before the create goes out: a crash from here on leaves a recognisable unknown outcome."""
        sent_at = now_iso()
        self._durably(
            self.update,
            job_id,
            state=JobState.SUBMITTING,
            route_key=route_key,
            sent_at=sent_at,
            error_kind=None,
            error_message=None,
        )
        return sent_at

    def set_submitted(self, job_id: str, provider_job_id: str, state: JobState) -> None:
        """The first write after a create returns: the provider's job id, committed."""
        self._durably(
            self.update, job_id, provider_job_id=provider_job_id, state=state, error_kind=None, error_message=None
        )

    def set_error(self, job_id: str, kind: str, message: str, state: JobState | None = None) -> None:
        fields: dict[str, Any] = {"error_kind": kind, "error_message": message}
        if state is not None:
            fields["state"] = state
        self.update(job_id, **fields)

    def get(self, job_id: str) -> Job | None:
        row = self._exec("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def job(self, job_id: str) -> Job:
        """A job the caller knows is there (it made it, or just found it): KeyError if it is not."""
        found = self.get(job_id)
        if found is None:
            raise KeyError(f"no job {job_id} in the journal")
        return found

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

    def _job(self, row: store.Record) -> Job:
        d = dict(row)
        d["request"] = json.loads(d["request"])
        d["state"] = JobState(d["state"])
        d["media_refs"] = _media_from_json(d["media_refs"])
        if d["output_path"]:
            d["output_path"] = str(self.media_path(d["output_path"]))
        return Job(**d)

    def stored_path(self, path: str | Path | None) -> str | None:
        """A media path as the shared journal keeps it: relative to media_root when under it (core/media_paths.py)."""
        return stored(path, self.media_root) if path else None

    def media_path(self, text: str | None) -> Path | None:
        """A media path the journal keeps, on this seat (relative ones under this seat's media_root)."""
        return located(text, self.media_root) if text else None

    # --- claims: which process drives a job -----------------------------------------------------

    def claim(self, job_id: str, owner: str, seconds: float = CLAIM_SECONDS) -> bool:
        """Take (or keep) the claim on a job: True when `owner` holds it now. One atomic statement: a claim
        held by a live owner is never taken; a lapsed one, or one whose process here has died, is."""

        def take(gone: str) -> bool:
            now = time.time()
            return (
                self._exec(
                    "INSERT INTO claims (job_id, owner, expires_at) VALUES (?,?,?) ON CONFLICT (job_id) DO UPDATE"
                    " SET owner = excluded.owner, expires_at = excluded.expires_at"
                    " WHERE claims.owner = excluded.owner OR claims.expires_at < ? OR claims.owner = ?",
                    (job_id, owner, now + seconds, now, gone),
                ).rowcount
                == 1
            )

        if take(""):  # free, lapsed or ours: one statement (a round trip, on a shared database)
            return True
        row = self._exec("SELECT owner FROM claims WHERE job_id = ?", (job_id,)).fetchone()
        return row is not None and row[0] != owner and _owner_gone(row[0]) and take(row[0])

    def claim_holder(self, job_id: str) -> str | None:
        row = self._exec("SELECT owner FROM claims WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def renew(self, owner: str, seconds: float = CLAIM_SECONDS) -> None:
        self._exec("UPDATE claims SET expires_at = ? WHERE owner = ?", (time.time() + seconds, owner))

    def release(self, owner: str, job_id: str | None = None) -> None:
        """Let go of one claim, or (no job id) of every claim `owner` holds."""
        if job_id is None:
            self._exec("DELETE FROM claims WHERE owner = ?", (owner,))
        else:
            self._exec("DELETE FROM claims WHERE job_id = ? AND owner = ?", (job_id, owner))

    # --- cost ledger ------------------------------------------------------------------------

    def charge(
        self, job_id: str, model: str, amount: float, project: str = "", estimated: bool = False, sandbox: bool = False
    ) -> None:
        """One ledger line per job (a second charge for the same job is ignored: never pay twice on paper).
        `sandbox`: a job the sandbox's fakes made: listed apart, never counted against a budget."""
        at = datetime.now(timezone.utc)
        row = self._exec("SELECT user_name, host FROM jobs WHERE id = ?", (job_id,)).fetchone()  # not the whole job
        user, host = (row[0] or "", row[1] or "") if row is not None else ("", "")
        with self.transaction():
            cur = self._exec(
                "INSERT INTO ledger (job_id, at, day, model, project, amount, estimated, sandbox, user_name, host)"
                " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (job_id) DO NOTHING",
                (
                    job_id,
                    at.isoformat(timespec="seconds"),
                    local_day(at),
                    model,
                    project,
                    amount,
                    int(estimated),
                    int(sandbox),
                    user,
                    host,
                ),
            )
            if cur.rowcount == 1:
                self._settle(job_id, (0.0 if sandbox else amount, local_day(at), project, user))
            self.update(job_id, actual_cost=amount)

    # --- budgets: reserved before a run's first create, settled at each job's actual cost ----------

    @staticmethod
    def _scopes(day: str, project: str, user: str) -> list[tuple[str, str]]:
        return [("day", day), ("project", project), ("user", f"{day}/{user}")]

    @staticmethod
    def _counted(scope: str, name: str) -> tuple[str, tuple[str, ...]]:
        """SQL for what a scope has spent and reserved, on every seat, and its parameters."""
        day, _, user = name.partition("/")
        where, args = {
            "day": ("day = ?", (name,)),
            "project": ("project = ?", (name,)),
            "user": ("day = ? AND user_name = ?", (day, user)),
        }[scope]
        return (
            f"(SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE sandbox = 0 AND {where})"
            f" + (SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE {where})"
        ), (*args, *args)

    def _ensure_budget(self, scope: str, name: str) -> None:
        """The budget row of one scope, counted from the ledger and the open reservations on first use."""
        counted, args = self._counted(scope, name)
        self._exec(
            f"INSERT INTO budgets (scope, name, committed) VALUES (?, ?, {counted})"
            " ON CONFLICT (scope, name) DO NOTHING",
            (scope, name, *args),
        )

    def committed(self, scope: str, name: str | None = None) -> float:
        """Spent and reserved, on every seat: today ('day'), by a project, or by a user today ('user',
        this seat's user when `name` is None)."""
        if name is None:
            name = local_day() if scope == "day" else f"{local_day()}/{whoami()[0]}"
        counted, args = self._counted(scope, name)
        return float(self._exec(f"SELECT {counted}", args).value())

    def reserve(self, items: Iterable[tuple[str, float, str]], caps: Caps) -> None:
        """Reserve each `(job_id, estimate, project)` against every cap that applies, all or none: raises
        BudgetExceeded (and reserves nothing) when one would be passed by what is spent and reserved, on
        every seat, plus this. Each cap is one conditional UPDATE, so concurrent runs queue on its row."""
        items = [i for i in items if i[1] > 0]
        if not caps or not items:
            return
        day, (user, _) = local_day(), whoami()
        with self.transaction():
            marks = ",".join("?" * len(items))
            held = {
                r[0]
                for r in self._exec(f"SELECT job_id FROM reservations WHERE job_id IN ({marks})", [i[0] for i in items])
            }
            items = [i for i in items if i[0] not in held]  # a job reserved once (then resent) counts once
            needs: dict[tuple[str, str], float] = {}  # what this run adds to each cap it meets
            terms: dict[tuple[str, str], tuple[float, str, str]] = {}  # that cap's limit, name, and when
            for _, amount, project in items:
                limits = {
                    ("day", day): (caps.day, "the daily cap", "today"),
                    ("project", project): (
                        (caps.projects or {}).get(project),
                        f"the budget of project '{project}'",
                        "so far",
                    ),
                    ("user", f"{day}/{user}"): (caps.user_day, f"{user}'s daily cap", f"by {user} today"),
                }
                for key, (limit, label, when) in limits.items():
                    if limit is not None:
                        needs[key] = needs.get(key, 0.0) + amount
                        terms[key] = (limit, label, when)
            for scope, name in sorted(needs):  # one order on every seat: no two runs wait on each other
                amount, (limit, label, when) = needs[(scope, name)], terms[(scope, name)]
                self._ensure_budget(scope, name)
                cur = self._exec(
                    "UPDATE budgets SET committed = committed + ? WHERE scope = ? AND name = ? AND committed + ? <= ?",
                    (amount, scope, name, amount, limit + 1e-9),
                )
                if cur.rowcount == 0:
                    committed = self._exec(
                        "SELECT committed FROM budgets WHERE scope = ? AND name = ?", (scope, name)
                    ).value()
                    raise BudgetExceeded(
                        f"This run would cost about ${amount:.2f}; with ${committed:.2f} already spent or reserved "
                        f"{when} (every seat of this database) that passes {label} of ${limit:.2f}.",
                        "Wait for the budget to free up, or raise the cap in settings.toml.",
                    )
            for job_id, amount, project in items:
                self._exec(
                    "INSERT INTO reservations (job_id, day, project, user_name, amount) VALUES (?,?,?,?,?)",
                    (job_id, day, project, user, amount),
                )

    def reserved(self) -> float:
        """What runs have reserved and not yet settled, on every seat."""
        return float(self._exec("SELECT COALESCE(SUM(amount), 0) FROM reservations").value())

    def _settle(self, job_id: str, spent: tuple[float, str, str, str] | None) -> None:
        """Give back a job's reservation and, when it was charged (`spent`: amount, day, project, user),
        count what it really cost; on the budget rows that exist (the others count from the ledger)."""
        moves: dict[tuple[str, str], float] = {}
        row = self._exec(
            "SELECT day, project, user_name, amount FROM reservations WHERE job_id = ?", (job_id,)
        ).fetchone()
        if row is not None:
            self._exec("DELETE FROM reservations WHERE job_id = ?", (job_id,))
            for key in self._scopes(row[0], row[1], row[2]):
                moves[key] = moves.get(key, 0.0) - float(row[3])
        if spent is not None and spent[0]:
            for key in self._scopes(*spent[1:]):
                moves[key] = moves.get(key, 0.0) + spent[0]
        for (scope, name), delta in sorted(moves.items()):
            if abs(delta) > 1e-12:
                self._exec(
                    "UPDATE budgets SET committed = committed + ? WHERE scope = ? AND name = ?", (delta, scope, name)
                )

    def charged_to_sandbox(self, job_id: str) -> bool:
        row = self._exec("SELECT sandbox FROM ledger WHERE job_id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def spent_on(self, day: str | None = None) -> float:
        """Real spend on a day (the sandbox's is not money)."""
        return float(
            self._exec(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE day = ? AND sandbox = 0", (day or local_day(),)
            ).value()
        )

    def spend(self, by: str = "day", since: date | None = None, sandbox: bool = False) -> list[tuple[str, float, int]]:
        """(group, total USD, jobs) rows, grouped by 'day', 'model', 'project', 'user' or 'host'; real spend, or with
        `sandbox` the sandbox's pretend spend."""
        column = {"day": "day", "model": "model", "project": "project", "user": "user_name", "host": "host"}[by]
        sql = f"SELECT {column}, SUM(amount), COUNT(*) FROM ledger WHERE sandbox = ?"
        args: list[Any] = [int(sandbox)]
        if since is not None:
            sql += " AND day >= ?"
            args.append(since.isoformat())
        sql += f" GROUP BY {column} ORDER BY {column}"
        return [(r[0], float(r[1]), int(r[2])) for r in self._exec(sql, args).fetchall()]

    # --- cache ------------------------------------------------------------------------------

    def cache_get(self, key: str) -> tuple[str, Path] | None:
        row = self._exec("SELECT job_id, path FROM cache WHERE key = ?", (key,)).fetchone()
        path = self.media_path(row[1]) if row else None  # `path` is NOT NULL in the cache table
        return (str(row[0]), path) if row and path else None

    def cache_stored_path(self, key: str) -> str | None:
        """The cache's path for `key` exactly as the database holds it (relative to media_root, or absolute)."""
        row = self._exec("SELECT path FROM cache WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def cache_put(self, key: str, job_id: str, path: Path) -> None:
        self._exec(
            "INSERT INTO cache (key, job_id, path, created_at) VALUES (?,?,?,?) ON CONFLICT (key) DO UPDATE"
            " SET job_id = excluded.job_id, path = excluded.path, created_at = excluded.created_at",
            (key, job_id, self.stored_path(path), now_iso()),
        )

    # --- edits (fill records, written by the placing side) ----------------------------------

    def add_edit(self, job_id: str, target_kind: str, target_ref: str, before: Any, after: Any) -> int:
        return self._db.insert_id(
            "INSERT INTO edits (job_id, target_kind, target_ref, before, after, created_at, user_name, host)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [
                _clean(a)
                for a in (
                    job_id,
                    target_kind,
                    target_ref,
                    json.dumps(before, sort_keys=True),
                    json.dumps(after, sort_keys=True),
                    now_iso(),
                    *whoami(),
                )
            ],
        )

    def edits(self, job_id: str | None = None) -> list[dict[str, Any]]:
        if job_id is None:
            rows = self._exec("SELECT * FROM edits ORDER BY id").fetchall()
        else:
            rows = self._exec("SELECT * FROM edits WHERE job_id = ? ORDER BY id", (job_id,)).fetchall()
        return [{**dict(r), "before": json.loads(r["before"]), "after": json.loads(r["after"])} for r in rows]

    # --- C2PA content credentials (provenance: each original and conformed clip, by content hash) ----

    def record_c2pa(
        self,
        sha256: str,
        *,
        job_id: str,
        role: str,
        path: Path,
        parent_sha256: str | None = None,
        label: str | None = None,
        validation: str | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        """One row per file content: `role` is "original" (the provider's download) or "conformed"
        (a clip made from the original `parent_sha256`); `manifest` is its C2PA manifest store, if any. `path` is
        kept as takes and cache entries are (relative to media_root when under it), so every seat finds it."""
        self._exec(
            "INSERT INTO credentials (sha256, job_id, role, path, parent_sha256, manifest_label, validation,"
            " manifest, recorded_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (sha256) DO UPDATE SET"
            " job_id = excluded.job_id, role = excluded.role, path = excluded.path,"
            " parent_sha256 = excluded.parent_sha256, manifest_label = excluded.manifest_label,"
            " validation = excluded.validation, manifest = excluded.manifest, recorded_at = excluded.recorded_at",
            (
                sha256,
                job_id,
                role,
                self.stored_path(path),
                parent_sha256,
                label,
                validation,
                json.dumps(manifest, sort_keys=True) if manifest is not None else None,
                now_iso(),
            ),
        )

    def c2pa_record(self, sha256: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM credentials WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return None
        return {
            **dict(row),
            "path": str(self.media_path(row["path"])) if row["path"] else row["path"],
            "manifest": json.loads(row["manifest"]) if row["manifest"] else None,
        }
