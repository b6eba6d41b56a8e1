"""Moved to promptreel.core.sandbox.loopback; kept for branches not yet merged."""
from promptreel.core.sandbox.loopback import *  # noqa: F401,F403
