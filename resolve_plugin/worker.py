"""promptreel's own process, started by the Scripts-menu entry with the bridge's address and token in
its environment: it serves the panel, opens it in the default browser, and leaves when the bridge
goes away. When it exits, the bridge inside Resolve stops.
"""

from __future__ import annotations

import os
import sys
import time
import webbrowser

from promptreel.core.errors import UserError
from promptreel.core.request import Slot

from .clipmaker import ClipMaker
from .editions import decide
from .gateway import BridgeGateway
from .panel import Panel


def clip_maker(gw) -> ClipMaker:
    """Slot -> MadeClip through the one core path: plan, the job engine, conform to the slot.
    Fit and codec are the editor's panel settings; fit "project" is the timeline's own
    mismatched-resolution setting, read from Resolve when the clip is made."""
    from promptreel.core.conform.plan import Choices
    from promptreel.core.fill import FillSettings, fill_slots_sync
    from promptreel.core.settings import output_dir

    from . import panel_settings
    from .clipmaker import MadeClip
    from .fill import conform_target

    def make(slot: Slot) -> MadeClip:
        chosen = panel_settings.load()
        fit = conform_target(gw)[1].fit if chosen.fit == "project" else chosen.fit
        settings = FillSettings(output_dir=output_dir() / "conformed", choices=Choices(fit=fit), codec=chosen.codec,
                                budget=chosen.budget_usd)
        (clip,) = fill_slots_sync([slot], settings)
        if not clip.ok:
            raise UserError(f"No clip for {slot.name or slot.prompt[:40]!r}: {clip.error}.",
                            "Nothing was placed; fix the cause and fill again (finished jobs are reused).")
        p = clip.provenance
        return MadeClip(path=clip.path, model=p["model"], prompt=slot.prompt, job_id=p["job_id"], route=p["route"],
                        seed=p["seed"], cost_usd=p["cost"], ai_generated=p["ai_generated"],
                        prompt_sha256=p.get("prompt_sha256", ""), original_sha256=p.get("original_sha256", ""))

    return make


def main(open_browser: bool = True, poll_seconds: float = 5.0) -> int:
    try:
        gw = BridgeGateway.from_env()
        hello = gw.hello()
    except UserError as e:
        print(f"promptreel: {e}", file=sys.stderr)
        return 2
    decision = decide(hello.product, hello.version, bridge=True)
    panel = Panel(gw, clip_maker(gw), mode=decision.mode, reason=decision.reason)
    panel.start()
    print(f"promptreel: panel at http://127.0.0.1:{panel.port}/ ({decision.reason})", flush=True)
    if open_browser and not os.environ.get("PROMPTREEL_NO_BROWSER"):
        webbrowser.open(panel.url)
    try:
        while True:
            time.sleep(poll_seconds)
            try:
                gw.client.call("ping")
            except Exception:  # the bridge stopped (Resolve closed, or the script was ended)
                return 0
    finally:
        panel.stop()


def serve(gw, reason: str, open_browser: bool = True) -> int:
    """`promptreel resolve panel`: the panel on its own; connected through `gw`, or in file mode when
    `gw` is None (the free edition from 21.1, or nothing answered). Serves until interrupted."""
    panel = Panel(gw, clip_maker(gw) if gw is not None else None, reason=reason)
    panel.start()
    print(f"promptreel: panel ({panel.mode} mode) at {panel.url}", flush=True)
    print(f"promptreel: {reason}", flush=True)
    if open_browser and not os.environ.get("PROMPTREEL_NO_BROWSER"):
        webbrowser.open(panel.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        panel.stop()


if __name__ == "__main__":
    sys.exit(main())
