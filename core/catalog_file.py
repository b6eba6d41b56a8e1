"""A signed catalog file (an update) as read, before its models are validated: the four fields it adds to the
catalog's shape, checked, and the copy installed in the data folder.

core/catalog.py reads the installed copy from here to choose the catalog's base and validates its models;
core/catalog_update.py fetches, verifies and installs one. Neither imports the other's way round: this module
imports no catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import UserError
from .settings import home
from .tomlfile import TOMLDecodeError, loads, shipped

SCHEMA_VERSION = 1
INSTALLED = "catalog_update"  # folder in the data folder: the last good update and its signature
META = ("schema_version", "catalog_version", "published_at", "expires_on")


class UpdateRefused(UserError):
    """An update that cannot be installed; the installed catalog is unchanged."""


@dataclass
class CatalogFile:
    """A parsed catalog update (its models validated by whoever parsed it: core/catalog.py's `validated`)."""

    data: bytes
    suffix: str  # ".toml" or ".json"
    catalog_version: int
    published_at: str
    expires_on: date
    models: dict[str, Any] = field(default_factory=dict)
    signature: bytes = b""  # the detached signature it was verified with, kept beside the installed copy


def read(data: bytes, name: str = "the update") -> CatalogFile:
    """The update's fields and its models table, as given; refused when malformed or of another schema."""
    text = data.decode("utf-8", errors="replace")
    suffix = ".json" if text.lstrip().startswith("{") else ".toml"
    try:
        raw = json.loads(text) if suffix == ".json" else loads(text)
    except (ValueError, TOMLDecodeError) as e:
        raise UpdateRefused(
            f"Catalog update {name} is malformed ({str(e).splitlines()[0]}).",
            "Ask its publisher for a fixed file; the installed catalog is unchanged.",
        ) from None
    if not isinstance(raw, dict):
        raise UpdateRefused(f"Catalog update {name} is malformed (not a table).", "The installed catalog is unchanged.")
    missing = [k for k in (*META, "models") if k not in raw]
    if missing:
        raise UpdateRefused(
            f"Catalog update {name} lacks {', '.join(missing)}.",
            "It is not a promptreel catalog update; the installed catalog is unchanged.",
        )
    if raw["schema_version"] != SCHEMA_VERSION:
        raise UpdateRefused(
            f"Catalog update {name} has schema_version {raw['schema_version']!r}; this promptreel "
            f"reads {SCHEMA_VERSION}.",
            "Upgrade promptreel; the installed catalog is unchanged.",
        )
    try:
        version = raw["catalog_version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValueError("catalog_version must be an integer")
        expires = raw["expires_on"]
        if isinstance(expires, datetime):
            expires = expires.date()
        elif not isinstance(expires, date):
            expires = date.fromisoformat(str(expires))
        if not isinstance(raw["models"], dict):
            raise ValueError("models must be a table of models")
    except (ValueError, TypeError) as e:
        raise UpdateRefused(
            f"Catalog update {name} fails validation: {e}.",
            "Ask its publisher for a fixed file; the installed catalog is unchanged.",
        ) from None
    return CatalogFile(data, suffix, version, str(raw["published_at"]), expires, raw["models"])


def installed_dir() -> Path:
    return home() / INSTALLED


def installed_file() -> CatalogFile | None:
    """The installed update as read (its models not validated here), or None: none installed, or a copy that no
    longer reads."""
    for suffix in (".toml", ".json"):
        path = installed_dir() / f"catalog{suffix}"
        if path.is_file():
            try:
                return read(path.read_bytes(), str(path))
            except UserError:
                return None
    return None


def shipped_version() -> int:
    return int(shipped("catalog_meta.toml").get("catalog_version", 0))
