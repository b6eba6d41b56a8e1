"""Moved to promptreel.core.sandbox.loopback; this re-export goes once every branch is merged."""
from promptreel.core.sandbox.loopback import Call, Handler, LoopbackServer, Reply  # noqa: F401
