"""Where generation and conform plug into the Resolve side: "make me a conformed clip for this slot".

A `ClipMaker` takes a `Slot` (exact frames at the timeline rate, frame size, bit depth, prompt,
hints) and returns a `MadeClip` (core/made.py): a media file that is exactly that, plus its provenance;
it raises a UserError when it cannot. The engine + conform
provide the real one (plan -> engine job -> conform to the slot); tests use a test-pattern maker.
A maker that also has `many(slots)` makes a whole batch in one run (the engine's: one set of route
limits, one concurrency pool, one budget check); `make_many` uses it when it is there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from promptreel.core.errors import UserError
from promptreel.core.keys import redact
from promptreel.core.made import MadeClip
from promptreel.core.request import Slot
from promptreel.core.timeline.metadata import RESOLVE_KEY_PREFIX

from .bridge.ops import CLIP_COLORS

ClipMaker = Callable[[Slot], MadeClip]


def make_many(make_clip: ClipMaker, slots: Sequence[Slot], workers: int = 4) -> list[MadeClip]:
    """A clip (or the reason for none, in the editor's words) per slot, in slot order. One slot's failure does not
    stop the others; a refusal of the whole batch (over budget, a model that cannot make a slot) raises before
    anything is spent. Slots that ask for the identical generation (a draft cut twice, two placeholders
    with one prompt and length) are made once and share the clip: one job, paid once. A slot's name is
    its label, not part of what is generated."""
    keys = [request_key(s) for s in slots]
    unique: dict[str, Slot] = {}
    for key, slot in zip(keys, slots, strict=True):
        unique.setdefault(key, slot)  # each request's first slot
    made = dict(zip(unique, make_each(make_clip, list(unique.values()), workers), strict=True))
    return [replace(made[k], slot=slot) for k, slot in zip(keys, slots, strict=True)]  # each slot's own name


def request_key(slot: Slot) -> str:
    """What a slot asks to be generated: equal for slots that make the identical clip (its name is a label)."""
    return slot.model_dump_json(exclude={"name"})


def make_each(make_clip: ClipMaker, slots: Sequence[Slot], workers: int) -> list[MadeClip]:
    """A clip (or the reason for none) for every slot as given, alike or not: one batch if the maker has `many`."""
    many = getattr(make_clip, "many", None)
    if many is not None:
        return many(list(slots))

    def one(slot: Slot) -> MadeClip:
        try:
            return make_clip(slot)
        except UserError as e:
            return MadeClip.failed(slot, str(e))

    if not slots:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(slots)))) as pool:
        return list(pool.map(one, slots))


NS = RESOLVE_KEY_PREFIX  # third-party metadata keys: promptreel.model, ...


def clip_color(model: str) -> str:
    """One of Resolve's 16 clip colours, stable per model."""
    return CLIP_COLORS[int(hashlib.sha256(model.encode()).hexdigest(), 16) % len(CLIP_COLORS)]


def provenance(made: MadeClip, role: str = "take") -> tuple[dict[str, str], dict[str, str]]:
    """(standard metadata, third-party metadata) for a generated clip. Values pass through `redact`:
    no key ever reaches Resolve's metadata."""
    p, prompt = made.provenance, made.slot.prompt
    seed = "" if p.seed is None else str(p.seed)
    comments = " · ".join(
        x for x in (p.model, p.route, f"seed {seed}" if seed else "", f"${p.cost:.2f}", f"job {p.job_id}") if x
    )
    metadata = {
        "Description": prompt,
        "Comments": comments,
        "Keywords": "AI generated" if p.ai_generated else "Draft slate, not AI generated",
    }
    third = {
        f"{NS}role": role,
        f"{NS}prompt": prompt,
        f"{NS}model": p.model,
        f"{NS}route": p.route,
        f"{NS}seed": seed,
        f"{NS}cost_usd": f"{p.cost:.4f}",
        f"{NS}job_id": p.job_id,
        f"{NS}ai_generated": "1" if p.ai_generated else "0",
        f"{NS}prompt_sha256": p.prompt_sha256 or "",
        f"{NS}original_sha256": p.original_sha256 or "",
    }
    if p.cast:
        third[f"{NS}cast"] = ",".join(p.cast)
    return ({k: redact(v) for k, v in metadata.items()}, {k: redact(v) for k, v in third.items()})
