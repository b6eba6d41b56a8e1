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

from .clipmaker import ClipMaker
from .editions import decide
from .gateway import BridgeGateway
from .panel import Panel


def clip_maker() -> ClipMaker | None:
    """Where the engine + conform plug in: a callable Slot -> MadeClip (plan, generate, conform to the slot).
    The slot carries the model, frames, rate, size and bit depth; fit and codec are the editor's panel
    settings (`panel_settings.load().fit / .codec`; fit "project" = the slot's timeline setting).
    None until they land; the panel then says generation is not set up."""
    return None


def main(open_browser: bool = True, poll_seconds: float = 5.0) -> int:
    try:
        gw = BridgeGateway.from_env()
        hello = gw.hello()
    except UserError as e:
        print(f"promptreel: {e}", file=sys.stderr)
        return 2
    decision = decide(hello.product, hello.version, bridge=True)
    panel = Panel(gw, clip_maker(), mode=decision.mode, reason=decision.reason)
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
    panel = Panel(gw, clip_maker(), reason=reason)
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
