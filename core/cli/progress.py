"""Engine events for people: rich progress bars on a terminal, one plain line per state change off it
(a log, CI, a pipe), and the summary printed after a run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from ..events import Event, EventKind, OnEvent
from ..frames import rate_label

if TYPE_CHECKING:  # rich and the engine are imported when a run starts: `--help` stays fast
    from rich.console import Console
    from rich.progress import TaskID

    from ..engine import JobResult
    from ..journal import Journal


def job_label(e: Event) -> str:
    """The model in words, and a variant's number (every draft of a board read "draft #1" before)."""
    what = "draft slate" if e.model == "draft" else e.model
    return f"{what}{f' #{e.variant + 1}' if e.variant else ''}"


class ProgressView:
    """One bar per job: generation as 0..100 %, then the download in bytes."""

    def __init__(self, console: Console, shot_of: Callable[[str], str] | None = None):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.shot_of = shot_of or (lambda job_id: "")
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, e: Event) -> None:
        if e.job_id not in self._tasks:
            label = f"{self.shot_of(e.job_id) or e.job_id}  {job_label(e)}"
            self._tasks[e.job_id] = self.progress.add_task(label, total=100, status="queued")
        task = self._tasks[e.job_id]
        if e.kind is EventKind.SUBMITTED:
            self.progress.update(task, status="submitted")
        elif e.kind is EventKind.WAITING:
            self.progress.update(task, status="made by another run; waiting")
        elif e.kind is EventKind.RUNNING:
            pct = f" {e.progress:.0%}" if e.progress is not None else ""
            self.progress.update(
                task, status=f"generating{pct}", completed=(e.progress or 0) * 90
            )  # the last 10 % is the download
        elif e.kind is EventKind.DOWNLOADING:
            got = e.bytes or 0
            done = f"{got / 1e6:.1f} MB" + (f" / {e.total / 1e6:.1f} MB" if e.total else "")
            frac = got / e.total if e.total else 0
            self.progress.update(task, status=f"downloading {done}", completed=90 + 10 * frac)
        elif e.kind in (EventKind.DONE, EventKind.CACHED):
            self.progress.update(task, status=e.kind.value, completed=100)
        elif e.kind is EventKind.FAILED:
            self.progress.update(task, status="left for resume" if e.resumable else "failed")

    @contextmanager
    def shown(self) -> Iterator[ProgressView]:
        with self.progress:
            yield self


class LineView:
    """Off a terminal, where bars cannot redraw: one line per job state change, with the shot, the model,
    the time since the job was first seen, and how many of the run's jobs are finished."""

    FINISHED = (EventKind.DONE, EventKind.CACHED, EventKind.FAILED)

    def __init__(
        self,
        write: Callable[[str], None],
        shot_of: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.write, self.shot_of, self.clock = write, shot_of or (lambda job_id: ""), clock
        self._seen: dict[str, tuple[float, str]] = {}  # job -> (first seen, shot)
        self._state: dict[str, EventKind] = {}

    def __call__(self, e: Event) -> None:
        if e.job_id not in self._seen:
            self._seen[e.job_id] = (self.clock(), self.shot_of(e.job_id) or e.job_id)
        if self._state.get(e.job_id) is e.kind:  # a new percentage or byte count is not a new state
            return
        self._state[e.job_id] = e.kind
        first, shot = self._seen[e.job_id]
        state = {
            EventKind.WAITING: "made by another run; waiting",
            EventKind.FAILED: "left for resume" if e.resumable else f"failed: {e.reason or 'no reason given'}",
        }.get(e.kind, e.kind.value)
        if e.kind is EventKind.RUNNING and e.progress is not None:
            state += f" {e.progress:.0%}"
        done = sum(k in self.FINISHED for k in self._state.values())
        self.write(f"[{done}/{len(self._seen)} finished] {shot}  {job_label(e)}  {state}  {self.clock() - first:.0f} s")


class JournalShots:
    """job id -> shot name: the job's `shot` tag (generate --shot, a placeholder's name), else the name given
    for its prompt in `names`, else one made from the prompt. The journal is opened at the first question
    (a demo points the data folder elsewhere first)."""

    def __init__(self, names: dict[str, str] | None = None):
        self.names: dict[str, str] = names or {}
        self._journal: Journal | None = None

    def __call__(self, job_id: str) -> str:
        from ..journal import Journal
        from ..takes import shot_name

        if self._journal is None:
            self._journal = Journal.open_default()
        job = self._journal.get(job_id)
        if job is None:
            return ""
        prompt = str(job.request.get("prompt") or "")
        return str((job.request.get("tags") or {}).get("shot") or "") or self.names.get(prompt) or shot_name(prompt)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()


@contextmanager
def event_sink(as_json: bool, console: Console | None = None, names: dict[str, str] | None = None) -> Iterator[OnEvent]:
    """The on_event callback for a run: progress bars on a terminal, a line per state change off one (both
    on stderr), or nothing when printing JSON."""
    if as_json:
        yield lambda e: None
        return
    from rich.console import Console

    console = console or Console(stderr=True)
    shots = JournalShots(names)
    try:
        if not console.is_terminal:
            yield LineView(lambda line: click.echo(line, err=True), shots)
            return
        view = ProgressView(console, shots)
        with view.shown():
            yield view
    finally:
        shots.close()


def result_dict(r: JobResult) -> dict[str, Any]:
    info = r.info
    return {
        "job_id": r.job_id,
        "model": r.model,
        "variant": r.variant,
        "state": r.state.value,
        "path": str(r.path) if r.path else None,
        "cost_usd": r.cost,
        "cached": r.cached,
        "frames": info.frames if info else None,
        "rate": str(info.rate) if info else None,
        "size": f"{info.width}x{info.height}" if info else None,
        "error_kind": r.error_kind,
        "error": r.error,
        "resumable": r.resumable,
    }


def print_results(results: Sequence[JobResult], as_json: bool, take_ids: list[str] | None = None) -> None:
    takes: Sequence[str | None] = take_ids or [None] * len(results)
    if as_json:
        rows = [{**result_dict(r), **({"take_id": t} if t else {})} for r, t in zip(results, takes)]
        click.echo(json.dumps(rows, indent=2))
        return
    # Two lines per take, not a table: paths are long and terminals are narrow.
    for r, take in zip(results, takes):
        info = r.info
        state = "cached" if r.cached else ("left for resume" if r.resumable else r.state.value)
        what = f"{info.frames} frames @ {rate_label(info.rate)} fps  {info.width}x{info.height}  " if info else ""
        click.echo(f"{take or r.job_id}  {r.model} #{r.variant + 1}  {state}  {what}${r.cost:.2f}")
        click.echo(f"    {r.path if r.ok else (r.error or '')}")
    total = sum(r.cost for r in results)
    click.echo(f"Total cost: ${total:.2f}")
    if any(r.resumable for r in results):
        click.echo("Some jobs are not finished; run `promptreel resume` to collect them.")
