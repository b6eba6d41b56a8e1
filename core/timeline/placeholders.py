"""Find the placeholders of a timeline and the slot each one asks for.

A clip or gap is a placeholder when it carries a prompt and is one of: a clip with a
`GeneratorReference` (any kind), a clip with a `MissingReference`, a `Gap`, or a promptreel
draft. The prompt comes from, in order: the `promptreel` metadata namespace, a marker whose
name or note starts with `gen:` (Resolve keeps notes in `metadata["Resolve_OTIO"]["Note"]`,
others in `comment`), a clip name starting with `GEN:`.

A structured prompt names a saved template and/or shot fields instead of (or beside) free text:
in the metadata as `template` and `fields` (a dict: shot fields and template values), or in a
marker or name as `gen: template=NAME key=value key="value with spaces"` (the text after `gen:`
starts with `template=`; values are shell-quoted). It is built for each model by
core/prompts/compose.py when the slot is made; free text, when given too, wins.

One pass over the tree, positions summed as it goes (no per-item index look-ups), so a
10,000-clip timeline scans in linear time.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..catalog import Catalog, Size, default_catalog
from ..errors import BadInput, UserError
from ..nesting import MAX_NESTED_COMPOSITIONS
from ..prompts.compose import PromptSpec, TemplateCache, compose, spec_from
from ..prompts.markers import parse_gen_template
from ..prompts.templates import MissingPlaceholders, TemplateStore
from ..request import Slot
from .metadata import NS, RESOLVE_NS, meta_get, namespace
from .timebase import BadTime, NotFrameAligned, exact_rate, frames_at, record_timecode

DEFAULT_SIZE = Size(width=1920, height=1080)
DEFAULT_BIT_DEPTH = 10
_GEN = "gen:"


@dataclass
class Placeholder:
    """One item to fill: where it is, how long, what it asks for."""

    item: otio.core.Item  # a Clip or a Gap
    kind: str  # "gap", "missing", "generator:<kind>", "draft"
    track: str  # "V1", "V2 Titles", ...
    rate: Fraction  # the track's rate
    record_frame: int  # first frame on the record side (the cut's timecode), global start included
    frames: int  # the item's duration in the track
    prompt: str
    head: int = 0  # frames a transition before the item borrows from its media
    tail: int = 0  # frames a transition after it borrows
    hints: dict[str, Any] = field(default_factory=dict)  # model, seed, negative_prompt from the metadata
    index: int = -1  # the item's index in its parent, so write-back needs no linear search
    spec: PromptSpec | None = None  # a structured prompt (template, fields), built per model in slot()

    @property
    def media_frames(self) -> int:
        """Frames the media must have: the visible duration plus what transitions borrow."""
        return self.head + self.frames + self.tail

    @property
    def timecode(self) -> str:
        return record_timecode(self.record_frame, self.rate)

    @property
    def name(self) -> str:
        return self.item.name or ""

    @property
    def where(self) -> str:
        """The placeholder in the editor's words, for error messages."""
        return (
            f"Placeholder {self.name!r} at {self.track} {self.timecode}"
            if self.name
            else f"The placeholder at {self.track} {self.timecode}"
        )

    def slot(
        self,
        size: Size,
        bit_depth: int,
        model: str | None = None,
        first_frame: Path | None = None,
        last_frame: Path | None = None,
        catalog: Catalog | None = None,
        templates: TemplateStore | TemplateCache | None = None,
    ) -> Slot:
        """The slot on `model`. A structured prompt is built for that model's family here; a template
        that does not exist or a missing value raises (naming this placeholder) before anything is spent."""
        model = model or self.hints.get("model")
        prompt, negative = self.prompt, self.hints.get("negative_prompt")
        if self.spec is not None:
            spec = (catalog or default_catalog()).models.get(model or "draft")
            if spec is not None:  # an unknown model: the planner refuses it, naming the known ones
                try:
                    built = compose(spec, self.spec, templates)
                except MissingPlaceholders as e:
                    raise MissingPlaceholders(
                        f"{self.where}: {e.problem}",
                        "Give each one in the placeholder's promptreel `fields` metadata, as "
                        "name=value in its `gen: template=…` marker, or as a storyboard "
                        "column.",
                    ) from None
                except UserError as e:
                    raise type(e)(f"{self.where}: {e.problem}", e.fix) from None
                prompt, negative = built.text, built.negative_prompt
        return Slot(
            frames=self.media_frames,
            rate=self.rate,
            size=size,
            bit_depth=bit_depth,
            prompt=prompt,
            name=self.name,
            model=model,
            seed=self.hints.get("seed"),
            group=self.hints.get("group", ""),
            negative_prompt=negative,
            first_frame=first_frame,
            last_frame=last_frame,
            spec=self.spec,
        )


@dataclass
class Skipped:
    """A placeholder-like item that will not be filled, and why."""

    name: str
    track: str
    timecode: str
    reason: str


@dataclass
class Scan:
    placeholders: list[Placeholder]
    skipped: list[Skipped]


def is_filled(item: otio.core.Item) -> bool:
    """True for an item promptreel has filled (it records the placeholder it replaced)."""
    return "placeholder" in namespace(item)


def _each(seq: Any) -> list[Any]:
    """The items of an OTIO list (markers, effects) without the exception that ends an iteration."""
    return [seq[i] for i in range(len(seq))]


def candidate_kind(item: otio.core.Item) -> str | None:
    """The kind of placeholder `item` would be if it carried a prompt; None when it is ordinary media."""
    if isinstance(item, otio.schema.Gap):
        return "gap"
    if not isinstance(item, otio.schema.Clip):
        return None
    ref = item.media_reference
    # A filled clip always plays an ExternalReference, so these two need no metadata look-up.
    if isinstance(ref, otio.schema.GeneratorReference):
        return f"generator:{ref.generator_kind}"
    if isinstance(ref, otio.schema.MissingReference):
        return "missing"
    ns = namespace(item)
    if is_filled(item):
        # A fill with the draft model is a draft: a real model may fill it again.
        return "draft" if ns.get("model") == "draft" else None
    return "draft" if ns.get("draft") else None


def prompt_of(item: otio.core.Item) -> tuple[str | None, dict[str, Any]]:
    """The item's prompt and hints (model, seed, negative_prompt; `template` and `fields` for a
    structured prompt, whose free text may be empty), or (None, {})."""
    ns = namespace(item)
    # A draft fill's own metadata says model "draft"; the editor's hints are in what it replaced.
    previous = ns["placeholder"].get("previous") if "placeholder" in ns else None
    source = previous or ns
    _check_types(ns)
    if source is not ns:
        _check_types(source)
    hints = {k: source.get(k) for k in ("model", "seed", "negative_prompt", "group") if source.get(k) is not None}
    if isinstance(seed := hints.get("seed"), float) and seed.is_integer():
        hints["seed"] = int(seed)
    if source.get("template") or source.get("fields"):
        # The draft fill's own `prompt` is the text built for the draft model: the editor's is in `source`.
        fields = source.get("fields")
        if fields is not None and not hasattr(fields, "items"):
            raise BadInput(
                "its promptreel `fields` metadata is not a dictionary.",
                'Write it as {"subject": "…", "time_of_day": "…"}.',
            )
        hints["template"] = str(source.get("template") or "")
        hints["fields"] = {str(k): v for k, v in fields.items()} if fields is not None else {}
        return str(source.get("prompt") or "").strip(), hints
    if ns.get("prompt"):
        return str(ns["prompt"]).strip(), hints
    for marker in _each(item.markers):
        resolve = meta_get(marker.metadata, RESOLVE_NS)
        note = resolve.get("Note") if resolve is not None and hasattr(resolve, "get") else None
        for text in (marker.name, note, marker.comment):
            if text and str(text).strip().lower().startswith(_GEN):
                return _gen_text(str(text).strip()[len(_GEN) :].strip(), hints)
    if item.name and item.name.strip().lower().startswith("gen:"):
        return _gen_text(item.name.strip()[4:].strip(), hints)
    return None, hints


def _check_types(meta: dict[str, Any]) -> None:
    """Refuse metadata of the wrong type (hand-edited, or from another tool) rather than read it as text:
    a prompt of 12345 is a mistake, not a prompt, and scan and fill must refuse it alike."""
    for key in ("prompt", "model", "negative_prompt", "template", "group"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise BadInput(
                f"its promptreel `{key}` metadata is {_kind(value)}, not text.",
                f'Write it as text in quotes: "{key}": "…".',
            )
    seed = meta.get("seed")
    if seed is not None and (
        isinstance(seed, bool)
        or not isinstance(seed, (int, float))
        or isinstance(seed, float)
        and not seed.is_integer()
    ):
        raise BadInput(
            f"its promptreel `seed` metadata is {_kind(seed)}, not a whole number.",
            'Write it as a whole number: "seed": 42.',
        )


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value:g})"
    if hasattr(value, "keys"):
        return "a dictionary"
    if isinstance(value, str):
        return f"text ({value[:20]!r})"
    return "a list" if hasattr(value, "__len__") else type(value).__name__


def _gen_text(text: str, hints: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A `gen:` text: a free-text prompt, or `template=NAME key=value ...` (a structured prompt)."""
    parsed = parse_gen_template(text)
    if parsed is None:
        return text, hints
    template, fields = parsed
    return "", {**hints, "template": template, "fields": fields}


def has_time_effect(item: otio.core.Item) -> bool:
    return any(isinstance(e, otio.schema.TimeEffect) for e in _each(item.effects))


def track_rate(track: otio.schema.Track, fallback: Fraction | None) -> Fraction:
    """The rate the track is cut at: the timeline's global start rate, else the commonest rate of its first items."""
    if fallback is not None:
        return fallback
    rates = Counter(c.duration().rate for c in track[:200] if not isinstance(c, otio.schema.Transition))
    for bad in [r for r in rates if not (math.isfinite(r) and r > 0)]:  # the walk names the item that has it
        del rates[bad]
    return exact_rate(rates.most_common(1)[0][0]) if rates else Fraction(24)


def _loose_frames(t: otio.opentime.RationalTime, rate: Fraction) -> int:
    if t.rate == float(rate) and t.value.is_integer():
        return int(t.value)  # the common case, without Fraction arithmetic
    try:
        return frames_at(t, rate)
    except NotFrameAligned:
        return round(Fraction(t.value).limit_denominator(1_000_000) * rate / exact_rate(t.rate))


def find_placeholders(tracks: otio.schema.Stack, global_start: otio.opentime.RationalTime | None = None) -> Scan:
    """Every placeholder in the video tracks of `tracks` (a timeline's `tracks`), in track then record order."""
    found: list[Placeholder] = []
    skipped: list[Skipped] = []
    try:
        base_rate = exact_rate(global_start.rate) if global_start is not None else None
    except BadTime as e:
        raise BadInput(f"The timeline's start time: {e.problem}", e.fix) from None
    counts: Counter[str] = Counter()
    for track in tracks:
        kind = getattr(track, "kind", otio.schema.TrackKind.Video)
        counts[kind] += 1
        if kind != otio.schema.TrackKind.Video:
            continue
        label = f"V{counts[kind]}" + (f" {track.name}" if track.name else "")
        rate = track_rate(track, base_rate)
        start = _loose_frames(global_start, rate) if global_start is not None else 0
        _walk(track, start, rate, label, found, skipped)
    return Scan(found, skipped)


_Transition = otio.schema.Transition
_Clip = otio.schema.Clip
_PLACEHOLDER_REFS = (otio.schema.GeneratorReference, otio.schema.MissingReference)


def _walk(
    comp: otio.core.Composition,
    offset: int,
    rate: Fraction,
    label: str,
    found: list[Placeholder],
    skipped: list[Skipped],
    depth: int = 0,
) -> None:
    if isinstance(comp, otio.schema.Stack):
        for i, child in enumerate(comp):
            try:
                _visit(child, offset, rate, label, found, skipped, None, None, i, depth)
            except BadTime as e:
                raise _named(e, child, label, offset, rate) from None
        return
    children = list(comp)
    pos = offset
    rate_f = float(rate)
    # The hot loop of a scan: each OTIO attribute read from Python costs about two microseconds,
    # so a clip playing media without promptreel metadata (the bulk of any cut) costs three reads,
    # and one without any metadata no call to meta_get.
    for i, child in enumerate(children):
        if type(child) is _Transition:
            continue
        try:
            if (
                type(child) is not _Clip
                or isinstance(child.media_reference, _PLACEHOLDER_REFS)
                or (len(meta := child.metadata) > 0 and meta_get(meta, NS) is not None)
            ):
                _visit(
                    child,
                    pos,
                    rate,
                    label,
                    found,
                    skipped,
                    children[i - 1] if i > 0 else None,
                    children[i + 1] if i + 1 < len(children) else None,
                    i,
                    depth,
                )
            d = child.duration()
            value = d.value
            pos += int(value) if d.rate == rate_f and value.is_integer() else _loose_frames(d, rate)
        except BadTime as e:
            raise _named(e, child, label, pos, rate) from None


def _named(e: BadTime, item: otio.core.Item, label: str, pos: int, rate: Fraction) -> BadInput:
    """A bad time, said of the item that holds it (a BadInput, not a BadTime: the levels above pass it on)."""
    at = f"{label} {record_timecode(max(pos, 0), rate)}"
    return BadInput(f"{f'Item {item.name!r}' if item.name else 'The item'} at {at}: {e.problem}", e.fix)


def _visit(
    child: otio.core.Item,
    pos: int,
    rate: Fraction,
    label: str,
    found: list[Placeholder],
    skipped: list[Skipped],
    prev: otio.core.Item | None,
    nxt: otio.core.Item | None,
    index: int,
    depth: int,
) -> None:
    if isinstance(child, otio.core.Composition):
        if depth >= MAX_NESTED_COMPOSITIONS:  # the walk recurses once per level: refuse before Python's limit
            raise BadInput(
                f"{label} nests stacks or sequences more than {MAX_NESTED_COMPOSITIONS} deep at "
                f"{record_timecode(max(pos, 0), rate)}; no real cut does.",
                "Check that this is the timeline you exported, or flatten the nested sequences.",
            )
        trim = _loose_frames(child.source_range.start_time, rate) if child.source_range else 0
        _walk(child, pos - trim, rate, label, found, skipped, depth + 1)
        return
    kind = candidate_kind(child)
    if kind is None:
        return
    try:
        prompt, hints = prompt_of(child)
        spec = None
        if "template" in hints:
            fields = dict(hints["fields"])
            if hints.get("negative_prompt") and not fields.get("negative_prompt"):
                fields["negative_prompt"] = hints["negative_prompt"]
            spec = spec_from(prompt, hints["template"], fields, "its promptreel metadata")
    except UserError as e:
        where = f"{child.name!r} at {label} {record_timecode(max(pos, 0), rate)}"
        raise type(e)(f"Placeholder {where}: {e.problem}", e.fix) from None
    if prompt is None and kind in ("gap", "missing"):
        return  # ordinary gaps and offline clips are not placeholders

    def skip(reason: str) -> None:
        skipped.append(Skipped(child.name, label, record_timecode(max(pos, 0), rate), reason))

    if spec is not None and spec.structured:
        prompt = prompt or spec.describe()  # shown until a model is chosen; slot() builds the real one
    else:
        spec = None
    if not prompt:
        return skip("no prompt (give one in a `gen:` marker or a `GEN:` name)")
    if has_time_effect(child):
        return skip("has a speed or freeze effect; remove it to fill this item")
    try:
        frames = frames_at(child.duration(), rate)
    except NotFrameAligned:
        return skip(f"its duration is not a whole number of frames at {rate}")
    if frames <= 0:
        return skip("zero length")
    # A transition spans the cut: the item's media must run on under it (OTIO: handles_of_child).
    head = _loose_frames(prev.in_offset, rate) if prev is not None and type(prev) is _Transition else 0
    tail = _loose_frames(nxt.out_offset, rate) if nxt is not None and type(nxt) is _Transition else 0
    found.append(Placeholder(child, kind, label, rate, pos, frames, prompt, head, tail, hints, index, spec))


def frame_size(
    timeline: otio.schema.Timeline | None, size: Size | None = None, bit_depth: int | None = None
) -> tuple[Size, int]:
    """The fill's frame size and bit depth: the flags, else the timeline's metadata, else 1920x1080 10-bit.

    OTIO has no resolution field: we read our own namespace (`promptreel.size`, `.bit_depth`) and
    the sequence format FCP7/Premiere XML leaves in `fcp_xml` metadata.
    """
    ns = namespace(timeline) if timeline is not None else {}
    if size is None and ns.get("size"):
        size = Size.parse(str(ns["size"]))
    if size is None and timeline is not None:
        size = _fcp_xml_size(timeline.metadata.get("fcp_xml"))
    if bit_depth is None and ns.get("bit_depth"):
        bit_depth = int(ns["bit_depth"])
    return size or DEFAULT_SIZE, bit_depth or DEFAULT_BIT_DEPTH


def _fcp_xml_size(meta: Any) -> Size | None:
    try:
        sc = meta["media"]["video"]["format"]["samplecharacteristics"]
        return Size(width=int(sc["width"]), height=int(sc["height"]))
    except (KeyError, TypeError, ValueError):
        return None
