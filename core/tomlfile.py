"""TOML in one place: the data files shipped in the package, and the user's files, read with
errors that say what is wrong and what to do."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import BadInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def shipped(name: str) -> dict[str, Any]:
    """A data file of the package (core/data/NAME)."""
    return tomllib.loads(resources.files("promptreel.core").joinpath(f"data/{name}").read_text("utf-8"))


def read_user_file(path: Path, what: str, if_missing: str = "Check the path.") -> dict[str, Any]:
    """A user's TOML file; `what` names it in messages ("Shot file", "Catalog file", ...)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise BadInput(f"{what} {path} does not exist.", if_missing) from None
    except IsADirectoryError:
        raise BadInput(f"{what} {path} is a folder.", "Give the path of a .toml file.") from None
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{what} {path} is not valid TOML: {e}.", "Fix the file and try again.") from None
