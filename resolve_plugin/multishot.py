"""Multi-shot fills in Resolve: placeholders of one group made as one take, one shot each (Kling 3.0).

A group is the placeholders sharing a `promptreel.group` in their pool item's third-party metadata, or with
`multi_shot` each run back to back on one track (no gap between). Their slots carry the group and go to the
clip maker consecutively: the core planner makes the run one request (core/plan.py `group_shots`), the engine
one job, and conform cuts each placeholder's own shot from the take, frame-exact. Each placeholder is then
placed and read back as any fill, under its own edit record.

A group its model cannot take as one (a model without multi-shot, more shots than it holds, longer than its
longest take) is refused here, before anything is spent, in one line naming the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptreel.core.catalog import Catalog, Model, default_catalog
from promptreel.core.errors import BadInput, UnsupportedRequest, UserError
from promptreel.core.made import MadeClip
from promptreel.core.plan import PlannedRequest, group_shots, plan_shots, plan_slot
from promptreel.core.request import Slot

from .clipmaker import NS, ClipMaker, make_each
from .costs import CostEstimate, CostLine
from .gateway import Item, TimelineState
from .placeholders import ResolvePlaceholder

if TYPE_CHECKING:
    from promptreel.core.timeline.fill import Estimate


def _fix(catalog: Catalog) -> str:
    takers = ", ".join(m.id for m in catalog.models.values() if m.max_shots > 1)  # the catalog says which
    return (
        f"Fill them without multi-shot, choose a model that makes multi-shot takes ({takers}), "
        "or group fewer placeholders."
    )


def groups(state: TimelineState, found: Sequence[ResolvePlaceholder], multi_shot: bool) -> list[str]:
    """Each placeholder's group: its `promptreel.group` metadata, else (with `multi_shot`) its run of placeholders
    back to back on one track, named `V<track>@<first frame>`; "" for none."""
    out = []
    run: dict[int, str] = {}
    prev: Item | None = None
    name = ""
    for i in sorted(range(len(found)), key=lambda i: (found[i].item.track, found[i].item.start)):
        item = found[i].item
        if prev is None or prev.track != item.track or prev.end != item.start:
            name = f"V{item.track}@{item.start}"
        run[i], prev = name, item
    for i, ph in enumerate(found):
        clip = state.clips.get(ph.item.clip_id) if ph.item.clip_id else None
        own = (clip.third_party.get(f"{NS}group") or "") if clip else ""
        out.append(own or (run[i] if multi_shot else ""))
    return out


def arrange(
    found: list[ResolvePlaceholder], slots: list[Slot], names: list[str]
) -> tuple[list[ResolvePlaceholder], list[Slot]]:
    """The placeholders and their slots in record order, each group's members moved up to its first (the planner
    joins consecutive slots only), every slot carrying its group."""
    order: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        order.setdefault(name or f"#{i}", []).append(i)
    ranked = [i for members in order.values() for i in members]
    return (
        [found[i] for i in ranked],
        [slots[i].model_copy(update={"group": names[i]}) if names[i] else slots[i] for i in ranked],
    )


def runs(slots: Sequence[Slot]) -> list[list[int]]:
    """The indexes of each group of two or more, in batch order (arranged: members are consecutive)."""
    out: list[list[int]] = []
    for i, slot in enumerate(slots):
        if slot.group and out and slots[out[-1][-1]].group == slot.group:
            out[-1].append(i)
        elif slot.group:
            out.append([i])
    return [r for r in out if len(r) > 1]


def limit(model: Model, shots: int) -> str | None:
    """Why `model` cannot make `shots` shots as one take, before their lengths count; None if it can."""
    if model.max_shots < 2:
        return f"{model.name} makes no multi-shot takes."
    if shots > model.max_shots:
        return f"{model.name} makes at most {model.max_shots} shots in one take, not {shots}."
    return None


def refuse_in_estimates(estimates: list[Estimate], catalog: Catalog | None = None) -> list[Estimate]:
    """File mode: a group the core planner would split or make shot by shot (a model without multi-shot, more shots
    than it holds) gets its limit as its placeholders' error, refused like any slot its model cannot make."""
    catalog = catalog or default_catalog()
    for run in runs([e.slot for e in estimates]):
        model = catalog.models.get(estimates[run[0]].slot.model or "draft")
        why = limit(model, len(run)) if model is not None else None
        for i in run if why else []:
            estimates[i].error, estimates[i].cost = f"{len(run)} placeholders as one multi-shot take: {why}", 0.0
    return estimates


def check(found: Sequence[ResolvePlaceholder], slots: Sequence[Slot], catalog: Catalog | None = None) -> None:
    """Refuse, before anything is spent, a group its model cannot make as one take."""
    catalog = catalog or default_catalog()
    for run in runs(slots):
        first, model = found[run[0]], catalog.get(slots[run[0]].model or "draft")
        what = f"The {len(run)} placeholders from {first.label} (one multi-shot take)"
        if limit(model, len(run)):
            raise UnsupportedRequest(f"{what}: {limit(model, len(run))}", _fix(catalog))
        if len({slots[i].model for i in run}) > 1:
            raise BadInput(
                f"{what}: they ask for different models.", "Give them one model (--model), or one group each."
            )
        try:
            plan_shots([slots[i] for i in run], model)
        except UserError as e:
            raise UnsupportedRequest(f"{what}: {e.problem}", _fix(catalog)) from None


def prepare(
    state: TimelineState,
    found: list[ResolvePlaceholder],
    slots: list[Slot],
    multi_shot: bool,
    catalog: Catalog | None = None,
) -> tuple[list[ResolvePlaceholder], list[Slot]]:
    """`found` and `slots` arranged for a multi-shot fill and checked (nothing spent); as they are without groups."""
    names = groups(state, found, multi_shot)
    if not any(names):
        return found, slots
    found, slots = arrange(found, slots, names)
    check(found, slots, catalog)
    return found, slots


def make(make_clip: ClipMaker, slots: list[Slot], workers: int = 4) -> list[MadeClip]:
    """Every slot to the maker as it is, in order: two shots of one take that ask alike are still two shots
    (make_many would make them one)."""
    return make_each(make_clip, slots, workers)


def estimate(
    labelled: list[tuple[str, Slot]], model: str, budget: float | None, catalog: Catalog | None = None
) -> CostEstimate:
    """Price placeholders of multi-shot groups (slots arranged, carrying their groups): a group's take once, on its
    first shot; the other shots are listed as part of that job. A group its model cannot make is its lines'
    error."""
    catalog = catalog or default_catalog()
    spec = catalog.get(model)
    slots = [s.model_copy(update={"model": model}) for _, s in labelled]
    plans: list[PlannedRequest | None] = []
    errors: list[str | None] = []
    for slot in slots:
        try:
            plans.append(plan_slot(slot, spec))
            errors.append(None)
        except UserError as e:
            plans.append(None)
            errors.append(str(e))
    for run in runs(slots):
        planned = [p for p in (plans[i] for i in run) if p is not None]
        if len(planned) < len(run):
            continue
        why = limit(spec, len(run))
        if why is None:
            try:
                plans[run[0] : run[-1] + 1] = group_shots(planned, catalog.models)  # a run's indexes are consecutive
            except UserError as e:
                why = e.problem
        for i in run if why else []:
            errors[i] = f"{len(run)} placeholders as one multi-shot take: {why}"
    shots: dict[int, int] = {}  # a multi-shot request's shots, by request
    for plan, error in zip(plans, errors, strict=True):
        if plan is not None and error is None and plan.in_point is not None:
            shots[id(plan.request)] = shots.get(id(plan.request), 0) + 1
    lines, taken = [], set()
    for (label, slot), plan, error in zip(labelled, plans, errors, strict=True):
        cost = 0.0
        if plan is not None and error is None:
            job = id(plan.request)
            if job in taken:
                label = f"{label} (a shot of the job above)"
            else:
                cost = float(plan.generated_seconds) * spec.price_per_second(plan.request.size)
                label += f" (one multi-shot job: {shots[job]} shots)" if job in shots else ""
                taken.add(job)
        lines.append(CostLine(label=label, frames=slot.frames, model=model, cost_usd=round(cost, 4), error=error))
    return CostEstimate(lines=lines, total_usd=round(sum(x.cost_usd for x in lines), 4), budget_usd=budget)
