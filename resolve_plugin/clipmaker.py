"""Where generation and conform plug into the Resolve side: "make me a conformed clip for this slot".

A `ClipMaker` takes a `Slot` (exact frames at the timeline rate, frame size, bit depth, prompt,
hints) and returns a media file that is exactly that, plus its provenance. The engine + conform
provide the real one (plan -> engine job -> conform to the slot); tests use a test-pattern maker.
A maker that also has `many(slots)` makes a whole batch in one run (the engine's: one set of route
limits, one concurrency pool, one budget check); `make_many` uses it when it is there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from pydantic import BaseModel

from promptreel.core.errors import UserError
from promptreel.core.keys import redact
from promptreel.core.request import Slot

from .bridge.ops import CLIP_COLORS


class MadeClip(BaseModel):
    path: Path
    model: str
    prompt: str
    job_id: str
    route: str = ""
    seed: int | None = None
    cost_usd: float = 0.0
    ai_generated: bool = True  # False for the draft model's slates
    prompt_sha256: str = ""
    original_sha256: str = ""  # the provider's original download, kept beside the clip
    cast: list[str] = []  # the cast members its prompt named (`@maria`), core/cast.py
    references: list[dict] = []  # the reference images sent: path and SHA-256 each

    def as_provenance(self) -> dict:
        """The keys core.slots' clips carry (the takes table reads them)."""
        return {"prompt": self.prompt, "model": self.model, "route": self.route, "seed": self.seed,
                "job_id": self.job_id, "cost": self.cost_usd,
                **({"cast": self.cast} if self.cast else {}), **({"references": self.references} if self.references else {})}


ClipMaker = Callable[[Slot], MadeClip]
# Per slot: the clip, or why there is none (in the editor's words).
Outcome = MadeClip | str


def make_many(make_clip: ClipMaker, slots: Sequence[Slot], workers: int = 4) -> list[Outcome]:
    """A clip (or the reason for none) per slot, in slot order. One slot's failure does not stop the
    others; a refusal of the whole batch (over budget, a model that cannot make a slot) raises before
    anything is spent. Slots that ask for the identical generation (a draft cut twice, two placeholders
    with one prompt and length) are made once and share the clip: one job, paid once. A slot's name is
    its label, not part of what is generated."""
    keys = [request_key(s) for s in slots]
    unique: dict[str, Slot] = {}
    for key, slot in zip(keys, slots, strict=True):
        unique.setdefault(key, slot)  # each request's first slot
    made = dict(zip(unique, _make_each(make_clip, list(unique.values()), workers), strict=True))
    return [made[k] for k in keys]


def request_key(slot: Slot) -> str:
    """What a slot asks to be generated: equal for slots that make the identical clip (its name is a label)."""
    return slot.model_dump_json(exclude={"name"})


def _make_each(make_clip: ClipMaker, slots: Sequence[Slot], workers: int) -> list[Outcome]:
    many = getattr(make_clip, "many", None)
    if many is not None:
        return many(list(slots))

    def one(slot: Slot) -> Outcome:
        try:
            return make_clip(slot)
        except UserError as e:
            return str(e)

    if not slots:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(slots)))) as pool:
        return list(pool.map(one, slots))

NS = "promptreel."  # third-party metadata keys, promptreel's namespace


def clip_color(model: str) -> str:
    """One of Resolve's 16 clip colours, stable per model."""
    return CLIP_COLORS[int(hashlib.sha256(model.encode()).hexdigest(), 16) % len(CLIP_COLORS)]


def provenance(made: MadeClip, role: str = "take") -> tuple[dict[str, str], dict[str, str]]:
    """(standard metadata, third-party metadata) for a generated clip. Values pass through `redact`:
    no key ever reaches Resolve's metadata."""
    seed = "" if made.seed is None else str(made.seed)
    comments = " · ".join(x for x in (made.model, made.route, f"seed {seed}" if seed else "",
                                      f"${made.cost_usd:.2f}", f"job {made.job_id}") if x)
    metadata = {"Description": made.prompt, "Comments": comments,
                "Keywords": "AI generated" if made.ai_generated else "Draft slate, not AI generated"}
    third = {f"{NS}role": role, f"{NS}prompt": made.prompt, f"{NS}model": made.model, f"{NS}route": made.route,
             f"{NS}seed": seed, f"{NS}cost_usd": f"{made.cost_usd:.4f}", f"{NS}job_id": made.job_id,
             f"{NS}ai_generated": "1" if made.ai_generated else "0", f"{NS}prompt_sha256": made.prompt_sha256,
             f"{NS}original_sha256": made.original_sha256}
    if made.cast:
        third[f"{NS}cast"] = ",".join(made.cast)
    return ({k: redact(v) for k, v in metadata.items()}, {k: redact(v) for k, v in third.items()})
