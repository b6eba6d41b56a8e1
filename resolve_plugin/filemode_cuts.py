"""File mode's extend, edit and revert of an exported timeline: the code `promptreel extend`, `edit` and
`revert` run (core/timeline/), on the export, written as `<name> promptreel.otio` beside it the way a
file-mode fill is (filemode.py): Resolve-shaped, the original never touched, so importing the original
again is one revert; and Revert on a re-export of a filled timeline takes every fill, extension and edit
out of it, as `promptreel revert` does.

A run goes in the background with the job list following it, but the request waits until the run has got
past every check (the clip, the model, the length, the budget: the same ones, in the same words, as on the
command line) and reached its first job, or failed before it: a refusal is the request's answer, before
anything is spent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from promptreel.core.catalog import Catalog
from promptreel.core.errors import BadInput, UserError
from promptreel.core.extend import Edge
from promptreel.core.made import MadeClip
from promptreel.core.request import Slot
from promptreel.core.timeline.edit import edit_clip
from promptreel.core.timeline.extend import ClipRow, clip_rows, extend_clip, pick_clip
from promptreel.core.timeline.filler import Filler, FillOptions, engine_filler
from promptreel.core.timeline.revert import revert_tracks

from .filemode import FileRun, read_export, run_options, save_run, write_beside
from .panel_settings import PanelSettings

log = logging.getLogger(__name__)


def clips(export: Path) -> list[ClipRow]:
    """The clips of an export that could be extended or edited (take tracks left out)."""
    tl = read_export(export)
    return clip_rows(tl.tracks, tl.global_start_time)


class _Started:
    """A filler that says when it is first called: every check before a spend has passed."""

    def __init__(self, filler: Filler, run: FileRun):
        self.filler = filler
        self.run = run
        self.called = False
        self.event = threading.Event()

    def __call__(self, slots: Sequence[Slot], options: FillOptions) -> list[MadeClip]:
        if not self.called:
            self.called = True
            self.run.slots = len(slots)  # an edit split in pieces: a job each
            save_run(self.run)  # listed from here on: a refusal before this leaves no run behind
            self.event.set()
        return self.filler(slots, options)


def extend(
    export: Path,
    s: PanelSettings,
    filler: Filler,
    run: FileRun,
    *,
    track: int,
    at: str,
    frames: int,
    edge: Edge,
    model: str | None,
    prompt: str | None,
    on_event: Any = None,
    catalog: Catalog | None = None,
) -> None:
    """Extend the clip on video track `track` at record timecode `at` by `frames` at its `edge`."""
    tl = read_export(export)
    p = pick_clip(tl.tracks, tl.global_start_time, at=at, track=track)
    run.clip = p.clip.name
    done = extend_clip(
        tl,
        p,
        frames,
        filler,
        run_options(export, s, run, on_event, model),
        size=s.size,
        bit_depth=s.bit_depth or 10,
        prompt=prompt,
        resolve=True,
        catalog=catalog,
        edge=edge,
    )
    write_beside(tl, export, run)
    run.filled, run.cost_usd = 1, round(done.result.provenance.cost, 4)


def edit(
    export: Path,
    s: PanelSettings,
    filler: Filler,
    run: FileRun,
    *,
    track: int,
    at: str,
    instruction: str,
    handles: int,
    split: str | None,
    model: str | None,
    on_event: Any = None,
    catalog: Catalog | None = None,
) -> None:
    """Edit the clip on video track `track` at record timecode `at` with `instruction`: a take under the cut."""
    tl = read_export(export)
    p = pick_clip(tl.tracks, tl.global_start_time, at=at, track=track)
    run.clip = p.clip.name
    done = edit_clip(
        tl,
        p,
        instruction,
        filler,
        run_options(export, s, run, on_event, model),
        size=s.size,
        bit_depth=s.bit_depth or 10,
        handles=handles,
        resolve=True,
        catalog=catalog,
        split=split,
    )
    write_beside(tl, export, run)
    run.filled, run.cost_usd = 1, round(done.cost, 4)


def revert(export: Path, run: FileRun) -> None:
    """Take every promptreel fill, extension and edit out of an export (a filled timeline exported again)."""
    tl = read_export(export)
    if not revert_tracks(tl.tracks):
        raise BadInput(
            f"{export.name} holds nothing promptreel filled, extended or edited.",
            "Export the timeline you imported from promptreel, then revert that.",
        )
    write_beside(tl, export, run)


def start(
    run: FileRun,
    work: Callable[[Filler], None],
    filler: Filler | None,
    on_end: Callable[[], None],
    threads: dict[str, threading.Thread],
) -> None:
    """Run `work` in the background as `run`; return once it has passed its checks and reached its first job
    (or finished). A refusal (a UserError before any job) is raised here, in the command line's words, and
    leaves no run in the job list, as a refused fill leaves none."""
    started = _Started(filler or engine_filler, run)
    refused: list[UserError] = []

    def body() -> None:
        try:
            work(started)
        except UserError as e:
            run.state, run.error = "failed", str(e)
            if not started.called:
                refused.append(e)
        except Exception as e:
            log.exception("file-mode %s of %s failed", run.action, run.export)
            run.state, run.error = "failed", f"Internal error ({e.__class__.__name__}); see the panel's log."
        finally:
            if not refused:
                save_run(run)
            started.event.set()
            on_end()

    thread = threading.Thread(target=body, name=f"file-{run.action} {run.id}", daemon=True)
    threads[run.id] = thread
    thread.start()
    started.event.wait()
    if refused:
        raise refused[0]
