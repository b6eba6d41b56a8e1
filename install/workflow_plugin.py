"""The Workflow Integration plugin: promptreel's panel docked inside DaVinci Resolve Studio (Workspace >
Workflow Integrations > promptreel), talking to the same worker as the browser tab.

Blackmagic's Workflow Integration README (Developer/Workflow Integrations; docs/resolve-quirks.md #27): a
plugin is a folder `com.<company>.<name>/` in the plugins root holding `manifest.xml` (Id, Name, Version,
Description, FilePath of the Electron entry) and that entry; Studio scans the root at start-up. Roots:
- macOS: /Library/Application Support/Blackmagic Design/DaVinci Resolve/Workflow Integration Plugins/
- Windows: %PROGRAMDATA%\\Blackmagic Design\\DaVinci Resolve\\Support\\Workflow Integration Plugins\\
- Linux: plugins are not loaded there (scripts are); the free edition loads none: both keep the browser tab.
Ours needs no WorkflowIntegration.node: it only opens the panel (install/workflow/main.js).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from xml.sax.saxutils import escape

from promptreel.core import settings
from promptreel.core.errors import BadInput
from promptreel.core.files import write_atomic

from .scripts import Action

PLUGIN_ID = "com.promptreel.panel"
_BMD = ("Blackmagic Design", "DaVinci Resolve")
FILES = ("manifest.xml", "main.js", "package.json", "promptreel.json")


def plugins_dir(system: str, env: Mapping[str, str] | None = None, root: Path = Path("/")) -> Path | None:
    """Studio's Workflow Integration Plugins root on this OS; None where Studio loads no plugins (Linux)."""
    env = os.environ if env is None else env
    if system == "macos":
        return root / "Library" / "Application Support" / Path(*_BMD) / "Workflow Integration Plugins"
    if system == "windows":
        if not env.get("PROGRAMDATA"):
            raise BadInput(
                "%PROGRAMDATA% is not set, so Resolve's Workflow Integration Plugins folder cannot be found.",
                "Give the folder with --plugins-dir.",
            )
        return Path(env["PROGRAMDATA"]) / Path(*_BMD) / "Support" / "Workflow Integration Plugins"
    return None


def session_file(data: Path | None = None) -> Path:
    """Where a running panel worker leaves its port and token (mode 0600) for the docked plugin."""
    return (data or settings.home()) / "panel-session.json"


def plugin_files(python: str | None = None, data: Path | None = None) -> dict[str, str]:
    from promptreel import install

    version = _version()
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<BlackmagicDesign>\n    <Plugin>\n'
        f"        <Id>{PLUGIN_ID}</Id>\n        <Name>promptreel</Name>\n"
        f"        <Version>{escape(version)}</Version>\n"
        "        <Description>Fill AI-video placeholders: promptreel's panel, docked.</Description>\n"
        "        <FilePath>main.js</FilePath>\n    </Plugin>\n</BlackmagicDesign>\n"
    )
    package = {"name": PLUGIN_ID, "version": version, "main": "main.js", "private": True}
    config = {"python": python or sys.executable, "session": str(session_file(data))}
    return {
        "manifest.xml": manifest,
        "main.js": files(install).joinpath("workflow/main.js").read_text("utf-8"),
        "package.json": json.dumps(package, indent=2) + "\n",
        "promptreel.json": json.dumps(config, indent=2) + "\n",
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promptreel")
    except PackageNotFoundError:
        return "0"


def _ours(folder: Path) -> bool:
    try:
        return f"<Id>{PLUGIN_ID}</Id>" in (folder / "manifest.xml").read_text("utf-8", errors="replace")
    except OSError:
        return False


def install(root: Path, python: str | None = None, data: Path | None = None) -> list[Action]:
    """Write the plugin into `root`/com.promptreel.panel. Idempotent; never touches a folder it did not write."""
    folder = root / PLUGIN_ID
    if folder.exists() and not _ours(folder):
        raise BadInput(f"{folder} exists and is not promptreel's plugin.", "Move it away, then install again.")
    folder.mkdir(parents=True, exist_ok=True)
    actions = []
    for name, text in plugin_files(python, data).items():
        path = folder / name
        before = path.read_text("utf-8") if path.is_file() else None
        if before != text:
            write_atomic(path, text)
        actions.append(Action(path, "unchanged" if before == text else "updated" if before is not None else "written"))
    return actions


def uninstall(root: Path) -> list[Action]:
    """Remove the plugin's folder from `root`, only if it is promptreel's."""
    folder = root / PLUGIN_ID
    if not folder.exists():
        return [Action(folder, "absent")]
    if not _ours(folder):
        raise BadInput(f"{folder} is not promptreel's plugin; it was left alone.", "Remove it by hand if it should go.")
    shutil.rmtree(folder)
    return [Action(folder, "removed")]
