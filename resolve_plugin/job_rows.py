"""A line of the panel's job list, and where the job engine's live jobs plug in: shared by the job list
(panel_jobs.py), the panel's state (panel_context.py) and the engine's live jobs (livejobs.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel


class JobRow(BaseModel):
    """One line of the panel's job list."""

    id: str
    kind: Literal["fill", "draft", "file-fill", "engine"]
    title: str
    state: str  # running, done, failed, reverted, in place; engine jobs: queued, running, ...
    progress: float | None = None  # 0..1 while running
    detail: str = ""
    cost_usd: float | None = None
    created: str = ""
    shot: str = ""  # engine jobs: the shot, and the model making it
    model: str = ""
    started: str = ""  # when this panel first saw the job, and when it ended (elapsed, in the page)
    ended: str = ""
    media: str | None = None  # the clip, once made (its pictures: /api/media)


# Where the job engine's live jobs plug in: a callable returning one JobRow per job (queued, running
# with progress, downloading, done, failed): livejobs.LiveJobs, fed by the clip maker's engine events.
# When it also has `on_event`, file-mode fills feed it too.
EngineJobs = Callable[[], list[JobRow]]
