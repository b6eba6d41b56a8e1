"""Storyboard to timeline: a shot list becomes a timeline of placeholders at a rate and start timecode.

Shot lists are CSV, a Markdown table, or JSON (a list of objects, or {"shots": [...]}), with
columns shot, duration, prompt and optional model, seed, notes, group (consecutive rows of one group
on a model that makes multi-shot takes, Kling 3.0, are made as one take, a shot each). A duration is frames ("48"),
seconds ("2s", "2.5s"; rounded to the nearest frame) or timecode ("00:00:02:00").

A row may give its prompt as a structured one instead: a `template` column naming a saved template
(`promptreel templates`) and a column for each `{placeholder}` it names, and/or columns named for the
shot fields (subject, action, location, lighting, camera_angle, camera_movement, lens, film_stock,
mood, performance, audio, negative_prompt). A free-text prompt in the same row wins. The template is
checked here, row by row, before anything is made; the prompt itself is built per model at fill time.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..core.catalog import Size
from ..core.errors import BadInput, UserError
from ..core.frames import parse_rate, rate_str
from ..core.prompts.compose import TemplateCache, spec_from
from ..core.prompts.fields import ShotFields
from ..core.timeline.metadata import NS
from ..core.timeline.timebase import rational, time_range, timecode_to_frame


class ShotRow(BaseModel):
    """One row of a shot list (core/request.py's `Shot` is one shot of a multi-shot generation)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    shot: str = Field(min_length=1)
    duration: str = Field(min_length=1)
    prompt: str | None = None
    model: str | None = None
    seed: int | None = None
    notes: str | None = None
    template: str | None = None
    group: str | None = None  # a multi-shot group: consecutive rows with one name are one take
    fields: dict[str, str] = {}  # shot fields and the template's values

    @field_validator("duration", mode="before")
    @classmethod
    def _text(cls, v):
        return str(v) if v is not None else v

    @field_validator("prompt", "model", "notes", "seed", "template", "group", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    def frames(self, rate: Fraction) -> int:
        text = self.duration.strip().lower()
        try:
            if ":" in text or ";" in text:
                return timecode_to_frame(text, rate)
            if text.endswith("s"):
                return round(Fraction(text[:-1].strip()) * rate)
            if text.endswith("f"):
                text = text[:-1]
            return int(text)
        except (ValueError, ZeroDivisionError):
            raise BadInput(
                f"Shot {self.shot}: '{self.duration}' is not a duration.",
                "Give frames (48), seconds (2s) or timecode (00:00:02:00).",
            ) from None


def parse_shots(text: str, suffix: str) -> list[ShotRow]:
    suffix = suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadInput(f"The shot list is not valid JSON ({e}).", "Fix the file.") from None
        rows = data.get("shots") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise BadInput("The JSON shot list has no list of shots.", 'Give a list, or {"shots": [...]}.')
    elif suffix in (".md", ".markdown"):
        rows = _markdown_rows(text)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
    else:
        raise BadInput(f"Unknown shot list format '{suffix}'.", "Give a .csv, .md or .json file.")
    shots = []
    templates = TemplateCache()
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise BadInput(f"Shot list row {n} is not a record.", "Each row needs shot, duration and prompt.")
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        try:
            shot = ShotRow(**{k: v for k, v in row.items() if k != "fields"})
        except ValidationError as e:
            fields = ", ".join(str(err["loc"][0]) for err in e.errors())
            raise BadInput(
                f"Shot list row {n} has a missing or bad {fields}.",
                "Each row needs shot, duration and prompt; seed is a whole number.",
            ) from None
        shots.append(_structured(shot, row, n, templates))
    if not shots:
        raise BadInput("The shot list has no shots.", "Add rows with shot, duration and prompt.")
    return shots


_COLUMNS = set(ShotRow.model_fields)


def _structured(shot: ShotRow, row: dict, n: int, templates: TemplateCache) -> ShotRow:
    """The row's shot fields and template values; refuses an unknown template or a missing value."""
    where = f"Shot list row {n} (shot {shot.shot})"
    nested = row.get("fields") or {}  # JSON may group them: {"fields": {"subject": ...}}
    if not isinstance(nested, dict):
        raise BadInput(f"{where}: `fields` is not an object.", 'Write "fields": {"subject": "…"}.')
    values = {k: v for k, v in {**row, **nested}.items() if k not in _COLUMNS and v not in (None, "")}
    wanted = set(ShotFields.model_fields)
    if shot.template:
        try:
            template = templates.get(shot.template)
        except UserError as e:
            raise type(e)(
                f"{where}: {e.problem}", f"{e.fix} Import a team's with `promptreel templates import FILE`."
            ) from None
        wanted |= set(template.placeholders)
    # Columns that are neither shot fields nor the template's are notes for people: left out.
    try:
        spec = spec_from(shot.prompt, shot.template, {k: v for k, v in values.items() if k in wanted}, where)
    except UserError as e:
        raise BadInput(e.problem, e.fix) from None
    if shot.template and not shot.prompt:
        missing = [p for p in template.placeholders if not spec.fields.get(p, "").strip()]
        if missing:
            raise BadInput(
                f"{where}: template '{shot.template}' needs a value for: {', '.join(missing)}.",
                f"Add a column for each ({', '.join(missing)}) and fill it in this row.",
            )
    if not (shot.prompt or spec.structured):
        raise BadInput(
            f"{where} has no prompt.",
            "Give a prompt, a template (with its values), or shot fields (subject, action, …).",
        )
    return shot.model_copy(update={"fields": spec.fields})


def _markdown_rows(text: str) -> list[dict]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    cells = [row for row in cells if not all(set(c) <= set("-: ") for c in row)]  # drop the |---| rule
    if not cells:
        raise BadInput("The Markdown shot list has no table.", "Give a table with a header row.")
    header = [h.lower() for h in cells[0]]
    return [dict(zip(header, row)) for row in cells[1:]]


def build_board(
    shots: list[ShotRow],
    rate: Fraction,
    start_timecode: str = "01:00:00:00",
    name: str = "storyboard",
    size: Size | None = None,
    bit_depth: int | None = None,
) -> otio.schema.Timeline:
    """One video track of placeholder clips (SolidColor generators) carrying each shot's prompt."""
    track = otio.schema.Track(name="Video 1", kind=otio.schema.TrackKind.Video)
    for shot in shots:
        frames = shot.frames(rate)
        if frames <= 0:
            raise BadInput(f"Shot {shot.shot} has zero length.", "Give it a duration of at least one frame.")
        ref = otio.schema.GeneratorReference(
            generator_kind="SolidColor", parameters={"color": "black"}, available_range=time_range(0, frames, rate)
        )
        meta = {k: v for k, v in shot.model_dump().items() if v not in (None, {}) and k != "duration"}
        clip = otio.schema.Clip(
            name=shot.shot, media_reference=ref, source_range=time_range(0, frames, rate), metadata={NS: meta}
        )
        track.append(clip)
    timeline = otio.schema.Timeline(
        name=name, global_start_time=rational(timecode_to_frame(start_timecode, rate), rate)
    )
    timeline.tracks.append(track)
    info: dict[str, str | int] = {"rate": rate_str(rate)}
    if size is not None:
        info["size"] = str(size)
    if bit_depth is not None:
        info["bit_depth"] = int(bit_depth)
    timeline.metadata[NS] = info
    return timeline


def read_shot_list(
    filepath, rate="24", start_timecode="01:00:00:00", size=None, bit_depth=None
) -> otio.schema.Timeline:
    path = Path(filepath)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist.", "Check the path.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path} cannot be read as UTF-8 text ({e.__class__.__name__}).", "Save it as UTF-8.") from None
    rate = parse_rate(rate)
    try:
        timecode_to_frame(start_timecode, rate)
    except ValueError:
        raise BadInput(
            f"'{start_timecode}' is not a timecode at {rate_str(rate)} fps.",
            "Give HH:MM:SS:FF (HH:MM:SS;FF for drop-frame 29.97/59.94).",
        ) from None
    size = Size.parse(size) if isinstance(size, str) else size
    return build_board(parse_shots(text, path.suffix), rate, start_timecode, path.stem, size, bit_depth)
