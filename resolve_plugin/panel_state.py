"""What the page shows first: the mode and why, and in connected mode the timeline's placeholders, the
clips that can be extended or edited, and the fills with their takes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promptreel.core.errors import UserError

from . import edits, filemode, panel_settings
from .fill import conform_target
from .panel_context import PanelContext
from .placeholders import find_placeholders


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    return {("GET", "/api/state"): partial(state, panel)}


def state(panel: PanelContext, _: dict) -> dict:
    if panel.mode == "file":
        panel.project = panel_settings.load().project
        folder = panel.watcher().folder
        return {
            "mode": "file",
            "reason": panel.reason,
            "export_dir": str(folder),
            "steps": filemode.import_steps(folder),
        }
    gw = panel.gateway()
    project, target = conform_target(gw)
    panel.project = project.name
    timeline = gw.timeline()
    return {
        "mode": panel.mode,
        "reason": panel.reason,
        "project": project.name,
        "timeline": timeline.name,
        "target": {"rate": str(target.rate), "size": str(target.size), "bit_depth": target.bit_depth},
        "placeholders": [
            {
                "id": p.item.id,
                "label": p.label,
                "kind": p.kind,
                "prompt": p.prompt,
                "frames": p.draft_frames if p.kind == "draft" else p.item.duration,
                "name": p.item.name,
                "media": _clip_path(panel, p.clip_id) if p.kind == "draft" else None,
            }
            for p in find_placeholders(timeline)
        ],
        # Clips that play media, for "Extend selected clip".
        "clips": [
            {"id": it.id, "name": it.name, "track": it.track, "start": it.start, "frames": it.duration}
            for t in timeline.tracks
            for it in t.items
            if it.kind == "clip" and it.clip_id
        ],
        # An A/B or variants fill keeps its takes: placed, in the take selector, in the bin, and why.
        "edits": [
            {
                "id": r.id,
                "name": r.placeholder_name,
                "reverted": bool(r.reverted),
                "created": r.created,
                "takes": r.takes.as_dict() if r.takes else None,
                "media": _edit_media(panel, r),
            }
            for r in edits.all_records()
            if r.timeline_id == timeline.id
        ],
    }


def _clip_path(panel: PanelContext, clip_id: str) -> str | None:
    """A pool clip's file, for its pictures (None when it has none, or Resolve cannot say)."""
    try:
        return panel.gateway().clip(clip_id).path or None if clip_id else None
    except UserError:
        return None


def _edit_media(panel: PanelContext, record: edits.EditRecord) -> str | None:
    if record.reverted:
        return None
    if record.replaced is not None:
        return record.replaced.new_path
    return _clip_path(panel, record.placed.clip_id) if record.placed else None
