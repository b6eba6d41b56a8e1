"""Output folders checked before anything is spent: a fill that pays for its takes and then cannot
write them has lost the editor's money and time."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .errors import BadInput


def is_writable(folder: Path) -> bool:
    """True when a file can be made in `folder` (an existing folder). Tested by making one, not with
    os.access: root passes that on a read-only mount or an immutable folder, and ACLs can say otherwise."""
    try:
        tempfile.NamedTemporaryFile(dir=folder, prefix=".promptreel-").close()
    except OSError:
        return False
    return True


def check_writable(folder: Path, what: str, must_exist: bool = False) -> None:
    """Refuse `folder` (`what`: "The media folder" ...) unless it is, or can be made as, a writable folder
    (`must_exist`: unless it is one). Creates nothing: a refused run leaves no empty folder behind."""
    folder = Path(folder).expanduser()
    if must_exist and not folder.exists():
        raise BadInput(f"{what} {folder} does not exist.", "Create it or choose another; nothing was spent.")
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    there = existing == folder.absolute()
    made = "" if there else f" (it would be made in {existing})"
    if not existing.is_dir():
        raise BadInput(
            f"{what} {folder} is a file, not a folder."
            if there
            else f"{what} {folder} cannot be made: {existing} is a file, not a folder.",
            "Choose another folder; nothing was spent.",
        )
    if not is_writable(existing):
        raise BadInput(
            f"{what} {folder} is not writable{made}.",
            "Choose a folder you can write to, or change its permissions; nothing was spent.",
        )
