"""Saved prompt templates: named, tagged text with `{placeholders}`, kept in the journal database.

Only the `templates` table is ours; the rest of the database (core/store.py) belongs to the journal. Every
SQL statement for that table lives in this module. A team shares a house style by exporting
the templates to a TOML file and importing it elsewhere (the round trip is exact).
"""

from __future__ import annotations

import builtins
import json
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import store
from ..errors import BadInput, UserError
from ..files import write_atomic
from ..tomlfile import read_user_file


class UnknownTemplate(UserError):
    pass


class MissingPlaceholders(UserError):
    pass


EXPORT_VERSION = 1


def placeholders(text: str) -> list[str]:
    """The `{names}` a template text uses, in first-use order; `{{` and `}}` are literal braces.

    Only plain names are allowed: no positional `{}`, attribute access, conversions or format specs,
    so a template can never reach into Python objects when rendered."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        raise BadInput(
            f"Template text has unbalanced braces: {e}.",
            "Write placeholders as {name}, and a literal brace as {{ or }}.",
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise BadInput(
                f"Template placeholder {shown} is not a plain name.",
                "Use letters, digits and underscores only, e.g. {time_of_day}.",
            )
        if name not in names:
            names.append(name)
    return names


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    description: str = ""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if v != v.strip() or any(c in v for c in "\r\n\t"):
            raise ValueError("a template name is one line with no leading or trailing spaces")
        return v

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not t or t != t.strip() for t in v):
            raise ValueError("tags are non-empty words with no leading or trailing spaces")
        return tuple(dict.fromkeys(v))  # no duplicates, order kept

    @field_validator("text")
    @classmethod
    def _valid_placeholders(cls, v: str) -> str:
        placeholders(v)
        return v

    @property
    def placeholders(self) -> list[str]:
        return placeholders(self.text)

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every placeholder filled; names every one that `values` lacks."""
        missing = [p for p in self.placeholders if not str(values.get(p, "")).strip()]
        if missing:
            raise MissingPlaceholders(
                f"Template '{self.name}' needs a value for: {', '.join(missing)}.",
                "Give each one, e.g. " + " ".join(f"--set {m}=…" for m in missing) + ".",
            )
        return self.text.format_map({p: str(values[p]).strip() for p in self.placeholders})


def _template(**data: Any) -> Template:
    try:
        return Template(**data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'template'}: {err['msg']}" for err in e.errors())
        raise BadInput(f"Template is invalid: {problems}.", "Fix the value named above.") from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def journal_path() -> store.Target:
    return store.default_target()


class TemplateStore:
    """The `templates` table of the journal database (this seat's, or the studio's shared one)."""

    def __init__(self, path: store.Target | None = None):
        self.path: store.Target = (
            path if path is not None and store.is_postgres(path) else Path(path) if path else journal_path()
        )

    @contextmanager
    def _db(self) -> Iterator[store.Database]:
        # The table is the store's (SQLite in WAL: readers never block the engine's writes).
        with store.connect(self.path) as conn, conn.transaction():  # all or nothing
            yield conn

    @staticmethod
    def _row(row: store.Record) -> Template:
        name, text, tags, description = row
        return Template(name=name, text=text, tags=tuple(json.loads(tags)), description=description)

    def list(self, tag: str | None = None) -> list[Template]:
        with self._db() as db:
            rows = db.execute("SELECT name, text, tags, description FROM templates ORDER BY name").fetchall()
        found = [self._row(r) for r in rows]
        return [t for t in found if tag is None or tag in t.tags]

    def get(self, name: str) -> Template:
        with self._db() as db:
            row = db.execute("SELECT name, text, tags, description FROM templates WHERE name = ?", (name,)).fetchone()
            known = [r[0] for r in db.execute("SELECT name FROM templates ORDER BY name")] if row is None else []
        if row is None:
            raise UnknownTemplate(
                f"No template named '{name}'.",
                f"Saved templates: {', '.join(known)}."
                if known
                else "Save one with `promptreel templates save NAME --text ...`.",
            )
        return self._row(row)

    def save(self, template: Template, replace: bool = False) -> None:
        with self._db() as db:
            self._put(db, template, replace)

    def _put(self, db: store.Database, t: Template, replace: bool) -> None:
        now = _now()
        if not replace and db.execute("SELECT 1 FROM templates WHERE name = ?", (t.name,)).fetchone():
            raise BadInput(
                f"A template named '{t.name}' already exists.", "Give another name, or replace it with --replace."
            )
        db.execute(
            "INSERT INTO templates (name, text, tags, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET text = excluded.text, tags = excluded.tags,"
            " description = excluded.description, updated_at = excluded.updated_at",
            (t.name, t.text, json.dumps(list(t.tags)), t.description, now, now),
        )

    def delete(self, name: str) -> None:
        self.get(name)  # names the saved ones when there is no such template
        with self._db() as db:
            db.execute("DELETE FROM templates WHERE name = ?", (name,))

    def export(self, path: Path, overwrite: bool = False) -> int:
        """Write every template to a TOML file; returns how many. Never overwrites unless asked."""
        import tomli_w

        path = Path(path)
        if path.exists() and not overwrite:
            raise BadInput(f"{path} already exists.", "Choose another file name, or pass --overwrite.")
        templates = self.list()
        doc = {
            "version": EXPORT_VERSION,
            "templates": [
                {"name": t.name, "text": t.text, "tags": list(t.tags), "description": t.description} for t in templates
            ],
        }
        data = tomli_w.dumps(doc, multiline_strings=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        return len(templates)

    def import_(self, path: Path, replace: bool = False) -> builtins.list[str]:
        """Add the templates of a TOML file; returns the names added or changed. All or nothing:
        without `replace`, a name that exists here with different content refuses the whole file."""
        templates = read_templates_file(Path(path))
        with self._db() as db:
            existing = {r[0]: self._row(r) for r in db.execute("SELECT name, text, tags, description FROM templates")}
            changed = [t for t in templates if existing.get(t.name) != t]
            clashes = [t.name for t in changed if t.name in existing]
            if clashes and not replace:
                raise BadInput(
                    f"{path} would change existing template(s): {', '.join(clashes)}.",
                    "Rename them in the file, or pass --replace to overwrite.",
                )
            for t in changed:
                self._put(db, t, replace=True)
        return [t.name for t in changed]


def read_templates_file(path: Path) -> list[Template]:
    doc = read_user_file(path, "Templates file")
    unknown = sorted(set(doc) - {"version", "templates"})
    if unknown:
        raise BadInput(
            f"Templates file {path} has unknown key(s): {', '.join(unknown)}.",
            "A templates file has `version` and a `[[templates]]` list only.",
        )
    if doc.get("version", EXPORT_VERSION) != EXPORT_VERSION:
        raise BadInput(
            f"Templates file {path} is version {doc['version']}; this promptreel reads version {EXPORT_VERSION}.",
            "Export it again with this version, or upgrade promptreel.",
        )
    entries = doc.get("templates", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadInput(
            f"Templates file {path}: `templates` must be a list of tables ([[templates]]).",
            "See a file written by `promptreel templates export`.",
        )
    templates = []
    for i, entry in enumerate(entries, 1):
        try:
            templates.append(_template(**entry))
        except BadInput as e:
            raise BadInput(f"Templates file {path}, entry {i}: {e.problem}", e.fix) from None
        except TypeError:
            raise BadInput(f"Templates file {path}, entry {i} is malformed.", "Each entry is a table.") from None
    names = [t.name for t in templates]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadInput(f"Templates file {path} names a template twice: {', '.join(dupes)}.", "Keep one of each.")
    return templates


def new_template(name: str, text: str, tags: tuple[str, ...] | list[str] = (), description: str = "") -> Template:
    """A template from user input; a bad name, tag or placeholder is a BadInput."""
    return _template(name=name, text=text, tags=tuple(tags), description=description)
