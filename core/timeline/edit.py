"""Change a clip with a prompt, keeping its timing (video-to-video).

The clip's used source range plus handles is cut from its media, frame-exact at its own rate (conform
with an in-point), and sent to a model that edits a video file (`remix` in the catalog's inputs). The
result is conformed back to exactly that range and put on a takes track under the cut, at the clip's
record frames with the same handles: the original is left as it was. A range longer than the model edits
is refused, or with `--split` edited in consecutive pieces (core/edit.py `split_pieces`) that lie one
after another on the takes track. `promptreel revert` takes the edit out again (the takes track goes when
it holds nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import opentimelineio as otio

from ..catalog import Catalog, Size, default_catalog
from ..edit import check_edit, cut_range, editing_model, handles_within, parse_cuts, split_pieces
from ..errors import BadInput, BudgetExceeded, UnsupportedRequest
from ..frames import rate_label
from ..made import MadeClip
from ..plan import PlannedRequest, plan_slot
from ..request import Slot
from ..takes import record_cut_take
from .extend import Picked, check_source
from .filler import RESOLVE_START_TIMECODE, Filler, FillIncomplete, FillOptions, checked
from .metadata import namespace
from .placeholders import Placeholder
from .take_tracks import Alternate, add_take_tracks
from .timebase import exact_rate, frames_at


@dataclass
class Edit:
    picked: Picked
    clip: otio.schema.Clip  # the take on the takes track (its first piece, when split)
    head: int
    tail: int
    result: MadeClip
    warnings: list[str]
    pieces: list[otio.schema.Clip] = field(default_factory=list)  # every piece, in record order
    cost: float = 0.0  # of every piece


def _source_frames(p: Picked) -> tuple[int, int, int | None]:
    """(first shown frame of the clip in its media file, frames shown, frames the file has), at the clip's rate."""
    shown = p.clip.trimmed_range()
    rate = exact_rate(shown.start_time.rate)
    if rate != p.rate:
        raise UnsupportedRequest(
            f"{p.where} plays media at {rate_label(rate)} fps in a {rate_label(p.rate)} fps cut.",
            "Edit a clip whose media has the timeline's rate (conform it first).",
        )
    start = frames_at(shown.start_time, rate)
    available = p.clip.media_reference.available_range
    total = None
    if available is not None:
        start -= frames_at(available.start_time, rate)
        total = frames_at(available.duration, rate)
    return start, frames_at(shown.duration, rate), total


def used_range(p: Picked, media: Path, handles: int) -> tuple[int, int, int, int]:
    """(the clip's first shown frame in its media file, frames shown, head, tail): up to `handles` each side,
    as far as the media goes."""
    from ..conform.probe import probe

    start, frames, total = _source_frames(p)
    have = probe(media).frames
    return (start, frames) + handles_within(start, frames, min(total, have) if total is not None else have, handles)


def edit_clip(
    timeline: otio.schema.Timeline,
    p: Picked,
    instruction: str,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size,
    bit_depth: int,
    handles: int = 0,
    resolve: bool = False,
    catalog: Catalog | None = None,
    split: str | None = None,
) -> Edit:
    """Edit `p` with `instruction` through `filler` and put the result on a takes track under the cut. Refused
    before any spend; nothing in the timeline changes unless the edit came back frame-exact. `split`: None
    (refuse a range longer than the model edits), "" (equal pieces) or "AT,AT" (cuts allowed there): each
    piece is one job, and the pieces lie one after another on the takes track, one take of the whole range."""
    if not instruction.strip():
        raise BadInput("The instruction is empty.", 'Say what to change, e.g. --instruction "make it dusk".')
    catalog = catalog or default_catalog()
    media = check_source(p)
    model = editing_model(options.model, catalog)
    start, frames, head, tail = used_range(p, media, handles)
    if split is None:
        check_edit(p.where, frames, head, tail, p.rate, model)
        pieces = [(0, frames)]
    else:
        cuts = parse_cuts(split, p.start + p.offset, p.rate) if split else None
        pieces = split_pieces(p.where, frames, head, tail, p.rate, model, cuts)
    slots, plans, shapes = [], [], []
    for i, (offset, n) in enumerate(pieces):
        h, t = (head if i == 0 else 0), (tail if i == len(pieces) - 1 else 0)
        source = cut_range(media, start + offset - h, h + n + t, p.rate, Path(options.output_dir) / "sources")
        name = f"{p.clip.name} edit" + (f" {i + 1}/{len(pieces)}" if len(pieces) > 1 else "")
        slot = Slot(
            frames=h + n + t,
            rate=p.rate,
            size=size,
            bit_depth=bit_depth,
            prompt=instruction,
            name=name,
            model=model.id,
            remix_of=str(source),
        )
        planned = plan_slot(slot, model)
        slots.append(slot)
        plans.append(PlannedRequest(planned.request, slot, planned.warnings))
        shapes.append((offset, n, h, t))
    cost = sum(float(pl.generated_seconds) * model.price_per_second(pl.request.size) for pl in plans)
    if options.budget is not None and cost > options.budget:
        raise BudgetExceeded(
            f"The edit would cost an estimated ${cost:.2f}, over the budget of ${options.budget:.2f}.",
            "Raise --budget, choose a cheaper --model, or edit a shorter clip.",
        )
    if resolve and options.start_timecode is None:
        options = replace(options, start_timecode=RESOLVE_START_TIMECODE)
    results = [
        checked(r, s)
        for r, s in zip(filler(slots, replace(options, model=model.id, plans=tuple(plans))), slots, strict=True)
    ]
    failed = [(s, r) for s, r in zip(slots, results, strict=True) if not r.ok]
    if failed:
        raise FillIncomplete(
            f"The edit of {p.clip.name!r} was not made"
            + (f" ({failed[0][0].name})" if len(slots) > 1 else "")
            + f": {failed[0][1].error}",
            "Nothing was written. Fix the cause and run again (a finished job is reused).",
        )
    label = f"{p.clip.name} — {model.id} edit"
    alternates: list[Alternate] = []
    for (offset, n, h, t), result in zip(shapes, results, strict=True):
        ph = Placeholder(p.clip, "clip", p.label, p.rate, p.start + p.offset + offset, n, instruction, h, t)
        made = result.placed_at(
            edit_of=p.clip.name,
            instruction=instruction,
            handles=[h, t],
            placeholder={"kind": "edit"},
            **({"piece": [len(alternates) + 1, len(pieces), offset]} if len(pieces) > 1 else {}),
        )
        # A take of the clip (`promptreel takes`), recorded once it is made and paid for.
        provenance = {**made.provenance.as_dict(), "take_id": record_cut_take(p.clip.name, made, "edit").id}
        alternates.append(Alternate(ph, result.path, result.start_frame, label, provenance))
    add_take_tracks(timeline.tracks, alternates, timeline.global_start_time, resolve)
    jobs = {r.provenance.job_id for r in results}
    placed = sorted(
        (
            c
            for c in timeline.tracks[0].find_clips()
            if namespace(c).get("job_id") in jobs and namespace(c).get("edit_of") == p.clip.name
        ),
        key=lambda c: c.range_in_parent().start_time,
    )
    paid = sum(r.provenance.cost for r in results)
    return Edit(p, placed[0], head, tail, results[0], [w for pl in plans for w in pl.warnings], placed, paid)
