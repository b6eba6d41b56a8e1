"""Waiting for a bridge started in a child process (the Scripts-menu entry under a stand-in Resolve)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from promptreel.resolve_plugin.bridge.client import BridgeClient


def connect_when_ready(proc: subprocess.Popen, session: Path) -> BridgeClient:
    """A client for the bridge once it has written its session file (up to 30 s), or the child's stderr."""
    for _ in range(300):
        if session.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert session.exists(), proc.communicate()[1]
    info = json.loads(session.read_text())
    return BridgeClient(info["host"], info["port"], info["token"])
