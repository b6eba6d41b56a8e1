"""Fill a timeline: find its placeholders, price them, hand them to a `Filler` as one batch,
check every result is frame-exact, then write each into the timeline.

Nothing in the timeline changes until every result is in and checked; a run with failures
changes nothing unless `partial` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from ..core.catalog import Catalog, Size, default_catalog
from ..core.errors import BudgetExceeded, UserError
from ..core.plan import PlannedRequest, plan_slot
from ..core.request import Slot
from .filler import Failed, Filled, Filler, FillOptions
from .neighbours import neighbour_frames
from .placeholders import Placeholder, Scan, Skipped, find_placeholders, frame_size
from .timeline_io import is_resolve_shaped
from .writeback import apply_fill

RESOLVE_START_TIMECODE = "01:00:00:00"


class FillIncomplete(UserError):
    exit_code = 4


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
        p = self.shape_plan
        if p is None or p.slot is self.slot:
            return p
        tags = {"shot": self.slot.name} if self.slot.name else {}
        return PlannedRequest(p.request.model_copy(update={"prompt": self.slot.prompt, "tags": tags, "seed": self.slot.seed,
                                                              "negative_prompt": self.slot.negative_prompt}),
                              self.slot, p.warnings)

    @property
    def planned_label(self) -> str:
        if self.shape_plan is None:
            return "-"
        r = self.shape_plan.request
        length = f"{r.frames} fr" if r.frames is not None else f"{r.seconds} s"
        return f"{length} {r.size or self.slot.size}"


@dataclass
class FillReport:
    filled: list[tuple[Placeholder, Filled]] = field(default_factory=list)
    failed: list[tuple[Placeholder, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    estimates: list[Estimate] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return sum(float(f.provenance.get("cost") or 0) for _, f in self.filled)


def estimate(scan: Scan, size: Size, bit_depth: int, model: str | None,
             catalog: Catalog | None = None, neighbours: Path | None = None) -> list[Estimate]:
    """Plan every placeholder on its model (the flag, else its own, else draft) and price it.

    With `neighbours` (a folder for the stills), models that take first/last-frame inputs get
    the neighbouring shots' frames.
    """
    catalog = catalog or default_catalog()
    out = []
    # Slots alike in everything but their words plan alike: plan each shape once (10,000-clip timelines).
    plans: dict[tuple, tuple[PlannedRequest | None, float, str | None]] = {}
    for ph in scan.placeholders:
        chosen = model or ph.hints.get("model") or "draft"
        first = last = None
        if neighbours is not None:
            inputs = catalog.models[chosen].inputs if chosen in catalog.models else []
            if "first_frame" in inputs:
                first, last = neighbour_frames(ph.item, neighbours, want_last="last_frame" in inputs)
        slot = ph.slot(size, bit_depth, chosen, first, last)
        shape = (chosen, len(slot.prompt), slot.frames, slot.rate, slot.size, slot.bit_depth, slot.seed is None,
                 slot.negative_prompt is None, slot.first_frame, slot.last_frame)
        if shape not in plans:
            plans[shape] = _plan(slot, chosen, catalog)
        out.append(Estimate(ph, slot, *plans[shape]))
    return out


def _plan(slot: Slot, model: str, catalog: Catalog) -> tuple[PlannedRequest | None, float, str | None]:
    try:
        spec = catalog.get(model)
        planned = plan_slot(slot, spec)
        return planned, float(planned.generated_seconds) * spec.price_per_second(planned.request.size), None
    except UserError as e:
        return None, 0.0, str(e)


def fill_tracks(tracks: otio.schema.Stack, filler: Filler, options: FillOptions, *, size: Size, bit_depth: int,
                global_start: otio.opentime.RationalTime | None = None, resolve: bool = False,
                catalog: Catalog | None = None) -> FillReport:
    """Fill every placeholder under `tracks`. Raises before changing anything when the run cannot be done."""
    scan = find_placeholders(tracks, global_start)
    stills = Path(options.output_dir) / "neighbours" if options.frames_from_neighbours else None
    report = FillReport(skipped=scan.skipped,
                        estimates=estimate(scan, size, bit_depth, options.model, catalog, stills))
    if not report.estimates:
        return report
    refused = [e for e in report.estimates if e.error]
    if refused and not options.partial:
        raise FillIncomplete(
            f"{len(refused)} placeholder(s) cannot be made: "
            + "; ".join(f"{e.placeholder.track} {e.placeholder.timecode}: {e.error}" for e in refused),
            "Fix them, choose another --model, or pass --partial to fill the rest.")
    report.failed += [(e.placeholder, e.error) for e in refused]
    todo = [e for e in report.estimates if not e.error]
    total = sum(e.cost for e in todo)
    if options.budget is not None and total > options.budget:
        raise BudgetExceeded(f"Filling {len(todo)} placeholder(s) would cost an estimated ${total:.2f}, "
                             f"over the budget of ${options.budget:.2f}.",
                             "Raise --budget, choose a cheaper --model, or fill fewer placeholders.")
    if resolve and options.start_timecode is None:
        # Resolve reads source ranges against the media's own start timecode.
        options = FillOptions(**{**options.__dict__, "start_timecode": RESOLVE_START_TIMECODE})
    results = filler([e.slot for e in todo], options) if todo else []
    if len(results) != len(todo):
        raise AssertionError(f"filler returned {len(results)} results for {len(todo)} slots")
    ok: list[tuple[Placeholder, Filled]] = []
    for est, result in zip(todo, results):
        if isinstance(result, Filled):
            problem = _check_media(result, est.slot)
            if problem is None:
                ok.append((est.placeholder, result))
                continue
            result = Failed(problem)
        report.failed.append((est.placeholder, result.reason))
    if report.failed and not options.partial:
        raise FillIncomplete(
            f"{len(report.failed)} of {len(report.estimates)} placeholder(s) were not filled: "
            + "; ".join(f"{ph.track} {ph.timecode}: {why}" for ph, why in report.failed),
            "Nothing was written. Fix the cause and run again (finished jobs are reused), "
            "or pass --partial to write the filled part.")
    for ph, result in ok:
        apply_fill(ph, result.media, result.start_frame, result.provenance, resolve)
        report.filled.append((ph, result))
    return report


def _check_media(result: Filled, slot: Slot) -> str | None:
    """Frame-exact or refused: the media must be exactly the slot's frames, rate and size."""
    from ..core.conform.probe import probe

    try:
        info = probe(result.media)
    except UserError as e:
        return str(e)
    if info.frames != slot.frames or info.rate != slot.rate or (info.width, info.height) != (
            slot.size.width, slot.size.height):
        return (f"the media has {info.frames} frames at {info.rate} {info.width}x{info.height}; "
                f"the slot needs {slot.frames} at {slot.rate} {slot.size}")
    return None


def fill_timeline(timeline: otio.schema.Timeline, filler: Filler, options: FillOptions, *,
                  size: Size | None = None, bit_depth: int | None = None,
                  catalog: Catalog | None = None) -> FillReport:
    size, bit_depth = frame_size(timeline, size, bit_depth)
    return fill_tracks(timeline.tracks, filler, options, size=size, bit_depth=bit_depth,
                       global_start=timeline.global_start_time, resolve=is_resolve_shaped(timeline),
                       catalog=catalog)


def scan_timeline(timeline: otio.schema.Timeline, *, model: str | None = None, size: Size | None = None,
                  bit_depth: int | None = None, catalog: Catalog | None = None,
                  neighbours: Path | None = None) -> tuple[list[Estimate], list[Skipped]]:
    size, bit_depth = frame_size(timeline, size, bit_depth)
    scan = find_placeholders(timeline.tracks, timeline.global_start_time)
    return estimate(scan, size, bit_depth, model, catalog, neighbours), scan.skipped

