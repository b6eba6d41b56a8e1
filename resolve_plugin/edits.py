"""The edit records that make every Resolve fill revertible.

Stored as JSON files in `<promptreel home>/edits/` for now; the engine's journal gets an `edits`
table later and this module becomes a thin layer over it (same record shape).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from promptreel.core import settings
from promptreel.core.errors import BadInput


class Placed(BaseModel):
    item_id: str
    clip_id: str
    track: int
    start: int
    duration: int
    added_track: bool = False


class Replaced(BaseModel):
    clip_id: str
    old_path: str
    new_path: str
    old_metadata: dict[str, str] = {}
    old_third_party: dict[str, str] = {}


class EditRecord(BaseModel):
    id: str = Field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S-")
                    + secrets.token_hex(4))
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    kind: Literal["foreign", "draft"]
    project_id: str = ""
    timeline_id: str
    timeline_name: str = ""
    job_id: str = ""
    placeholder_id: str
    placeholder_name: str = ""
    placeholder_track: int
    placeholder_start: int
    placeholder_duration: int
    placed: Placed | None = None
    replaced: Replaced | None = None
    reverted: str | None = None


def edits_dir() -> Path:
    return settings.home() / "edits"


def save(record: EditRecord) -> Path:
    folder = edits_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record.id}.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load(edit_id: str) -> EditRecord:
    path = edits_dir() / f"{edit_id}.json"
    if "/" in edit_id or "\\" in edit_id or not path.is_file():
        raise BadInput(f"No fill with id {edit_id} is recorded.", "List fills with `promptreel resolve edits`.")
    return EditRecord.model_validate_json(path.read_text(encoding="utf-8"))


def all_records() -> list[EditRecord]:
    folder = edits_dir()
    if not folder.is_dir():
        return []
    return sorted((EditRecord.model_validate_json(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")),
                  key=lambda r: r.created)
