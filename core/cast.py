"""A project's cast: named references (a name, images, a note) that any prompt can call on with `@name`.

`promptreel cast add maria face.png side.png --note "red coat"` copies the images into the data folder
(by content: the same image is kept once, and stays there for the takes made with it after `cast remove`)
and records her in the journal database's `cast_members` table, under a project ('' is every project's).

A prompt, storyboard row, `gen:` marker or template field that names `@maria` is planned (core/plan.py)
with her images as reference images, in order, up to the model's limit, and her note in the words
sent; a model that takes no references is warned about before anything is spent; an unknown name is
refused. The names used ride on the request's tags and land in each take's provenance.

    text, members = resolve("@maria crosses the square")   # "maria (red coat) crosses the square"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BadInput, UserError

if TYPE_CHECKING:
    from .catalog import Model
    from .journal import Journal
    from .request import GenerationRequest
    from .store import Record

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".webp")
NAME = re.compile(r"[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*\Z")
# `@name` not inside a word or an address (me@example.com is not a mention); a trailing hyphen is punctuation.
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)")
TAG = "cast"  # the request tag naming the members a prompt called on, comma-separated

# Which project's cast `@name` is looked up in (besides the shared one): a fill sets it for its run.
_project: ContextVar[str] = ContextVar("promptreel_cast_project", default="")


class UnknownCastMember(UserError):
    pass


@dataclass(frozen=True)
class Member:
    name: str
    images: tuple[Path, ...]
    note: str = ""
    project: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "images": [str(p) for p in self.images], "note": self.note, "project": self.project}


@contextmanager
def project(name: str) -> Iterator[None]:
    """Look `@name`s up in `name`'s cast (then the shared one) inside this block."""
    token = _project.set(name or "")
    try:
        yield
    finally:
        _project.reset(token)


def mentions(text: str) -> list[str]:
    """The names a text calls on, lower case, in first-mention order."""
    return list(dict.fromkeys(m.lower() for m in MENTION.findall(text or "")))


def check_name(name: str) -> str:
    low = name.lstrip("@").lower()
    if not NAME.match(low) or len(low) > 40:
        raise BadInput(
            f"'{name}' is not a cast name.",
            "Use a letter, then letters, digits, - or _ (at most 40), e.g. maria or old-tom.",
        )
    return low


def images_folder() -> Path:
    from .settings import home

    return home() / "cast"


def _open(journal: Journal | None) -> tuple[Journal, bool]:
    from .journal import Journal

    return (journal, False) if journal is not None else (Journal.open_default(), True)


def add(
    name: str,
    images: Sequence[Path],
    note: str = "",
    project: str = "",
    replace: bool = False,
    journal: Journal | None = None,
) -> Member:
    """Record a cast member, copying `images` into the data folder. Refuses, changing nothing, an
    unreadable or non-image file, no image at all, or a name already in the cast (unless `replace`)."""
    from .files import write_atomic
    from .journal import now_iso
    from .request import file_sha256

    name = check_name(name)
    if not images:
        raise BadInput(f"No image was given for {name}.", f"Name one or more: promptreel cast add {name} face.png.")
    for path in images:
        if Path(path).suffix.lower() not in IMAGE_TYPES:
            raise BadInput(f"{path} is not a PNG, JPEG or WebP image.", "Give images of those types.")
        if not Path(path).is_file():
            raise BadInput(f"Image {path} is missing or unreadable.", "Check the path.")
    db, mine = _open(journal)
    try:
        if not replace and _row(db, project, name) is not None:
            raise BadInput(
                f"{name} is already in the cast{_of(project)}.",
                f"Remove her first (promptreel cast remove {name}) or pass --replace.",
            )
        folder = images_folder()
        folder.mkdir(parents=True, exist_ok=True)
        kept = []
        for path in images:
            try:
                dest = folder / f"{file_sha256(Path(path))}{Path(path).suffix.lower()}"
                if not dest.exists():
                    write_atomic(dest, Path(path).read_bytes())
            except OSError as e:
                raise BadInput(
                    f"Image {path} could not be copied into the data folder ({e.strerror}).",
                    "Check the file and the free disk.",
                ) from None
            kept.append(dest)
        db.execute(
            "INSERT INTO cast_members (project, name, images, note, created_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT (project, name) DO UPDATE SET images = excluded.images, note = excluded.note",
            (project, name, json.dumps([str(p) for p in kept]), note.strip(), now_iso()),
        )
    finally:
        if mine:
            db.close()
    return Member(name, tuple(kept), note.strip(), project)


def remove(name: str, project: str = "", journal: Journal | None = None) -> None:
    """Drop a member from the cast; her images stay in the data folder for the takes made with them."""
    name = check_name(name)
    db, mine = _open(journal)
    try:
        if _row(db, project, name) is None:
            raise UnknownCastMember(f"{name} is not in the cast{_of(project)}.", "Run `promptreel cast list`.")
        db.execute("DELETE FROM cast_members WHERE project = ? AND name = ?", (project, name))
    finally:
        if mine:
            db.close()


def members(project: str | None = None, journal: Journal | None = None) -> list[Member]:
    """The cast `project` sees: its own members over the shared ones ('' ), by name. None: every project's."""
    db, mine = _open(journal)
    try:
        if project is None:
            rows = db.execute("SELECT * FROM cast_members ORDER BY project, name").fetchall()
        else:
            rows = db.execute(
                "SELECT * FROM cast_members WHERE project IN ('', ?) ORDER BY name, project = ''", (project,)
            ).fetchall()
    finally:
        if mine:
            db.close()
    found: dict[tuple[str, str], Member] = {}
    for r in rows:
        key = (r["project"] if project is None else "", r["name"])
        found.setdefault(
            key, Member(r["name"], tuple(Path(p) for p in json.loads(r["images"])), r["note"], r["project"])
        )
    return list(found.values())


def _row(db: Journal, project: str, name: str) -> Record | None:
    return db.execute("SELECT 1 FROM cast_members WHERE project = ? AND name = ?", (project, name)).fetchone()


def _of(project: str) -> str:
    return f" of project {project!r}" if project else ""


# --- resolving @names ---------------------------------------------------------------------------

# The cast read once per process and project, read again only when the database changed (a member
# added in the panel's process, or by `cast add` in another).
_seen: dict[tuple[str, str], tuple[tuple[int, ...], dict[str, Member]]] = {}


def _current() -> dict[str, Member]:
    from .settings import home

    db = home() / "journal.sqlite"
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (db, db.with_name(db.name + "-wal")))
    key = (str(db), _project.get())
    if key not in _seen or _seen[key][0] != stamp:
        _seen[key] = (stamp, {m.name: m for m in members(_project.get())})
    return _seen[key][1]


def resolve(text: str) -> tuple[str, list[Member]]:
    """`text` with each `@name` written out (its first mention followed by the note in brackets), and the
    members it names in order. Raises UnknownCastMember, naming the cast, for a name not in it."""
    names = mentions(text)
    if not names:
        return text, []
    cast = _current()
    unknown = [n for n in names if n not in cast]
    if unknown:
        known = ", ".join(f"@{n}" for n in sorted(cast)) or "none yet"
        raise UnknownCastMember(
            f"{', '.join('@' + n for n in unknown)} {'is' if len(unknown) == 1 else 'are'} not "
            f"in the cast{_of(_project.get())} (cast: {known}).",
            f"Add with `promptreel cast add {unknown[0]} IMAGE...`, or fix the name.",
        )
    said: set[str] = set()

    def spell(m: re.Match[str]) -> str:
        member = cast[m.group(1).lower()]
        first = member.name not in said
        said.add(member.name)
        return f"{m.group(1)} ({member.note})" if first and member.note else m.group(1)

    return MENTION.sub(spell, text), [cast[n] for n in names]


@dataclass(frozen=True)
class Casting:
    """What a prompt's `@names` add to a request for one model."""

    prompt: str
    reference_images: tuple[Path, ...]
    tags: dict[str, str]
    warnings: list[str]


def cast_for(prompt: str, model: Model, given: Sequence[Path] = ()) -> Casting:
    """The prompt written out and the reference images to send `model` for the `@names` in `prompt`, after
    the images already `given`: each member's in order, up to the model's limit. A model that takes no
    references gets the notes only, with a warning (none for the free local draft)."""
    text, cast = resolve(prompt)
    if not cast:
        return Casting(prompt, tuple(given), {}, [])
    names = ", ".join(f"@{m.name}" for m in cast)
    tags = {TAG: ",".join(m.name for m in cast)}
    wanted = list(dict.fromkeys(p for m in cast for p in m.images))
    if "reference_images" not in model.inputs or model.max_reference_images <= 0:
        local = all(r.protocol == "draft" for r in model.routes)
        warn = (
            []
            if local
            else [
                f"{names}: {model.name} takes no reference images, so only the words (the notes) "
                "are sent, not the images. Choose a model that takes references to send them."
            ]
        )
        return Casting(text, tuple(given), tags, warn)
    room = max(0, model.max_reference_images - len(given))
    sent = wanted[:room]
    warnings = []
    if len(sent) < len(wanted):
        warnings.append(
            f"{model.name} takes at most {model.max_reference_images} reference images: "
            f"{len(wanted) - len(sent)} of {names}'s {len(wanted)} are not sent (the first ones are)."
        )
    return Casting(text, (*given, *sent), tags, warnings)


def references(request: GenerationRequest) -> list[dict[str, Any]]:
    """Each reference image a request sends, with its SHA-256 (a take's provenance)."""
    from .request import file_sha256

    out = []
    for path in request.reference_images:
        try:
            digest = file_sha256(Path(path))
        except OSError:
            digest = None
        out.append({"image": str(path), "sha256": digest})
    return out


def cast_shape(text: str) -> tuple[tuple[str, ...], int] | tuple[()]:
    """What a slot's `@names` add to its plan's shape (the OTIO fill plans slots alike once): the names and
    the length of the words sent. Raises for an unknown name, before anything is spent."""
    names = mentions(text)
    return (tuple(names), len(resolve(text)[0])) if names else ()


def names_in(request: GenerationRequest) -> list[str]:
    tag = request.tags.get(TAG, "")
    return [n for n in tag.split(",") if n]
