"""What every area's handlers (panel_*.py) are given: the panel's state (its mode, the gateway and clip
maker, the background runs, the journal), without the sign-in or the route table. Panel (panel.py) builds
on it and imports the handlers, which import only this: the imports run one way."""

from __future__ import annotations

import threading
from collections.abc import Callable

from promptreel.core.errors import UserError
from promptreel.core.journal import Journal

from . import filemode, panel_settings
from .changes import Changes
from .clipmaker import ClipMaker
from .gateway import Gateway
from .job_rows import EngineJobs


class PanelContext:
    def __init__(
        self,
        gateway: Gateway | None,
        make_clip: ClipMaker | None,
        mode: str | None = None,
        filler: Callable | None = None,
        reason: str = "",
        engine_jobs: EngineJobs | None = None,
    ):
        """`gateway` None is file mode. `filler` is a timeline Filler for file mode (core/timeline/filler.py;
        None: the engine's); `reason` says why this mode, in the editor's words."""
        self.gw = gateway
        self.make_clip = make_clip
        self.mode = mode or ("connected" if gateway is not None else "file")
        self.reason = reason
        self.filler = filler
        self.engine_jobs = engine_jobs
        self.changes: Changes = getattr(engine_jobs, "changes", None) or Changes()
        self.gateway_lock = threading.Lock()  # one gateway conversation at a time
        self.runs: dict[str, threading.Thread] = {}  # file mode's background runs, by id
        self.project = ""  # the Resolve project's name, as last read (the cost ledger's project column)
        self._watcher: filemode.ExportWatcher | None = None
        self._journal: Journal | None = None

    def wait_for_runs(self, timeout: float | None = None) -> None:
        for thread in list(self.runs.values()):
            thread.join(timeout)

    def watcher(self) -> filemode.ExportWatcher:
        folder = panel_settings.load().watch_dir
        if self._watcher is None or self._watcher.folder != folder:
            folder.mkdir(parents=True, exist_ok=True)
            self._watcher = filemode.ExportWatcher(folder)
        return self._watcher

    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal.open_default()
        return self._journal

    def gateway(self) -> Gateway:
        """The gateway to Resolve; in file mode, a user error saying so."""
        if self.gw is None:
            raise UserError(
                "Resolve is not connected: the panel is in file mode.",
                "Use the export folder steps, or start promptreel from Workspace > Scripts in Resolve.",
            )
        return self.gw

    def maker(self) -> ClipMaker:
        """The clip maker; a user error when generation is not set up."""
        if self.make_clip is None:
            raise UserError("Generation is not set up in this worker.", "Run `promptreel doctor` for what is missing.")
        return self.make_clip
