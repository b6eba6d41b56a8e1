"""Writing files atomically: a temporary name beside the target, then one rename.

A crash leaves the old file or the new one, never half of one. The temporary file is created
with mode 0666 and the kernel takes the umask off (as for any `open(path, "w")`), so what we
write is as readable as any other file the user makes: `tempfile.mkstemp` would leave it 0600,
unreadable to a Resolve login, a render node or a NAS user.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _new_temp(path: Path, suffix: str) -> Path:
    """Create an empty file beside `path` under a fresh hidden name; return its path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            os.close(os.open(temp, flags, 0o666))
            return temp
        except FileExistsError:
            continue


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield the path of a new empty file beside `path`; when the block ends cleanly, rename it
    over `path`, else remove it (a writer may have replaced the file with a folder, as OTIO's
    `otiod` does). `suffix` ends the temporary name, for writers that go by the extension."""
    path = Path(path)
    temp = _new_temp(path, suffix)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        _remove(temp)
        raise


def write_atomic(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically (text with LF line ends); returns `path`."""
    path = Path(path)
    with replacing(path) as temp:
        if isinstance(data, bytes):
            temp.write_bytes(data)
        else:
            with open(temp, "w", encoding=encoding, newline="\n") as f:
                f.write(data)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically, readable and writable by its owner only (0600) from the first
    byte: session tokens, keys kept in a file."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(temp, 0o600)  # whatever the umask
        os.replace(temp, path)
    except BaseException:
        _remove(temp)
        raise
    return path
