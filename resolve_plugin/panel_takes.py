"""The panel's API for takes (in both modes: they are in the journal however they were made): the
list, choosing one, a clip's pictures, and a take's or clip's provenance."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from promptreel.core import pictures, takes
from promptreel.core.errors import BadInput

from .media_folders import media_folders
from .panel_context import PanelContext

TAKES_SHOWN = 30


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], Any]]:  # /api/media answers bytes
    return {
        ("GET", "/api/takes"): partial(list_takes, panel),
        ("POST", "/api/takes/choose"): partial(choose_take, panel),
        ("GET", "/api/media"): partial(media, panel),
        ("GET", "/api/provenance"): partial(provenance, panel),
    }


def list_takes(panel: PanelContext, _: dict) -> dict:
    """The newest takes, newest first; `depth`: how many refinements from its chain's first take (the
    indent `promptreel takes` gives it)."""
    recent = takes.list_takes(panel.journal())[-TAKES_SHOWN:]
    by_id = {t.id: t for t in recent}
    return {
        "takes": [
            {
                **t.as_dict(),
                "in_bin": bool(t.provenance.get("resolve_clip")),
                "depth": takes.depth(t, by_id),
                "seconds": takes.making_seconds(panel.journal(), t),
            }
            for t in reversed(recent)
        ]
    }


def choose_take(panel: PanelContext, body: dict) -> dict:
    """Make a take its shot's chosen one (as `promptreel takes --choose`)."""
    take = takes.choose(panel.journal(), str(body.get("take_id") or ""))
    return {"chosen": take.id, "shot": take.shot}


def media(panel: PanelContext, body: dict) -> tuple[bytes, str]:
    """A clip's picture (`kind`: thumb, strip, play) from its file (`path`), which must lie in one of
    promptreel's media folders: the page cannot read anything else on the machine."""
    clip = Path(str(body.get("path") or "")).expanduser()
    roots = [Path(f) for f in media_folders()]
    if not clip.is_absolute() or not any(clip.resolve().is_relative_to(r) for r in roots):
        raise BadInput("That file is not one promptreel made.", "Pick a placeholder, take or job in the panel.")
    path, ctype = pictures.picture(clip.resolve(), str(body.get("kind") or "thumb"))  # type: ignore[arg-type]
    return path.read_bytes(), ctype


def provenance(panel: PanelContext, body: dict) -> dict:
    """The chain (core/provenance.py) for a take (`take`) or a media pool clip the panel made (`clip`):
    the conformed file, its marks, the provider's original and its C2PA credentials."""
    from promptreel.core.c2pa import trust_anchors
    from promptreel.core.cli.provenance import describe
    from promptreel.core.provenance import chain
    from promptreel.core.settings import load_settings

    if body.get("take"):
        take = takes.get_take(panel.journal(), str(body["take"]))
        if take.path is None:
            raise BadInput(f"Take {take.id} has no clip ({take.error or 'not made'}).", "Pick a take that was made.")
        path, what = take.path, f"take {take.id} ({take.shot} — {take.model})"
    elif body.get("clip"):
        clip = panel.gateway().clip(str(body["clip"]))
        if not clip.path:
            raise BadInput(f"Clip {clip.name or clip.id} has no file.", "Pick a clip promptreel made.")
        path, what = Path(clip.path), f"clip {clip.name or clip.id}"
    else:
        raise BadInput("No take or clip given.", "Ask for ?take=ID or ?clip=ID.")
    found = chain(path, panel.journal(), trust_anchors(load_settings()))
    return {"of": what, "chain": found, "lines": describe(found)}
