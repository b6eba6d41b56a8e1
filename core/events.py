"""Progress events the engine emits, for the CLI's progress bars and, later, the panel."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class EventKind(str, enum.Enum):
    QUEUED = "queued"  # journaled, waiting for a route slot
    WAITING = "waiting"  # another promptreel process is making this job; its result will be this run's
    SUBMITTED = "submitted"  # the provider took it (its job id is journaled)
    RUNNING = "running"  # generating; `progress` 0..1 where the provider says
    DOWNLOADING = "downloading"  # `bytes` of `total` (total None when the server does not say)
    DONE = "done"  # probed and in place at `path`
    CACHED = "cached"  # served from the cache at `path`, no provider call
    FAILED = "failed"  # `reason`; `resumable` when `promptreel resume` can still collect it


@dataclass(frozen=True)
class Event:
    kind: EventKind
    job_id: str
    model: str = ""
    variant: int = 0
    progress: float | None = None
    bytes: int | None = None
    total: int | None = None
    reason: str | None = None
    resumable: bool = False
    path: Path | None = None


OnEvent = Callable[[Event], None]


def ignore(event: Event) -> None:
    pass
