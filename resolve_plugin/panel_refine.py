"""The panel's API for refining a take and for the project's cast (handlers only; `Panel.routes` adds them).

- GET  /api/cast                         the cast this project sees (its own members and the shared ones)
- GET  /api/cast/image?name=N&i=I        a member's I-th image (from the data folder, where `cast add` put it)
- POST /api/cast/add    {name, images: [paths], note?, project?: bool}   add a member (images copied)
- POST /api/cast/remove {name, project?: bool}                           remove one
- POST /api/refine      {take_id, change}  a new take of the shot, changed as said (core/refine.py), its
  parent recorded; in connected mode it is imported into the take's model bin, so the panel's Promote
  works on it like on any take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promptreel.core import cast
from promptreel.core.errors import BadInput

from .panel_context import PanelContext

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], Any]]:  # /api/cast/image answers bytes
    return {
        ("GET", "/api/cast"): lambda _: cast_list(panel),
        ("GET", "/api/cast/image"): lambda body: cast_image(panel, body),
        ("POST", "/api/cast/add"): lambda body: cast_add(panel, body),
        ("POST", "/api/cast/remove"): lambda body: cast_remove(panel, body),
        ("POST", "/api/refine"): lambda body: refine(panel, body),
    }


def _project(panel: PanelContext, body: dict) -> str:
    """The Resolve project's own cast when asked (`project: true`), else the cast shared by every project."""
    return panel.project if body.get("project") else ""


def cast_list(panel: PanelContext) -> dict:
    return {"cast": [m.as_dict() for m in cast.members(panel.project)]}


def cast_image(panel: PanelContext, body: dict) -> tuple[bytes, str]:
    """One of a member's images, for its thumbnail: only files the cast records (the data folder is not
    otherwise readable from the page)."""
    name = str(body.get("name") or "").lstrip("@").lower()
    member = next((m for m in cast.members(panel.project) if m.name == name), None)
    index = str(body.get("i") or "0")
    if member is None or not index.isdigit() or int(index) >= len(member.images):
        raise BadInput(f"The cast has no image {index} of @{name}.", "Pick an image from the cast list.")
    path = member.images[int(index)]
    try:
        return path.read_bytes(), IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
    except OSError as e:
        raise BadInput(
            f"@{name}'s image {path} cannot be read ({e.strerror}).",
            "Add the member again with `promptreel cast add --replace`.",
        ) from None


def cast_add(panel: PanelContext, body: dict) -> dict:
    images = body.get("images")
    if not isinstance(images, list) or not all(isinstance(p, str) for p in images):
        raise BadInput("`images` must be a list of image file paths.", 'Send e.g. {"images": ["/path/face.png"]}.')
    member = cast.add(
        str(body.get("name") or ""),
        images,
        str(body.get("note") or ""),
        _project(panel, body),
        replace=bool(body.get("replace")),
    )
    return {"member": member.as_dict()}


def cast_remove(panel: PanelContext, body: dict) -> dict:
    cast.remove(str(body.get("name") or ""), _project(panel, body))
    return {"removed": str(body.get("name") or "").lstrip("@").lower()}


def refine(panel: PanelContext, body: dict) -> dict:
    from promptreel.core.refine import refine as make, refine_plan
    from promptreel.core.settings import output_dir
    from promptreel.core.takes import get_take

    from . import bins, panel_settings
    from .costs import estimate

    s = panel_settings.load()
    journal = panel.journal()
    take = get_take(journal, str(body.get("take_id") or ""))
    change = str(body.get("change") or "")
    with cast.project(panel.project):
        slot, plan = refine_plan(take, change)  # refused here, before anything is spent
        estimate([(f"{take.shot} — {take.model}", slot)], take.model, s.budget_usd).refuse_if_over("Refining")

        def into_bin(clip) -> dict:
            imported = bins.import_tagged(panel.gateway(), clip, s.bin, name=f"{take.shot} — {take.model} refined")
            return {"resolve_clip": imported.id}

        new = make(
            journal,
            take,
            change,
            output_dir=output_dir() / "conformed",
            budget=s.budget_usd,
            planned=(slot, plan),
            keep=into_bin if panel.gw is not None else None,
            on_event=getattr(panel.engine_jobs, "on_event", None),
        )  # the job list follows it live
    return {"take": {**new.as_dict(), "in_bin": bool(new.provenance.get("resolve_clip"))}, "warnings": plan.warnings}
