"""Fill a timeline: find its placeholders, price them, hand them to a `Filler` as one batch,
check every result is frame-exact, then write each into the timeline.

Nothing in the timeline changes until every result is in and checked; a run with failures
changes nothing unless `partial` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..cast import cast_shape
from ..catalog import Catalog, Size, default_catalog
from ..errors import BadInput, BudgetExceeded, UserError
from ..journal import Journal
from ..made import MadeClip
from ..plan import PlannedRequest, group_shots, plan_slot, reword
from ..prompts.compose import TemplateCache
from ..request import Slot
from ..takes import check_models, list_takes, record_takes, take_slots
from .filler import RESOLVE_START_TIMECODE, Filler, FillIncomplete, FillOptions, checked
from .metadata import is_resolve_shaped
from .neighbours import neighbour_frames
from .placeholders import Placeholder, Scan, Skipped, find_placeholders, frame_size
from .take_tracks import Alternate, add_take_tracks, drop_orphan_alternates, is_takes_track, take_entries
from .writeback import apply_fill


@dataclass
class Estimate:
    """What one slot would cost on its model, or why the model cannot make it."""

    placeholder: Placeholder
    slot: Slot
    shape_plan: PlannedRequest | None = None  # the plan of a slot of the same shape (maybe this one)
    cost: float = 0.0
    error: str | None = None

    @property
    def planned(self) -> PlannedRequest | None:
        """The plan for this slot: the shape's plan with this slot's own words."""
        return self.plan_for(self.slot)

    def plan_for(self, slot: Slot) -> PlannedRequest | None:
        """The plan for `slot`, this one or a take of it (same shape, maybe another seed and variant): the
        shape's plan with the slot's own words, as plan_slot would make it, without planning again."""
        p = self.shape_plan
        if p is None or p.slot is slot:
            return p
        if p.request.shots:  # a shot of a multi-shot take: the take's own request, from this slot's shot
            return PlannedRequest(p.request, slot, p.warnings, in_point=p.in_point)
        return reword(p, slot)

    @property
    def planned_label(self) -> str:
        if self.shape_plan is None:
            return "-"
        r = self.shape_plan.request
        length = f"{r.frames} fr" if r.frames is not None else f"{r.seconds} s"
        return f"{length} {r.size or self.slot.size}"


@dataclass
class FillReport:
    filled: list[tuple[Placeholder, MadeClip]] = field(default_factory=list)
    failed: list[tuple[Placeholder, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    estimates: list[Estimate] = field(default_factory=list)
    failed_takes: list[tuple[Placeholder, str]] = field(default_factory=list)  # an A/B's takes that were not made
    alternates: list[tuple[Placeholder, MadeClip]] = field(default_factory=list)  # an A/B's other takes, placed beside
    spent_on_failures: float = 0.0  # takes paid for that could not be used

    @property
    def cost(self) -> float:
        """What the run spent: every take, as the ledger has it (the A/B's alternates and unusable takes too)."""
        return sum(f.provenance.cost for _, f in self.filled + self.alternates) + self.spent_on_failures


def estimate(
    scan: Scan,
    size: Size,
    bit_depth: int,
    model: str | None,
    catalog: Catalog | None = None,
    neighbours: Path | None = None,
    multi_shot: bool = False,
) -> list[Estimate]:
    """Plan every placeholder on its model (the flag, else its own, else draft) and price it.

    A structured prompt is built for the chosen model; an unknown template or a missing value raises
    here, naming the placeholder, before anything is spent (even with --partial: it is a typo, not a
    model's limit).

    With `neighbours` (a folder for the stills), models that take first/last-frame inputs get
    the neighbouring shots' frames.

    Placeholders of one multi-shot group (their `group` metadata, or with `multi_shot` each run of
    placeholders back to back on one track) are planned as one take on a model that makes them.
    """
    catalog = catalog or default_catalog()
    if model in catalog.models:  # a model its vendor ended, asked for by name: refused outright, naming the replacement
        catalog.refuse_if_retired(catalog.models[model])
    templates = TemplateCache()
    out = []
    # Slots alike in everything but their words plan alike: plan each shape once (10,000-clip timelines).
    plans: dict[tuple[object, ...], tuple[PlannedRequest | None, float, str | None]] = {}
    for ph in scan.placeholders:
        chosen = model or ph.hints.get("model") or "draft"
        first = last = None
        if neighbours is not None:
            inputs = catalog.models[chosen].inputs if chosen in catalog.models else []
            if "first_frame" in inputs:
                first, last = neighbour_frames(ph.item, neighbours, want_last="last_frame" in inputs)
        slot = ph.slot(size, bit_depth, chosen, first, last, catalog, templates)
        shape = (
            chosen,
            len(slot.prompt),
            slot.frames,
            slot.rate,
            slot.size,
            slot.bit_depth,
            slot.seed is None,
            slot.negative_prompt is None,
            slot.first_frame,
            slot.last_frame,
            cast_shape(slot.prompt),
        )
        if shape not in plans:
            plans[shape] = _plan(slot, chosen, catalog)
        out.append(Estimate(ph, slot, *plans[shape]))
    if multi_shot:
        _adjacent_groups(out)
    if any(e.slot.group for e in out):
        _group_shots(out, catalog)
    return out


def _adjacent_groups(estimates: list[Estimate]) -> None:
    """Each run of placeholders back to back on one track (no transition between) becomes a group."""
    group = ""
    for prev, e in zip([None, *estimates], estimates):
        ph = e.placeholder
        joined = (
            prev is not None
            and prev.placeholder.track == ph.track
            and not (prev.placeholder.tail or ph.head)
            and prev.placeholder.record_frame + prev.placeholder.frames == ph.record_frame
        )
        group = group if joined else f"{ph.track}@{ph.record_frame}"
        if not e.slot.group:
            e.slot = e.slot.model_copy(update={"group": group})


def _group_shots(estimates: list[Estimate], catalog: Catalog) -> None:
    """Runs of one group that its model can make as one take get their shot's plan of that take; the take is
    priced once, on its first shot."""
    runs: list[list[Estimate]] = [[]]
    for e in estimates:  # a slot that cannot be planned splits a run
        if e.shape_plan is None:
            runs.append([])
        else:
            runs[-1].append(e)
    for run in runs:
        try:
            # Each of the run has a plan (a slot without one split the run): the filter only narrows the type.
            plans = group_shots([p for e in run if (p := e.plan_for(e.slot)) is not None], catalog.models)
        except UserError as err:
            for e in run:
                if e.slot.group:
                    e.shape_plan, e.cost, e.error = None, 0.0, str(err)
            continue
        taken: set[int] = set()
        for e, plan in zip(run, plans):
            if plan.in_point is None:
                continue
            e.shape_plan = plan
            spec = catalog.get(plan.request.model)
            cost = float(plan.generated_seconds) * spec.price_per_second(plan.request.size)
            e.cost = 0.0 if id(plan.request) in taken else cost
            taken.add(id(plan.request))


def _plan(slot: Slot, model: str, catalog: Catalog) -> tuple[PlannedRequest | None, float, str | None]:
    try:
        spec = catalog.get(model)
        planned = plan_slot(slot, spec)
        return planned, float(planned.generated_seconds) * spec.price_per_second(planned.request.size), None
    except UserError as e:
        return None, 0.0, str(e)


def fill_tracks(
    tracks: otio.schema.Stack,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size,
    bit_depth: int,
    global_start: otio.opentime.RationalTime | None = None,
    resolve: bool = False,
    catalog: Catalog | None = None,
) -> FillReport:
    """Fill every placeholder under `tracks`. Raises before changing anything when the run cannot be done.

    Every fill is recorded as a take of its shot (`promptreel takes`, `promptreel promote`). With
    `options.models` (an A/B) each placeholder gets a take on every model, all in one batch: the first
    model's in place, the others as alternates on takes tracks (core/timeline/take_tracks.py).
    """
    return fill_placeholders(
        tracks,
        find_placeholders(tracks, global_start),
        filler,
        options,
        size=size,
        bit_depth=bit_depth,
        global_start=global_start,
        resolve=resolve,
        catalog=catalog,
    )


def fill_placeholders(
    tracks: otio.schema.Stack,
    scan: Scan,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size,
    bit_depth: int,
    global_start: otio.opentime.RationalTime | None = None,
    resolve: bool = False,
    catalog: Catalog | None = None,
) -> FillReport:
    """Fill the placeholders of `scan` (found under `tracks`, or some of them) as fill_tracks does."""
    columns, ab = _columns(scan, options, size, bit_depth, catalog)
    report = FillReport(skipped=scan.skipped, estimates=columns[0])
    if not report.estimates:
        return report
    _refuse_unmakeable(columns, options, ab)
    rows = _rows(columns)
    for i, row in enumerate(rows):
        if not row:
            report.failed.append((report.estimates[i].placeholder, report.estimates[i].error or ""))
        report.failed_takes += [
            (col[i].placeholder, f"{col[i].slot.model}: {col[i].error}") for col in columns if row and col[i].error
        ]
    todo = [e for row in rows for e in row]
    _refuse_over_budget(rows, options, ab)
    if resolve and options.start_timecode is None:
        # Resolve reads source ranges against the media's own start timecode.
        options = replace(options, start_timecode=RESOLVE_START_TIMECODE)
    # An A/B's takes get seeds (the same one on every model that takes seeds), so promote can keep it.
    slots = [take_slots(e.slot, [e.slot.model or "draft"], catalog=catalog)[0] if ab else e.slot for e in todo]
    # The estimate's plans go with the slots: the engine filler runs them without planning each again.
    # A slot in a row has no error, so a plan: the filter only narrows the type (fill_slots checks one each).
    plans = tuple(p for e, s in zip(todo, slots) if (p := e.plan_for(s)) is not None)
    results = filler(slots, replace(options, plans=plans)) if slots else []
    if len(results) != len(slots):
        raise AssertionError(f"filler returned {len(results)} results for {len(slots)} slots")
    outcomes = iter(zip(slots, (checked(r, s) for s, r in zip(slots, results))))
    placed: list[tuple[Placeholder, list[tuple[Slot, MadeClip]]]] = []
    for row in rows:
        if not row:
            continue
        got = [next(outcomes) for _ in row]
        report.spent_on_failures += sum(r.provenance.cost for _, r in got if not r.ok)
        ph = row[0].placeholder
        if not any(r.ok for _, r in got):
            report.failed.append((ph, "; ".join((f"{s.model}: " if ab else "") + str(r.error) for s, r in got)))
        else:
            report.failed_takes += [(ph, f"{s.model}: {r.error}") for s, r in got if not r.ok]
            placed.append((ph, got))
    if (report.failed or report.failed_takes) and not options.partial:
        lost = report.failed + report.failed_takes
        raise FillIncomplete(
            f"{len(report.failed)} of {len(report.estimates)} placeholder(s) were not filled"
            + (f" and {len(report.failed_takes)} take(s) failed" if report.failed_takes else "")
            + ": "
            + "; ".join(f"{ph.track} {ph.timecode}: {why}" for ph, why in lost),
            "Nothing was written. Fix the cause and run again (finished takes are reused: pass --no-cache "
            "for new ones), or pass --partial to write the filled part.",
        )
    _place(tracks, placed, ab, global_start, resolve, report)
    return report


def check_fill(scan: Scan, options: FillOptions, *, size: Size, bit_depth: int, catalog: Catalog | None = None) -> None:
    """Refuse what fill_placeholders would refuse for all of `scan` (a placeholder its model cannot make,
    over the budget), without making anything: for callers that fill a timeline's placeholders one by one."""
    columns, ab = _columns(scan, options, size, bit_depth, catalog)
    if columns[0]:
        _refuse_unmakeable(columns, options, ab)
        _refuse_over_budget(_rows(columns), options, ab)


def _columns(
    scan: Scan, options: FillOptions, size: Size, bit_depth: int, catalog: Catalog | None
) -> tuple[list[list[Estimate]], bool]:
    """Each model's estimate of every placeholder (one column per model of an A/B), and whether it is an A/B."""
    stills = Path(options.output_dir) / "neighbours" if options.frames_from_neighbours else None
    models = _models(options, catalog)
    ab = len(models) > 1
    return [
        estimate(scan, size, bit_depth, m, catalog, stills, multi_shot=options.multi_shot and not ab) for m in models
    ], ab


def _rows(columns: list[list[Estimate]]) -> list[list[Estimate]]:
    """Per placeholder, the takes that can be made."""
    return [[col[i] for col in columns if not col[i].error] for i in range(len(columns[0]))]


def _refuse_unmakeable(columns: list[list[Estimate]], options: FillOptions, ab: bool) -> None:
    refused = [e for col in columns for e in col if e.error]
    if refused and not options.partial:
        raise FillIncomplete(
            f"{len(refused)} {'take' if ab else 'placeholder'}(s) cannot be made: "
            + "; ".join(
                f"{e.placeholder.track} {e.placeholder.timecode}{f' on {e.slot.model}' if ab else ''}: {e.error}"
                for e in refused
            ),
            f"Fix them, choose another {'--models' if ab else '--model'}, or pass --partial to fill the rest.",
        )


def _refuse_over_budget(rows: list[list[Estimate]], options: FillOptions, ab: bool) -> None:
    todo = [e for row in rows for e in row]
    total = sum(e.cost for e in todo)
    if options.budget is not None and total > options.budget:
        takes = f" ({len(todo)} takes)" if ab else ""
        raise BudgetExceeded(
            f"Filling {sum(1 for r in rows if r)} placeholder(s){takes} would cost an estimated "
            f"${total:.2f}, over the budget of ${options.budget:.2f}.",
            "Raise --budget, choose a cheaper --model, or fill fewer placeholders.",
        )


def _models(options: FillOptions, catalog: Catalog | None) -> list[str | None]:
    if options.models and options.model:
        raise BadInput(
            "Give either --model or --models, not both.",
            "Use --models a,b for an A/B (the first in place), --model for one model.",
        )
    if options.models:
        check_models(options.models, catalog)
    return list(options.models) or [options.model]


def _place(
    tracks: otio.schema.Stack,
    placed: list[tuple[Placeholder, list[tuple[Slot, MadeClip]]]],
    ab: bool,
    global_start: otio.opentime.RationalTime | None,
    resolve: bool,
    report: FillReport,
) -> None:
    """Record each placeholder's takes, put the first that was made in place, the others beside it."""
    alternates: list[Alternate] = []
    if placed:
        journal = Journal.open_default()
        try:
            alternates = _put_in_place(journal, placed, ab, resolve, report)
        finally:
            journal.close()
    if any(is_takes_track(t) for t in tracks):
        drop_orphan_alternates(tracks)  # a refilled draft's old alternates
    if alternates:
        add_take_tracks(tracks, alternates, global_start, resolve)


def _put_in_place(
    journal: Journal,
    placed: list[tuple[Placeholder, list[tuple[Slot, MadeClip]]]],
    ab: bool,
    resolve: bool,
    report: FillReport,
) -> list[Alternate]:
    """Record each placeholder's takes and put the first that was made in place; returns the others."""
    alternates: list[Alternate] = []
    for ph, got in placed:
        shot = ph.name or f"{ph.track} {ph.timecode}"
        group = record_takes(journal, shot, [r for _, r in got], "ab" if ab else "fill")
        takes = list_takes(journal, group=group)
        main = next(i for i, (_, r) in enumerate(got) if r.ok)
        result = got[main][1]
        extra: dict[str, Any] = {"take_id": takes[main].id, "take_group": group}
        if ab:
            extra["takes"] = take_entries(group, takes)
        apply_fill(ph, result.media, result.start_frame, {**result.provenance.as_dict(), **extra}, resolve)
        report.filled.append((ph, result))
        alternates += [
            Alternate(
                ph,
                r.media,
                r.start_frame,
                f"{shot} — {s.model}",
                {**r.provenance.as_dict(), "take_id": takes[j].id, "alternate_of": group},
            )
            for j, (s, r) in enumerate(got)
            if j != main and r.ok
        ]
        report.alternates += [(ph, r) for j, (_, r) in enumerate(got) if j != main and r.ok]
    return alternates


def fill_timeline(
    timeline: otio.schema.Timeline,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size | None = None,
    bit_depth: int | None = None,
    catalog: Catalog | None = None,
) -> FillReport:
    size, bit_depth = frame_size(timeline, size, bit_depth)
    return fill_tracks(
        timeline.tracks,
        filler,
        options,
        size=size,
        bit_depth=bit_depth,
        global_start=timeline.global_start_time,
        resolve=is_resolve_shaped(timeline),
        catalog=catalog,
    )


def scan_timeline(
    timeline: otio.schema.Timeline,
    *,
    model: str | None = None,
    size: Size | None = None,
    bit_depth: int | None = None,
    catalog: Catalog | None = None,
    neighbours: Path | None = None,
    multi_shot: bool = False,
) -> tuple[list[Estimate], list[Skipped]]:
    size, bit_depth = frame_size(timeline, size, bit_depth)
    scan = find_placeholders(timeline.tracks, timeline.global_start_time)
    return estimate(scan, size, bit_depth, model, catalog, neighbours, multi_shot), scan.skipped
