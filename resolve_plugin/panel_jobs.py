"""The panel's job list: the fills placed (and reverted), the file-mode runs, and the engine's live jobs,
newest first; the same list feeds the server-sent event stream."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from . import edits, filemode
from .job_rows import JobRow
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    return {("GET", "/api/jobs"): partial(jobs, panel), ("GET", "/api/events"): partial(jobs, panel)}


def _fill_media(panel: PanelContext, record: edits.EditRecord) -> str | None:
    """A fill's clip for its picture, without asking Resolve (the job list stays live during a fill):
    the draft's new media, else the job's own file from the journal."""
    if record.replaced is not None:
        return record.replaced.new_path
    job = panel.journal().get(record.job_id) if record.job_id else None
    return job.output_path if job is not None else None


def jobs(panel: PanelContext, _: dict) -> dict:
    rows = [
        JobRow(
            id=r.id,
            kind="draft" if r.kind == "draft" else "fill",
            title=f"{r.timeline_name} V{r.placeholder_track} '{r.placeholder_name}'",
            state="reverted" if r.reverted else "in place",
            progress=1.0,
            detail=f"job {r.job_id}",
            created=r.created,
            media=None if r.reverted else _fill_media(panel, r),
        )
        for r in edits.all_records()
    ]
    rows += [
        JobRow(
            id=r.id,
            kind="file-fill",
            title=r.export if r.action == "fill" else f"{r.action} {r.clip} in {r.export}".replace("  ", " "),
            state=r.state,
            progress=r.progress if r.state == "running" else None,
            cost_usd=r.cost_usd,
            detail=r.error or r.next_step or f"{r.finished}/{r.slots} placeholders",
            created=r.created,
        )
        for r in filemode.all_runs()
    ]
    if panel.engine_jobs is not None:
        rows += panel.engine_jobs()
    rows.sort(key=lambda j: j.created, reverse=True)
    return {"jobs": [j.model_dump() for j in rows]}
