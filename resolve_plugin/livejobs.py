"""The engine's jobs as the panel's job list shows them, live: each job's latest event becomes a row
(queued, submitted, running with the provider's progress, downloading with bytes, done, failed).

The engine calls `on_event` from its event loop while the panel reads `rows()` from its HTTP threads,
so both take the lock. Only the newest jobs are kept: the journal holds the full history. Every change
bumps `changes`, which the panel's server-sent event stream waits on (no polling).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from promptreel.core.events import Event, EventKind
from promptreel.core.journal import Journal, now_iso
from promptreel.core.keys import redact
from promptreel.core.takes import shot_name

from .changes import Changes
from .job_rows import JobRow

KEEP = 100


class LiveJobs:
    def __init__(self, journal: Journal | None = None, keep: int = KEEP):
        self.changes = Changes()
        self._journal = journal
        self._keep = keep
        self._rows: OrderedDict[str, JobRow] = OrderedDict()
        self._lock = threading.Lock()

    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal.open_default()
        return self._journal

    def on_event(self, event: Event) -> None:
        with self._lock:
            row = self._rows.get(event.job_id) or self._new_row(event)
            update = self._update(event)
            update["detail"] = redact(update["detail"])
            if event.kind is EventKind.DONE:  # the ledger's charge, once the job is paid for
                job = self.journal().get(event.job_id)
                if job is not None and job.actual_cost is not None:
                    update["cost_usd"] = job.actual_cost
            self._rows[event.job_id] = row.model_copy(update=update)
            while len(self._rows) > self._keep:
                self._rows.popitem(last=False)
        self.changes.bump()

    def _new_row(self, event: Event) -> JobRow:
        job = self.journal().get(event.job_id)
        prompt = str(job.request.get("prompt", "")) if job else ""
        # The placeholder's or take's shot name travels as a tag on the request (not part of its identity).
        shot = str((job.request.get("tags") or {}).get("shot") or "") if job else ""
        title = (
            f"{shot} · " if shot else ""
        ) + f"{event.model}{f' #{event.variant + 1}' if event.variant else ''} '{prompt[:40]}'"
        return JobRow(
            id=event.job_id,
            kind="engine",
            title=title,
            state="queued",
            shot=shot or shot_name(prompt),
            model=event.model,
            cost_usd=job.estimated_cost if job else None,
            created=job.created_at if job else now_iso(),
            started=now_iso(),
        )

    @staticmethod
    def _update(event: Event) -> dict:
        kind = event.kind
        if kind is EventKind.RUNNING:
            return {"state": "running", "progress": event.progress, "detail": "generating"}
        if kind is EventKind.DOWNLOADING:
            share = event.bytes / event.total if event.bytes is not None and event.total else None
            return {
                "state": "downloading",
                "progress": share,
                "detail": f"{(event.bytes or 0) // 1024} KiB" + (f" of {event.total // 1024}" if event.total else ""),
            }
        if kind in (EventKind.DONE, EventKind.CACHED):
            return {
                "state": "done",
                "progress": 1.0,
                "ended": now_iso(),
                "media": str(event.path) if event.path else None,
                "detail": "from the cache (no charge)" if kind is EventKind.CACHED else "delivered",
                **({"cost_usd": 0.0} if kind is EventKind.CACHED else {}),
            }
        if kind is EventKind.WAITING:
            return {"state": "waiting", "progress": None, "detail": "being made by another promptreel run"}
        if kind is EventKind.FAILED:
            return {
                "state": "failed",
                "progress": None,
                "ended": now_iso(),
                "detail": (event.reason or "failed")
                + (" (kept: `promptreel resume` collects it)" if event.resumable else ""),
            }
        return {"state": kind.value, "progress": None, "detail": ""}  # queued, submitted

    def rows(self) -> list[JobRow]:
        with self._lock:
            return list(self._rows.values())

    __call__ = rows  # the panel's EngineJobs hook
