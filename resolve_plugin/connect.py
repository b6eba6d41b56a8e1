"""Find a way into Resolve: the running bridge (session file or this worker's environment), else Studio
external scripting. Raises ResolveUnavailable with the edition-specific fix when neither answers."""

from __future__ import annotations

import os

from .doctor import running_bridge
from .editions import decide
from .errors import ResolveUnavailable
from .gateway import BridgeGateway, DirectGateway, Gateway, external_resolve


def connect() -> Gateway:
    if os.environ.get("PROMPTREEL_BRIDGE"):
        return BridgeGateway.from_env()
    client = running_bridge()
    if client is not None:
        host, port = client.address
        gw = BridgeGateway(host, port, token=client.token)
        client.close()
        return gw
    resolve = external_resolve()
    if resolve is not None:
        return DirectGateway(resolve)
    decision = decide(None)
    raise ResolveUnavailable("Resolve is not reachable from here.", decision.reason)
