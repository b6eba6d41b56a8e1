"""The Resolve section of `promptreel doctor`: is the Scripts entry installed, does Resolve answer, which mode."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from promptreel.core import settings

from .bridge.client import BridgeClient, BridgeError
from .editions import Decision, decide


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = False  # promptreel cannot work without it: `promptreel doctor` exits non-zero
    section: str = "Resolve"


def session_file() -> Path:
    """Written by the running bridge (mode 0600) with its port and token; removed when it stops."""
    return settings.home() / "bridge.json"


def running_bridge() -> BridgeClient | None:
    path = session_file()
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        client = BridgeClient(info["host"], info["port"], info["token"], timeout=5)
        client.call("ping")
        return client
    except (OSError, ValueError, KeyError, TypeError, BridgeError):
        return None


def resolve_checks(
    external=None, bridge: BridgeClient | None = None, scripts_folder: Path | None = None
) -> tuple[list[Check], Decision]:
    """Checks and the mode decision. `external` is a `resolve` object from external scripting (or None);
    both it and `bridge` are looked up when not given."""
    from promptreel.install.scripts import installed, scripts_dir, system_name

    from .gateway import external_resolve

    checks = []
    folder = scripts_folder or scripts_dir(system_name())
    has_entry = installed(folder)
    checks.append(
        Check(
            "Scripts entry",
            has_entry,
            f"installed in {folder}" if has_entry else f"not in {folder}: run `promptreel resolve install`",
        )
    )
    if sys.platform == "darwin":
        py = Path("/usr/local/bin/python3")
        checks.append(
            Check(
                "Python for Resolve",
                py.exists(),
                "Resolve finds /usr/local/bin/python3"
                if py.exists()
                else "Resolve lists .py scripts only if it finds Python 3 at /usr/local/bin/python3 or "
                "PYTHON3HOME (Homebrew, pyenv and conda Pythons are not found)",
            )
        )
    bridge = bridge if bridge is not None else running_bridge()
    product = version = None
    if bridge is not None:
        hello = bridge.call("hello")
        product, version = hello["product"], hello["version"]
        checks.append(Check("Bridge", True, f"running inside {product}"))
    else:
        checks.append(Check("Bridge", False, "not running (start Workspace > Scripts > promptreel in Resolve)"))
    if external is None and bridge is None:
        external = external_resolve()
    if external is not None:
        product, version = external.GetProductName(), external.GetVersion()
        checks.append(Check("External scripting", True, f"{product} answers"))
    else:
        checks.append(Check("External scripting", False, "no answer (Studio only: External scripting: Local)"))
    decision = decide(product, version, external=external is not None, bridge=bridge is not None)
    checks.append(Check("Mode", decision.mode == "connected", f"{decision.mode}: {decision.reason}"))
    return checks, decision
