"""promptreel's own process, started by the Scripts-menu entry with the bridge's address and token
in its environment. It holds the connection while the bridge runs; the panel (a local web page) and
the engine plug in here. When it exits, the bridge inside Resolve stops.
"""

from __future__ import annotations

import logging
import sys
import time

from promptreel.core.errors import UserError

from .gateway import BridgeGateway

log = logging.getLogger(__name__)


def main() -> int:
    try:
        gw = BridgeGateway.from_env()
        hello = gw.hello()
    except UserError as e:
        print(f"promptreel: {e}", file=sys.stderr)
        return 2
    log.warning("connected to %s", hello.product)
    # Until the panel lands: keep the session open so `promptreel` commands can use the bridge
    # (they find it through the session file), and leave when the bridge goes away.
    while True:
        time.sleep(5)
        try:
            gw.client.call("ping")
        except Exception:
            return 0


if __name__ == "__main__":
    sys.exit(main())
