"""Extend and edit of the selected clip, as the page asks for them in either mode (the edge, the frames,
the handles, the split), and file mode's handlers: the export's clips, extend, edit and revert of an
export, in the background with the job list following (filemode_cuts.py). Connected mode's extend and edit
are in panel_fills.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Literal

from promptreel.core.errors import BadInput
from promptreel.core.extend import Edge
from promptreel.core.timeline.filler import Filler

from . import filemode, filemode_cuts, panel_settings
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    if panel.mode != "file":
        return {}
    return {
        ("GET", "/api/file/clips"): partial(clips, panel),
        ("POST", "/api/extend"): partial(extend, panel),
        ("POST", "/api/edit"): partial(edit, panel),
        ("POST", "/api/file/revert"): partial(revert, panel),
    }


def edge(body: dict) -> Edge:
    value = str(body.get("edge") or "tail")
    if value == "head":
        return "head"
    if value != "tail":
        raise BadInput(f"{value!r} is not an end of a clip.", "Extend its head or its tail.")
    return "tail"


def whole(body: dict, key: str, default: int, example: str) -> int:
    """A whole number of frames from the request (`default` when not given)."""
    value = body.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{value!r} is not a number of frames.", f"Give whole frames, e.g. {example}.") from None


def split(body: dict) -> str | None:
    """As `--split`: None (off: refuse a range longer than the model edits), "" (equal pieces), or the cuts."""
    how = str(body.get("split") or "off")
    if how == "off":
        return None
    if how == "equal":
        return ""
    if how == "at":
        return str(body.get("cuts") or "")
    raise BadInput(f"{how!r} is not a way to split an edit.", "Choose off, equal pieces or at given cuts.")


# -- file mode --------------------------------------------------------------------------------------


def clips(panel: PanelContext, body: dict) -> dict:
    path = panel.watcher().path(str(body.get("name") or ""))
    return {"clips": [asdict(c) for c in filemode_cuts.clips(path)]}


def _where(body: dict) -> tuple[int, str]:
    """The clip, as the page names it in file mode: its video track and the record timecode of its first frame."""
    track, at = whole(body, "track", 0, "1"), str(body.get("at") or "")
    if track < 1 or not at:
        raise BadInput("No clip was chosen.", "Pick an export, then the clip to work on.")
    return track, at


def _start(panel: PanelContext, body: dict, action: Literal["extend", "edit"], work: Callable[..., None]) -> dict:
    path = panel.watcher().path(str(body.get("name") or ""))
    s = panel_settings.load()
    run = filemode.FileRun(export=path.name, action=action, slots=1)

    def go(filler: Filler) -> None:
        work(path, s, filler, run, on_event=getattr(panel.engine_jobs, "on_event", None))

    filemode_cuts.start(run, go, panel.filler, panel.changes.bump, panel.runs)
    return {"run": run.id, "output": filemode.output_for(path).name}


def extend(panel: PanelContext, body: dict) -> dict:
    """Extend the chosen clip of an export (`name`, `track`, `at`) by `frames` at its `edge`."""
    track, at = _where(body)
    return _start(
        panel,
        body,
        "extend",
        partial(
            filemode_cuts.extend,
            track=track,
            at=at,
            frames=whole(body, "frames", 0, "24"),
            edge=edge(body),
            model=str(body.get("model") or "") or None,
            prompt=str(body.get("prompt") or "") or None,
        ),
    )


def edit(panel: PanelContext, body: dict) -> dict:
    """Edit the chosen clip of an export with `instruction`: a take on a takes track under the cut."""
    track, at = _where(body)
    return _start(
        panel,
        body,
        "edit",
        partial(
            filemode_cuts.edit,
            track=track,
            at=at,
            instruction=str(body.get("instruction") or ""),
            handles=whole(body, "handles", 0, "8"),
            split=split(body),
            model=str(body.get("model") or "") or None,
        ),
    )


def revert(panel: PanelContext, body: dict) -> dict:
    """Take promptreel's fills, extensions and edits out of an export (a filled timeline exported again)."""
    path = panel.watcher().path(str(body.get("name") or ""))
    run = filemode.FileRun(export=path.name, action="revert")
    filemode_cuts.revert(path, run)  # no model, no spend: done while the request waits
    filemode.save_run(run)
    panel.changes.bump()
    return {"run": run.id, "output": run.output}
