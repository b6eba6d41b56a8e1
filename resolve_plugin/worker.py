"""promptreel's own process, started by the Scripts-menu entry with the bridge's address and token in
its environment: it serves the panel, opens it in the default browser, and leaves when the bridge
goes away. When it exits, the bridge inside Resolve stops.
"""

from __future__ import annotations

import json
import os
import sys
import time
import webbrowser
from collections.abc import Callable
from dataclasses import replace

from promptreel.core.errors import UserError
from promptreel.core.events import Event
from promptreel.core.made import MadeClip
from promptreel.core.request import Slot

from .bridge.client import BridgeError
from .editions import decide
from .errors import ResolveUnavailable
from .gateway import BridgeGateway
from .livejobs import LiveJobs
from .media_folders import media_folders
from .panel import CODE_SECONDS, Panel


class EngineClipMaker:
    """Slots -> MadeClips through the one core path: plan, the job engine (one batch per call: shared
    route limits, concurrency and budget), conform to each slot. Fit and codec are the editor's panel
    settings; fit "project" is the timeline's own mismatched-resolution setting, read from Resolve
    when the clips are made. The Resolve project's name goes on every job for the cost ledger.
    `on_event` receives the engine's job events (the panel's live job list)."""

    def __init__(self, gw, on_event: Callable[[Event], None] | None = None):
        self.gw = gw
        self.on_event = on_event

    def many(self, slots: list[Slot]) -> list[MadeClip]:
        from promptreel.core.conform.plan import Choices
        from promptreel.core.settings import output_dir
        from promptreel.core.slots import FillSettings, fill_slots_sync

        from . import panel_settings
        from .fill import conform_target

        if not slots:
            return []
        chosen = panel_settings.load()
        project, target = conform_target(self.gw)
        fit = target.fit if chosen.fit == "project" else chosen.fit
        settings = FillSettings(
            output_dir=output_dir() / "conformed",
            choices=Choices(fit=fit),
            codec=chosen.codec,
            budget=chosen.budget_usd,
            project=project.name,
        )
        made = fill_slots_sync(slots, settings, on_event=self.on_event)
        return [
            clip if clip.ok else replace(clip, error=f"No clip for {slot.name or slot.prompt[:40]!r}: {clip.error}.")
            for slot, clip in zip(slots, made, strict=True)
        ]

    def __call__(self, slot: Slot) -> MadeClip:
        (made,) = self.many([slot])
        if not made.ok:
            raise UserError(
                str(made.error), "Nothing was placed; fix the cause and try again (finished jobs are reused)."
            )
        return made


def clip_maker(gw, on_event: Callable[[Event], None] | None = None) -> EngineClipMaker:
    return EngineClipMaker(gw, on_event)


def panel_for(gw, reason: str, mode: str | None = None) -> Panel:
    """The worker's panel: connected through `gw` (None: file mode), with the engine's jobs live in its list."""
    live = LiveJobs()
    return Panel(
        gw, clip_maker(gw, live.on_event) if gw is not None else None, mode=mode, reason=reason, engine_jobs=live
    )


def announce(panel: Panel) -> None:
    """Leave the panel's port and token where the plugin docked in Resolve Studio finds them (this user only)."""
    from promptreel.core.files import write_private
    from promptreel.install.workflow_plugin import session_file

    write_private(session_file(), json.dumps({"port": panel.port, "token": panel.token, "pid": os.getpid()}))


def retire(panel: Panel) -> None:
    """Remove the session file if it is still this panel's (a newer worker may have replaced it)."""
    from promptreel.install.workflow_plugin import session_file

    path = session_file()
    try:
        if json.loads(path.read_text("utf-8")).get("token") == panel.token:
            path.unlink()
    except (OSError, ValueError):
        pass


def declare_folders(gw: BridgeGateway) -> list[str]:
    """Tell the bridge promptreel's folders, first thing: it takes one declaration, so nothing can widen
    them later."""
    folders = media_folders()
    try:
        gw.client.call("folders", paths=folders)
    except BridgeError as e:
        raise ResolveUnavailable(
            f"The Resolve bridge refused promptreel's folders ({e.message}).",
            "Start promptreel again from Workspace > Scripts > promptreel in Resolve.",
        ) from None
    return folders


def main(open_browser: bool = True, poll_seconds: float = 5.0) -> int:
    try:
        gw = BridgeGateway.from_env()
        declare_folders(gw)
        hello = gw.hello()
    except UserError as e:
        print(f"promptreel: {e}", file=sys.stderr)
        return 2
    decision = decide(hello.product, hello.version, bridge=True)
    panel = panel_for(gw, decision.reason, decision.mode)
    panel.start()
    announce(panel)
    print(f"promptreel: panel at http://127.0.0.1:{panel.port}/ ({decision.reason})", flush=True)
    if open_browser and not os.environ.get("PROMPTREEL_NO_BROWSER"):
        webbrowser.open(panel.sign_in_url())  # a one-time code: the browser's command line is public
    try:
        while True:
            time.sleep(poll_seconds)
            try:
                gw.client.call("ping")
            except Exception:  # the bridge stopped (Resolve closed, or the script was ended)
                return 0
    finally:
        retire(panel)
        panel.stop()


def serve(gw, reason: str, open_browser: bool = True) -> int:
    """`promptreel resolve panel`: the panel on its own; connected through `gw`, or in file mode when
    `gw` is None (the free edition from 21.1, or nothing answered). Serves until interrupted."""
    panel = panel_for(gw, reason)
    panel.start()
    announce(panel)
    # The terminal gets its own one-time link (another browser, or --no-browser); the browser gets another.
    print(
        f"promptreel: panel ({panel.mode} mode) at {panel.sign_in_url()} (a sign-in link: it works once, "
        f"within {CODE_SECONDS:g} s)",
        flush=True,
    )
    print(f"promptreel: {reason}", flush=True)
    if open_browser and not os.environ.get("PROMPTREEL_NO_BROWSER"):
        webbrowser.open(panel.sign_in_url())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        retire(panel)
        panel.stop()


if __name__ == "__main__":
    sys.exit(main())
