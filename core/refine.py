"""Refine a take by conversation: `promptreel refine TAKE "make it dusk, keep the camera move"`.

A model whose routes remake their own earlier outputs (catalog input "remix": Gemini Omni continues the
take's interaction, Grok, Luma, LTX retake, Sora, Runway, Kling omni edit it by its provider id) is sent
the change alone, as a remix of the take's job. Any other model is sent the take's prompt with the change
added (a structured prompt keeps its fields and gets the change in `PromptSpec.changes`), with the
take's seed. Either way the result is conformed to the take's slot and recorded as a new take of the
shot whose `parent` is the take refined, so `promptreel takes --chain` lists the conversation and
promote, choose and revert work on any take of it.

    slot, planned = refine_plan(take, "make it dusk")   # refused here, before anything is spent
    new = refine(journal, take, "make it dusk", output_dir=media, engine=engine)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, default_catalog
from .errors import BadInput, UnsupportedRequest, UserError
from .made import MadeClip
from .plan import PlannedRequest, plan_slot
from .prompts.compose import amended
from .request import Slot
from .takes import Take, list_takes, record_takes

if TYPE_CHECKING:
    from .engine import Engine
    from .events import OnEvent
    from .journal import Journal


def remixes(take: Take, catalog: Catalog) -> bool:
    """True when the take's model continues its own earlier takes (the change alone is sent)."""
    return "remix" in catalog.get(take.model).inputs and take.job_id is not None


def refined_slot(take: Take, change: str) -> Slot:
    """The take's slot with `change` added to its words: to its structured prompt (fields or template) where it
    has one, else to its free text. Same frames, rate, size, model and seed."""
    spec = take.slot.spec
    update: dict[str, Any] = {"seed": take.seed, "variant": 0, "model": take.model}
    if spec is not None and spec.structured and not spec.prompt:
        update["spec"] = spec.model_copy(update={"changes": [*spec.changes, change]})
        update["prompt"] = amended(take.slot.prompt, change)  # as worded for its model; worded_for rebuilds it
    else:
        update["prompt"] = amended(take.slot.prompt, change)
        if spec is not None:
            update["spec"] = spec.model_copy(update={"prompt": update["prompt"]})
    return take.slot.model_copy(update=update)


def refine_plan(take: Take, change: str, catalog: Catalog | None = None) -> tuple[Slot, PlannedRequest]:
    """The refinement's slot (what the new take is of) and its plan. Refuses, before anything is spent, an
    empty change, a take without a clip, or a model that cannot make the slot."""
    from .takes import worded_for

    catalog = catalog or default_catalog()
    change = " ".join(change.split())
    if not change:
        raise BadInput("The refinement is empty.", 'Say what to change, e.g. promptreel refine TAKE "make it dusk".')
    if not take.ok:
        raise BadInput(f"Take {take.id} has no clip ({take.error or 'not made'}).", "Refine a take that was made.")
    model = catalog.get(take.model)
    slot = worded_for(refined_slot(take, change), model)
    try:
        if remixes(take, catalog):
            # The conversation goes on: only the change is said, about the take the provider made.
            asked = slot.model_copy(update={"prompt": change, "spec": None})
            plan = plan_slot(asked, model, remix_of=take.job_id)
        else:
            plan = plan_slot(slot, model)
    except UserError as e:
        if isinstance(e, BadInput):
            raise
        raise UnsupportedRequest(
            f"Take {take.id} cannot be refined on {model.name}: {e.problem}",
            e.fix or "Promote it to another model first.",
        ) from None
    return slot, PlannedRequest(plan.request, slot, plan.warnings)


def refine(
    journal: Journal,
    take: Take,
    change: str,
    *,
    output_dir: Path,
    engine: Engine | None = None,
    budget: float | None = None,
    on_event: OnEvent | None = None,
    planned: tuple[Slot, PlannedRequest] | None = None,
    keep: Callable[[MadeClip], dict[str, Any]] | None = None,
) -> Take:
    """Make the refinement of `take` (through core.slots: journaled, cached, conformed to the take's slot) and
    record it as a new take of the shot with `take` as its parent. The take is recorded failed when the job
    fails (its error says why); raises only for a refused request, before anything is spent. `keep`: what to
    do with a made clip before it is recorded (the panel imports it into a bin); its answer joins the
    take's provenance."""
    from .slots import FillSettings, fill_slots

    slot, plan = planned or refine_plan(take, change, engine.catalog if engine is not None else None)
    (clip,) = asyncio.run(
        fill_slots(
            [slot], FillSettings(output_dir=output_dir, budget=budget), engine=engine, on_event=on_event, planned=[plan]
        )
    )
    clip = replace(clip, provenance=replace(clip.provenance, refinement=" ".join(change.split())))
    if keep is not None and clip.ok:
        clip = clip.placed_at(**keep(clip))
    group = record_takes(journal, take.shot, [clip], "refine", parent=take.id)
    return list_takes(journal, group=group)[0]
