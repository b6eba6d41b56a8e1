"""Fill records live in the journal's `edits` table; records kept as JSON files before that are moved in
once, so every earlier fill keeps its revert."""

from __future__ import annotations

import pytest

from promptreel.core.journal import Journal
from promptreel.core.settings import home
from promptreel.resolve_plugin import edits
from promptreel.resolve_plugin.fill import fill, revert
from promptreel.resolve_plugin.gateway import DirectGateway
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import cut_with_placeholders


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))


def _timeline_state(timeline):
    return [(it._track, it._start, it._duration, it._enabled, it._name) for it in timeline._items()]


def test_fills_and_reverts_are_rows_in_the_journal(tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    report = fill(gw, TestPatternMaker(tmp_path / "made"))
    journal = Journal.open_default()
    rows = journal.edits()
    assert [(r["target_kind"], r["target_ref"]) for r in rows] == [("resolve-foreign", e.id) for e in report.edits]
    first = rows[0]
    assert first["job_id"] == report.edits[0].job_id
    assert first["before"]["placeholder_start"] == 86410 and first["before"]["placeholder_duration"] == 30
    assert first["after"]["placed"]["track"] == 2 and first["after"]["timeline_name"] == "Cut 1"
    assert not (home() / "edits").exists()  # no JSON files any more

    revert(gw, report.edits[0].id)
    assert journal.edits()[-1]["target_kind"] == "resolve-revert"
    loaded = {r.id: r for r in edits.all_records()}
    assert loaded[report.edits[0].id].reverted and not loaded[report.edits[1].id].reverted
    assert loaded[report.edits[1].id] == report.edits[1]  # read back whole, field for field
    journal.close()


def test_a_draft_record_keeps_the_old_media_and_metadata(tmp_path):
    from promptreel.core.request import Slot
    from promptreel.resolve_plugin import bins

    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    draft = bins.create_draft(
        gw, TestPatternMaker(tmp_path / "d"), Slot(frames=24, rate=24, size="320x180", prompt="rain on glass")
    )
    gw.add_track()
    gw.place(draft.id, 0, 24, 2, 86700)
    ids = [i.id for t in gw.timeline().tracks for i in t.items if i.clip_id == draft.id]
    (record,) = fill(gw, TestPatternMaker(tmp_path / "m"), item_ids=ids).edits
    (row,) = Journal.open_default().edits()
    assert row["before"]["replaced"]["old_path"] == draft.path
    assert row["after"]["replaced"] == {"new_path": record.replaced.new_path}
    assert edits.load(record.id) == record
    revert(gw, record.id)
    assert gw.clip(draft.id).path == draft.path


def test_json_records_from_before_the_journal_are_moved_in_and_still_revert(tmp_path):
    resolve, timeline = cut_with_placeholders()
    gw = DirectGateway(resolve)
    before = _timeline_state(timeline)
    report = fill(gw, TestPatternMaker(tmp_path / "made"))
    # Lay the records out as the previous version did: one JSON file each, no journal rows.
    folder = home() / "edits"
    folder.mkdir(parents=True)
    for record in report.edits:
        (folder / f"{record.id}.json").write_text(record.model_dump_json(indent=2), encoding="utf-8")
    old_reverted = report.edits[0].model_copy(update={"id": "20250101T000000-abcd", "reverted": "2025-01-01T00:00:00"})
    (folder / f"{old_reverted.id}.json").write_text(old_reverted.model_dump_json(), encoding="utf-8")
    (home() / "journal.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (home() / f"journal.sqlite{suffix}").unlink(missing_ok=True)

    records = {r.id: r for r in edits.all_records()}
    assert set(records) == {r.id for r in report.edits} | {old_reverted.id}
    assert records[old_reverted.id].reverted == "2025-01-01T00:00:00"
    assert list(folder.glob("*.json")) == [] and len(list((folder / "migrated").glob("*.json"))) == 3
    assert len(edits.all_records()) == 3  # moved once, not again

    for record in report.edits:
        revert(gw, record.id)
    assert _timeline_state(timeline) == before


def test_an_unknown_edit_id_is_refused():
    from promptreel.core.errors import BadInput

    with pytest.raises(BadInput, match="No fill with id nope"):
        edits.load("nope")
