"""The panel's API in file mode: the exports in the watched folder, and filling one (OTIO out and back)
in the background while the job list follows it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from . import filemode, panel_settings
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    if panel.mode != "file":
        return {}
    return {("GET", "/api/exports"): partial(exports, panel), ("POST", "/api/file/fill"): partial(file_fill, panel)}


def exports(panel: PanelContext, _: dict) -> dict:
    watcher = panel.watcher()
    listed = watcher.poll()
    offer = watcher.offer(listed)
    return {
        "folder": str(watcher.folder),
        "exports": [e.model_dump() for e in listed],
        "offer": offer.name if offer else None,
    }


def file_fill(panel: PanelContext, body: dict) -> dict:
    """Start filling an export in the background; the job list follows it. Refusals (no such file,
    no placeholders, over budget, a model that cannot make a slot) come back at once."""
    s = panel_settings.load()
    path = panel.watcher().path(str(body.get("name") or ""))
    prepared = filemode.prepare(path, s, multi_shot=bool(body.get("multi_shot")))
    run = filemode.FileRun(export=path.name, slots=prepared.slots)
    filemode.save_run(run)

    def work() -> None:
        try:
            filemode.fill_export(
                path, s, panel.filler, run, prepared=prepared, on_event=getattr(panel.engine_jobs, "on_event", None)
            )
        except Exception:  # recorded on the run, which the job list shows
            pass
        finally:
            panel.changes.bump()  # the run's end, for the event stream

    thread = threading.Thread(target=work, name=f"file-fill {run.id}", daemon=True)
    panel.runs[run.id] = thread
    thread.start()
    return {"run": run.id, "output": filemode.output_for(path).name}
