"""Prompt templates in the journal database: save, render, export/import round trip."""

import sqlite3

import pytest

from promptreel.core.errors import BadInput
from promptreel.core.prompts.templates import (
    MissingPlaceholders,
    TemplateStore,
    UnknownTemplate,
    journal_path,
    new_template,
    placeholders,
)

NIGHT = new_template(
    "night exterior",
    "{subject} crosses {place} at {time_of_day}, sodium light.",
    ["ext", "night"],
    "House look for night exteriors",
)
# Quotes, backslashes, newlines, non-ASCII and literal braces all survive the round trip.
ODD = new_template('odd "one"', 'Line one\\n\n  line two: "{subject}" — {{literal}} \t ✓', ["weird"])


@pytest.fixture
def store(isolated_home):
    return TemplateStore()


def test_lives_in_the_journal_database_in_wal_mode(store, isolated_home):
    store.save(NIGHT)
    assert store.path == journal_path() == isolated_home / "journal.sqlite"
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT name FROM templates").fetchall() == [("night exterior",)]


def test_shares_the_database_without_touching_other_tables(store):
    from promptreel.core.journal import Journal

    journal = Journal(store.path)
    journal.add_job(
        batch_id="b",
        request={},
        cache_key="k",
        variant=0,
        model="draft",
        route_key="draft:draft",
        estimated_cost=0.0,
        job_id="job-1",
    )
    store.save(NIGHT)
    store.delete(NIGHT.name)
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT id FROM jobs").fetchall() == [("job-1",)]
    journal.close()


def test_save_get_list_by_tag_delete(store):
    store.save(NIGHT)
    store.save(new_template("day", "{subject} at noon", ["ext"]))
    assert store.get("night exterior") == NIGHT
    assert [t.name for t in store.list()] == ["day", "night exterior"]
    assert [t.name for t in store.list(tag="night")] == ["night exterior"]
    assert store.list(tag="int") == []
    store.delete("day")
    assert [t.name for t in store.list()] == ["night exterior"]
    with pytest.raises(UnknownTemplate, match="Saved templates: night exterior"):
        store.get("day")
    with pytest.raises(UnknownTemplate):
        store.delete("day")


def test_saving_over_a_name_needs_replace(store):
    store.save(NIGHT)
    changed = new_template(NIGHT.name, "{subject} at dusk")
    with pytest.raises(BadInput, match="already exists.*--replace"):
        store.save(changed)
    assert store.get(NIGHT.name) == NIGHT  # unchanged
    store.save(changed, replace=True)
    assert store.get(NIGHT.name) == changed


def test_render_fills_placeholders_and_names_every_missing_one():
    assert NIGHT.placeholders == ["subject", "place", "time_of_day"]
    text = NIGHT.render({"subject": "a cyclist", "place": "the bridge", "time_of_day": "3 a.m.", "extra": "x"})
    assert text == "a cyclist crosses the bridge at 3 a.m., sodium light."
    with pytest.raises(MissingPlaceholders) as e:
        NIGHT.render({"subject": "a cyclist", "time_of_day": "  "})
    assert "place, time_of_day" in str(e.value) and "--set place=" in str(e.value)


def test_literal_braces_are_not_placeholders():
    t = new_template("braces", "a {{literal}} and {subject}")
    assert t.placeholders == ["subject"]
    assert t.render({"subject": "fox"}) == "a {literal} and fox"


@pytest.mark.parametrize("text", ["{}", "{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>5}", "{open", "close}"])
def test_only_plain_placeholders_are_allowed(text):
    with pytest.raises(BadInput):
        placeholders(text)
    with pytest.raises(BadInput):
        new_template("t", text)


@pytest.mark.parametrize("name", ["", " padded", "two\nlines"])
def test_bad_names_are_refused(name):
    with pytest.raises(BadInput, match="name"):
        new_template(name, "x")


def test_export_import_round_trip_is_exact(store, tmp_path, monkeypatch):
    store.save(NIGHT)
    store.save(ODD)
    first = tmp_path / "house.toml"
    assert store.export(first) == 2

    # Another editor's machine: a fresh database.
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "other"))
    other = TemplateStore()
    assert sorted(other.import_(first)) == sorted([NIGHT.name, ODD.name])
    assert other.get(ODD.name) == ODD and other.get(NIGHT.name) == NIGHT
    second = tmp_path / "again.toml"
    other.export(second)
    assert second.read_bytes() == first.read_bytes()
    assert other.import_(first) == []  # importing the same file again changes nothing


def test_export_never_overwrites_unless_asked(store, tmp_path):
    store.save(NIGHT)
    target = tmp_path / "house.toml"
    target.write_text("mine")
    with pytest.raises(BadInput, match="already exists"):
        store.export(target)
    assert target.read_text() == "mine"
    store.export(target, overwrite=True)
    assert "night exterior" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["house.toml"]  # no temporary left behind


def test_import_conflicts_refuse_the_whole_file_unless_replace(store, tmp_path):
    store.save(NIGHT)
    path = tmp_path / "team.toml"
    path.write_text(
        'version = 1\n[[templates]]\nname = "night exterior"\ntext = "{subject} at night"\n'
        '[[templates]]\nname = "new one"\ntext = "{subject}"\ntags = ["x"]\n',
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match="would change existing template.*night exterior.*--replace"):
        store.import_(path)
    assert [t.name for t in store.list()] == ["night exterior"] and store.get(NIGHT.name) == NIGHT
    assert store.import_(path, replace=True) == ["night exterior", "new one"]
    assert store.get(NIGHT.name).text == "{subject} at night"
    assert store.get("new one").tags == ("x",)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("version = 1\n[[templates]]\nname = 'a'\n", "entry 1"),
        ("version = 1\n[[templates]]\nname = 'a'\ntext = '{a.b}'\n", "entry 1: Template placeholder"),
        ("version = 1\n[[templates]]\nname = 'a'\ntext = 'x'\ncolour = 'red'\n", "entry 1"),
        ("version = 2\n", "version 2"),
        ("name = 'a'\n", "unknown key(s): name"),
        ("templates = 'a'\n", "list of tables"),
        ("version = 1\n[[templates]]\nname = 'a'\ntext = 'x'\n[[templates]]\nname = 'a'\ntext = 'y'\n", "twice: a"),
        ("[[templates]\n", "not valid TOML"),
    ],
)
def test_bad_import_files_change_nothing(store, tmp_path, text, expected):
    store.save(NIGHT)
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as e:
        store.import_(path)
    assert expected in str(e.value)
    assert store.list() == [NIGHT]


def test_missing_import_file(store, tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        store.import_(tmp_path / "nope.toml")
