"""The user's catalog file as promptreel writes it: entries added by `models add`, each a `[models.ID]` table
and the input map of its hosted model in `[inputs.ROUTE."MODEL_ID"]` (the shape of core/data/aggregator_inputs.toml)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BadInput
from .tomlfile import read_user_file

if TYPE_CHECKING:
    from .discover import Discovered, Mapping


def catalog_path() -> Path | None:
    """The file `catalog_file` in settings names, or None."""
    from .settings import load_settings

    named = load_settings().catalog_file
    return Path(named) if named is not None else None


def _name_in_settings(path: Path) -> None:
    """Point `catalog_file` at `path`: a top-level key, so it goes first, before any table of settings.toml."""
    from .settings import settings_path

    settings = settings_path()
    text = settings.read_text("utf-8") if settings.exists() else ""
    _write(settings, f'catalog_file = "{path.as_posix()}"  # written by `promptreel models add`\n' + text)


def user_input_maps() -> dict[str, dict[str, Any]]:
    """route -> model id -> input-map fields, from the user's catalog file (empty when there is none)."""
    path = catalog_path()
    if path is None or not path.is_file():
        return {}
    inputs = read_user_file(path, "Catalog file").get("inputs", {})
    return inputs if isinstance(inputs, dict) else {}


def write_entry(
    mid: str,
    route: str,
    found: Discovered,
    mapping: Mapping,
    price: dict[str, Any],
    price_note: str,
    replace: bool = False,
) -> Path:
    """Append the model and its input map to the user's catalog file (or rewrite both with `replace`)."""
    import tomli_w

    from .catalog import default_catalog, load_catalog
    from .settings import home

    named = catalog_path()
    path = named or home() / "catalog.toml"
    data = read_user_file(path, "Catalog file") if path.exists() else {}
    shipped = load_catalog(None).models
    if mid in shipped:
        raise BadInput(f"'{mid}' is a model of the shipped catalog.", "Give the new entry another id with --as.")
    if mid in data.get("models", {}) and not replace:
        raise BadInput(
            f"Your catalog file {path} already has '{mid}'.", "Pass --replace, or give another id with --as."
        )
    today = date.today()
    note = (
        f"Added by `promptreel models add` from {route}'s published schema. {price_note}."
        + (f" Not mapped: {'; '.join(mapping.unmapped)}." if mapping.unmapped else "")
        + (f" Assumed: {'; '.join(mapping.assumed)}." if mapping.assumed else "")
    )
    entry = {
        **mapping.entry,
        "price": price,
        "lifecycle": {"status": "available", "source": found.page, "checked_on": today, "note": note},
        "routes": [{"protocol": route, "model_id": found.model_id, "source": found.page, "checked_on": today}],
    }
    entry = {k: v for k, v in entry.items() if v != [] or k in ("inputs",)}
    if replace and mid in data.get("models", {}):
        data["models"][mid] = entry
        data.setdefault("inputs", {}).setdefault(route, {})[found.model_id] = mapping.inputs
        text = "# Your promptreel catalog (rewritten by `promptreel models add --replace`).\n" + tomli_w.dumps(data)
    else:  # appended, so the user's own comments and layout stay as they wrote them
        old = path.read_text("utf-8") if path.exists() else "# Your promptreel catalog: merged over the shipped one.\n"
        text = (
            old.rstrip("\n")
            + "\n\n"
            + tomli_w.dumps({"models": {mid: entry}, "inputs": {route: {found.model_id: mapping.inputs}}})
        )
    scratch = path.with_name(f".{path.name}.check.{os.getpid()}")
    try:  # the file must still load: never leave the user a broken catalog
        _write(scratch, text)
        load_catalog(scratch)
    finally:
        scratch.unlink(missing_ok=True)
    _write(path, text)
    if named is None:
        _name_in_settings(path)
    default_catalog.cache_clear()
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(text, "utf-8")
    os.replace(temp, path)
