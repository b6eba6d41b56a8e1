"""Generated clips into media-pool bins: `promptreel/<model>` by default, tagged with their provenance."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from promptreel.core.errors import BadInput, UserError
from promptreel.core.journal import Journal
from promptreel.core.keys import redact
from promptreel.core.made import MadeClip
from promptreel.core.request import Slot
from promptreel.core.takes import record_takes, shot_name, take_slots

from .clipmaker import NS, ClipMaker, clip_color, make_many, provenance
from .edits import using_journal
from .errors import ResolveRefused
from .gateway import Clip, ClipImport, Gateway

log = logging.getLogger(__name__)

DEFAULT_BIN = "promptreel/{model}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def bin_path(template: str, model: str) -> list[str]:
    """'promptreel/{model}' -> ['promptreel', 'veo-3.1']. '/' nests bins; control characters go."""
    try:
        text = template.format(model=model)
    except (KeyError, IndexError, ValueError):
        raise BadInput(
            f"The bin name '{template}' has a placeholder other than {{model}}.",
            "Use plain text and {model}, e.g. 'promptreel/{model}'.",
        ) from None
    parts = [_CONTROL.sub("", p).strip()[:80] for p in text.split("/")]
    parts = [p for p in parts if p]
    if not parts:
        raise BadInput(
            f"The bin name '{template}' is empty once cleaned.", "Give a bin name such as 'promptreel/{model}'."
        )
    return parts


def import_tagged(
    gw: Gateway,
    made: MadeClip,
    template: str = DEFAULT_BIN,
    role: str = "take",
    name: str | None = None,
    extra: dict[str, str] | None = None,
) -> Clip:
    """Import one made clip into its bin and tag it (and name it, given `name`); every tag is read back."""
    (clip,) = import_many(gw, [ToImport(made, role, name, extra)], template)
    if isinstance(clip, UserError):
        raise clip
    return clip


@dataclass
class ToImport:
    made: MadeClip
    role: str = "take"
    name: str | None = None  # the clip's name in the bin (`shot — model`)
    extra: dict[str, str] | None = None  # more third-party metadata


def import_many(gw: Gateway, clips: list[ToImport], template: str = DEFAULT_BIN) -> list[Clip | UserError]:
    """Import made clips, each into its model's bin, tagged with its provenance and named, in one bridge
    round trip; every tag is read back. Per clip, in order: the clip, or the refusal for that clip alone.
    A name that does not stick is logged, not fatal: the clip and its provenance are what matter."""
    specs = []
    for c in clips:
        metadata, third = provenance(c.made, c.role)
        third.update({k: redact(v) for k, v in (c.extra or {}).items()})  # no key reaches Resolve's metadata
        specs.append(
            ClipImport(
                path=str(c.made.path),
                bin=bin_path(template, c.made.provenance.model),
                metadata=metadata,
                third_party=third,
                color=clip_color(c.made.provenance.model),
                name=_CONTROL.sub("", c.name).strip()[:120] if c.name else None,
            )
        )
    out: list[Clip | UserError] = []
    for c, got in zip(clips, gw.import_clips(specs) if specs else [], strict=True):
        if isinstance(got, str):
            out.append(ResolveRefused(got, "Check that the file is readable and the bin not locked, then try again."))
            continue
        failed = [f for f in got.failed if f != "name"]
        if failed:
            out.append(
                ResolveRefused(
                    f"Resolve did not keep {', '.join(failed)} on clip '{got.name}'.",
                    "Check that the clip is not locked, then generate again.",
                )
            )
            continue
        if "name" in got.failed:
            log.warning("Resolve did not keep the name %r on clip %s", c.name, got.id)
        out.append(got)
    return out


@dataclass
class Generated:
    """What a generate (or an A/B) put in the bins: the clips side by side, the takes group, what failed."""

    clips: list[Clip] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (take name, why)
    group: str | None = None


def take_name(shot: str, slot: Slot, variants: int) -> str:
    """`shot — model` (and ` #n` for a variant): how a take is named in the bin."""
    return f"{shot} — {slot.model}" + (f" #{slot.variant + 1}" if variants > 1 else "")


def generate_takes(
    gw: Gateway,
    make_clip: ClipMaker,
    slot: Slot,
    models: list[str],
    variants: int = 1,
    template: str = DEFAULT_BIN,
    shot: str = "",
    journal: Journal | None = None,
    per_model: dict[str, dict] | None = None,
) -> Generated:
    """`slot` on each of `models` (an A/B when there are two or more), `variants` times each, made as one
    batch and imported side by side, each into its model's bin as the take `shot — model`; recorded in
    the journal's takes table as one group (kind "ab" or "variants"). A take that fails is reported
    and recorded; the others still land. `per_model` gives a model's own slot values (the prompt built
    for its family from a template or shot fields)."""
    shot = shot.strip() or shot_name(slot.prompt)
    slots = take_slots(slot, models, variants)  # refuses unknown models before anything is spent
    if per_model:
        slots = [s.model_copy(update=per_model.get(s.model or "", {})) for s in slots]
    out = Generated()
    recorded = []
    for s, made in zip(slots, make_many(make_clip, slots), strict=True):
        name = take_name(shot, s, variants)
        if not made.ok:
            out.failed.append((name, str(made.error)))
            recorded.append(made)
            continue
        clip = import_tagged(gw, made, template, name=name)
        out.clips.append(clip)
        recorded.append(made.placed_at(resolve_clip=clip.id))
    with using_journal(journal) as j:
        out.group = record_takes(j, shot, recorded, "ab" if len(models) > 1 else "variants")
    return out


def create_draft(gw: Gateway, make_draft: ClipMaker, slot: Slot, template: str = "promptreel/drafts") -> Clip:
    """A draft slate of the slot's length at the project's rate and size, with the prompt in its metadata.
    `make_draft` is the draft model's renderer."""
    made = make_draft(slot)
    # A draft made from a template or shot fields keeps them, so the fill words them for its own model.
    spec = {f"{NS}spec": slot.spec.model_dump_json()} if slot.spec is not None and slot.spec.structured else None
    clip = import_tagged(gw, made, template, role="draft", extra=spec)
    if clip.third_party.get(f"{NS}prompt") != slot.prompt:
        raise ResolveRefused("Resolve did not keep the draft's prompt.", "Try again.")
    return clip
