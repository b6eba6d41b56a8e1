"""Paths of media in the journal, as every seat of a studio can read them.

Seats share one database but may mount the studio's media folder (`media_root`) at different paths
(`/Volumes/nas` on a Mac, `/mnt/nas` on Linux, a symlink on a render node). A path under this seat's
media_root is stored relative to it (with `/`), and read back against the reading seat's own
media_root; any other path is stored as it is (absolute), as before media_root existed.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def _under(path: Path, root: Path) -> PurePosixPath | None:
    for p, r in ((path, root), (path.resolve(), root.resolve())):  # as written, then with symlinks followed
        try:
            return PurePosixPath(*p.relative_to(r).parts)
        except ValueError:
            continue
    return None


def stored(path: Path | str, root: Path | None) -> str:
    """What the journal keeps for `path`: relative to `root` when under it, else the absolute path."""
    path = Path(path)
    if root is not None and path.is_absolute():
        rel = _under(path, root)
        if rel is not None and rel.parts:
            return str(rel)
    return str(path)


def located(text: str, root: Path | None) -> Path:
    """The path on this seat of what the journal keeps: a relative one is under this seat's `root`."""
    path = Path(text)
    if path.is_absolute() or root is None:
        return path
    return root / path
