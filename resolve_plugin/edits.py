"""The edit records that make every Resolve fill revertible, kept in the journal's `edits` table.

One row per fill: `target_kind` is `resolve-foreign` or `resolve-draft`, `target_ref` the record's id,
`before` what was there (the placeholder; a draft's media and metadata), `after` what the fill made and
where. A revert adds a `resolve-revert` row for the same id: the table is only ever appended to, so
the history of a fill is all there. Records from before the journal (JSON files in
`<home>/edits/`) are moved into it the first time records are read, so every earlier fill keeps its revert.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from promptreel.core import settings
from promptreel.core.errors import BadInput
from promptreel.core.journal import Journal


class Placed(BaseModel):
    item_id: str
    clip_id: str
    track: int
    start: int
    duration: int
    added_track: bool = False
    takes: list[str] = []  # pool items added as takes of the placed item (an A/B or variants fill)


class Use(BaseModel):
    """One use on the timeline of a pool item whose media a fill replaced: every use keeps these."""

    item_id: str
    track: int
    start: int
    duration: int
    left_offset: int = 0


class Replaced(BaseModel):
    clip_id: str
    old_path: str
    new_path: str
    old_metadata: dict[str, str] = {}
    old_third_party: dict[str, str] = {}


class ShotTakes(BaseModel):
    """Where the takes of one placeholder's A/B (or variants) went, by take name (`shot — model`)."""

    placeholder: str
    group: str | None = None  # the takes table's group (promptreel takes --group)
    placed: str = ""  # the take the fill placed (showing in the take selector)
    selector: list[str] = []  # the other takes, in the placed item's take selector
    in_bin: list[str] = []  # takes only side by side in the bin
    note: str = ""

    def as_dict(self) -> dict:
        return self.model_dump()


class EditRecord(BaseModel):
    id: str = Field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S-") + secrets.token_hex(4)
    )
    created: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    kind: Literal["foreign", "draft", "promote", "extend", "edit"]  # promote: a take's media replaced by the final;
    # extend: frames placed after a clip; edit: a take added to a clip's Take Selector (`placeholder_*` name the
    # clip, which stays as it was)
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
    uses: list[Use] = []  # a draft's fill: every use of its pool item on the timeline (one record for them all)
    takes: ShotTakes | None = None  # an A/B or variants fill: its takes, as placed
    reverted: str | None = None


KIND = "resolve-{}"  # target_kind of a fill
REVERT = "resolve-revert"
# The fields that say what was there before the fill; everything else is what the fill made.
BEFORE: dict[str, Any] = {
    "placeholder_id": True,
    "placeholder_name": True,
    "placeholder_track": True,
    "placeholder_start": True,
    "placeholder_duration": True,
    "uses": True,
    "replaced": {"clip_id", "old_path", "old_metadata", "old_third_party"},
}
_migrate_lock = threading.Lock()


def add(record: EditRecord, journal: Journal | None = None) -> None:
    """Journal a verified fill."""
    with using_journal(journal) as j:
        before = record.model_dump(mode="json", include=BEFORE)
        after = record.model_dump(mode="json", exclude={"id", "reverted", *BEFORE})
        if record.replaced is not None:
            after["replaced"] = {"new_path": record.replaced.new_path}
        j.add_edit(record.job_id, KIND.format(record.kind), record.id, before, after)


def mark_reverted(record: EditRecord, journal: Journal | None = None) -> EditRecord:
    record.reverted = datetime.now(timezone.utc).isoformat()
    with using_journal(journal) as j:
        j.add_edit(record.job_id, REVERT, record.id, {}, {"reverted": record.reverted})
    return record


def load(edit_id: str) -> EditRecord:
    found = next((r for r in all_records() if r.id == edit_id), None)
    if found is None:
        raise BadInput(f"No fill with id {edit_id} is recorded.", "List fills with `promptreel resolve edits`.")
    return found


def all_records() -> list[EditRecord]:
    """Every Resolve fill, oldest first, each with its revert (if any)."""
    _migrate_json()
    with using_journal(None) as j:
        rows = [r for r in j.edits() if r["target_kind"].startswith("resolve-")]
    records: dict[str, EditRecord] = {}
    for row in rows:
        ref = row["target_ref"]
        if row["target_kind"] == REVERT:
            if ref in records:
                records[ref].reverted = row["after"]["reverted"]
            continue
        before, after = row["before"], row["after"]
        replaced = {**(before.pop("replaced", None) or {}), **(after.pop("replaced", None) or {})}
        records[ref] = EditRecord.model_validate({**before, **after, "id": ref, "replaced": replaced or None})
    return sorted(records.values(), key=lambda r: r.created)


class using_journal:
    """The given journal, or the default one opened (and closed) around a block."""

    def __init__(self, journal: Journal | None):
        self.given, self.journal = journal, journal

    def __enter__(self) -> Journal:
        self.journal = self.given or Journal.open_default()
        return self.journal

    def __exit__(self, *exc: object) -> None:
        if self.given is None and self.journal is not None:
            self.journal.close()


def _migrate_json() -> None:
    """Move records kept as JSON files (before the journal had them) into the journal, once each: a
    file goes to `edits/migrated/` after its rows are in (a record already there is not added twice)."""
    folder = settings.home() / "edits"
    if not folder.is_dir():
        return
    with _migrate_lock:
        files = sorted(folder.glob("*.json"))
        if not files:
            return
        with using_journal(None) as j:
            known = {r["target_ref"] for r in j.edits() if r["target_kind"].startswith("resolve-")}
            done = folder / "migrated"
            done.mkdir(exist_ok=True)
            for path in files:
                record = EditRecord.model_validate_json(path.read_text(encoding="utf-8"))
                if record.id not in known:
                    reverted, record.reverted = record.reverted, None
                    add(record, j)
                    if reverted:
                        j.add_edit(record.job_id, REVERT, record.id, {}, {"reverted": reverted})
                path.replace(done / path.name)
