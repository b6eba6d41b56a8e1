"""Where Resolve looks for Scripts-menu entries, and installing / removing promptreel's.

Folders (Blackmagic's README; docs/resolve-quirks.md #27):
- macOS: ~/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts
  (all users: /Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts)
- Windows: %APPDATA%\\Blackmagic Design\\DaVinci Resolve\\Support\\Fusion\\Scripts
  (all users: %PROGRAMDATA%\\Blackmagic Design\\DaVinci Resolve\\Fusion\\Scripts)
- Linux: ~/.local/share/DaVinciResolve/Fusion/Scripts (all users: /opt/resolve/Fusion/Scripts)
The entry goes in `Edit/` (the Edit page's menu) and `Utility/` (every page).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from promptreel.core import settings
from promptreel.core.errors import BadInput

from .entry import MARKER, render

SUBFOLDERS = ("Edit", "Utility")
FILENAME = "promptreel.py"
_BMD = ("Blackmagic Design", "DaVinci Resolve")


def system_name(platform: str | None = None) -> str:
    platform = platform or sys.platform
    return "macos" if platform == "darwin" else "windows" if platform.startswith("win") else "linux"


def scripts_dir(
    system: str,
    all_users: bool = False,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    root: Path = Path("/"),
) -> Path:
    """Resolve's Scripts folder for this OS. `home`, `env` and `root` exist so tests can lay out a fake machine."""
    home = Path.home() if home is None else home
    env = os.environ if env is None else env
    if system == "macos":
        base = root if all_users else home
        return base / "Library" / "Application Support" / Path(*_BMD) / "Fusion" / "Scripts"
    if system == "windows":
        var = "PROGRAMDATA" if all_users else "APPDATA"
        if not env.get(var):
            raise BadInput(
                f"%{var}% is not set, so Resolve's Scripts folder cannot be found.",
                "Give the folder with --scripts-dir.",
            )
        base = Path(env[var]) / Path(*_BMD)
        return base / "Fusion" / "Scripts" if all_users else base / "Support" / "Fusion" / "Scripts"
    if all_users:
        return root / "opt" / "resolve" / "Fusion" / "Scripts"
    return home / ".local" / "share" / "DaVinciResolve" / "Fusion" / "Scripts"


@dataclass
class Action:
    path: Path
    what: str  # "written", "updated", "unchanged", "removed", "absent"

    def __str__(self) -> str:
        return f"{self.what:9} {self.path}"


def entry_text(python: str | None = None, data: Path | None = None) -> str:
    from promptreel.resolve_plugin import bridge

    return render(
        python=python or sys.executable,
        bridge=str(Path(bridge.__file__).resolve().parent),
        data=str(data or settings.home()),
    )


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace").splitlines()[:5]
    except OSError:
        return False


def install(folder: Path, python: str | None = None, data: Path | None = None) -> list[Action]:
    """Write the entry into `folder`/Edit and `folder`/Utility. Idempotent; never overwrites a file it did not write."""
    text = entry_text(python, data)
    targets = [folder / sub / FILENAME for sub in SUBFOLDERS]
    foreign = [t for t in targets if t.exists() and not _ours(t)]
    if foreign:
        raise BadInput(
            f"{foreign[0]} exists and was not written by promptreel; nothing was installed.",
            "Rename or remove that file, or install into another folder with --scripts-dir.",
        )
    actions = []
    for target in targets:
        if target.exists() and target.read_text(encoding="utf-8") == text:
            actions.append(Action(target, "unchanged"))
            continue
        what = "updated" if target.exists() else "written"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        actions.append(Action(target, what))
    return actions


def uninstall(folder: Path) -> list[Action]:
    """Remove the entries promptreel wrote; anything else is left alone."""
    actions = []
    for target in (folder / sub / FILENAME for sub in SUBFOLDERS):
        if target.exists() and _ours(target):
            target.unlink()
            actions.append(Action(target, "removed"))
        else:
            actions.append(Action(target, "absent" if not target.exists() else "not ours, left alone"))
    return actions


def installed(folder: Path) -> bool:
    return all(_ours(folder / sub / FILENAME) for sub in SUBFOLDERS)
