"""Change a clip with a prompt, keeping its timing (video-to-video).

The clip's used source range plus handles is cut from its media, frame-exact at its own rate (conform
with an in-point), and sent to a model that edits a video file (`remix` in the catalog's inputs). The
result is conformed back to exactly that range and put on a takes track under the cut, at the clip's
record frames with the same handles: the original is left as it was. `promptreel revert` takes the edit
out again (the takes track goes when it holds nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import opentimelineio as otio

from ..core.catalog import Catalog, Size, default_catalog
from ..core.edit import check_edit, cut_range, editing_model, handles_within
from ..core.errors import BadInput, BudgetExceeded, UnsupportedRequest
from ..core.frames import rate_label
from ..core.plan import PlannedRequest, plan_slot
from ..core.request import Slot
from ..core.made import MadeClip
from ..core.timeline.filler import RESOLVE_START_TIMECODE, FillIncomplete, Filler, FillOptions, checked
from ..core.timeline.metadata import namespace
from ..core.timeline.placeholders import Placeholder
from ..core.timeline.take_tracks import Alternate, add_take_tracks
from ..core.timeline.timebase import exact_rate, frames_at
from .extend import Picked, check_source


@dataclass
class Edit:
    picked: Picked
    clip: otio.schema.Clip  # the take on the takes track
    head: int
    tail: int
    result: MadeClip
    warnings: list[str]


def _source_frames(p: Picked) -> tuple[int, int, int]:
    """(first shown frame of the clip in its media file, frames shown, frames the file has), at the clip's rate."""
    shown = p.clip.trimmed_range()
    rate = exact_rate(shown.start_time.rate)
    if rate != p.rate:
        raise UnsupportedRequest(f"{p.where} plays media at {rate_label(rate)} fps in a {rate_label(p.rate)} fps cut.",
                                 "Edit a clip whose media has the timeline's rate (conform it first).")
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
    from ..core.conform.probe import probe

    start, frames, total = _source_frames(p)
    have = probe(media).frames
    return (start, frames) + handles_within(start, frames, min(total, have) if total is not None else have, handles)


def edit_clip(timeline: otio.schema.Timeline, p: Picked, instruction: str, filler: Filler, options: FillOptions, *,
              size: Size, bit_depth: int, handles: int = 0, resolve: bool = False,
              catalog: Catalog | None = None) -> Edit:
    """Edit `p` with `instruction` through `filler` and put the result on a takes track under the cut. Refused
    before any spend; nothing in the timeline changes unless the edit came back frame-exact."""
    if not instruction.strip():
        raise BadInput("The instruction is empty.", "Say what to change, e.g. --instruction \"make it dusk\".")
    catalog = catalog or default_catalog()
    media = check_source(p)
    model = editing_model(options.model, catalog)
    start, frames, head, tail = used_range(p, media, handles)
    check_edit(p.where, frames, head, tail, p.rate, model)
    source = cut_range(media, start - head, head + frames + tail, p.rate, Path(options.output_dir) / "sources")
    slot = Slot(frames=head + frames + tail, rate=p.rate, size=size, bit_depth=bit_depth, prompt=instruction,
                name=f"{p.clip.name} edit", model=model.id, remix_of=str(source))
    planned = plan_slot(slot, model)
    cost = float(planned.generated_seconds) * model.price_per_second(planned.request.size)
    if options.budget is not None and cost > options.budget:
        raise BudgetExceeded(f"The edit would cost an estimated ${cost:.2f}, over the budget of ${options.budget:.2f}.",
                             "Raise --budget, choose a cheaper --model, or edit a shorter clip.")
    if resolve and options.start_timecode is None:
        options = replace(options, start_timecode=RESOLVE_START_TIMECODE)
    planned = PlannedRequest(planned.request, slot, planned.warnings)
    (result,) = filler([slot], replace(options, model=model.id, plans=(planned,)))
    result = checked(result, slot)
    if not result.ok:
        raise FillIncomplete(f"The edit of {p.clip.name!r} was not made: {result.error}",
                             "Nothing was written. Fix the cause and run again (a finished job is reused).")
    ph = Placeholder(p.clip, "clip", p.label, p.rate, p.start + p.offset, frames, instruction, head, tail)
    label = f"{p.clip.name} — {model.id} edit"
    provenance = {**result.provenance.as_dict(), "edit_of": p.clip.name, "instruction": instruction, "handles": [head, tail],
                  "placeholder": {"kind": "edit"}}
    add_take_tracks(timeline.tracks, [Alternate(ph, result.path, result.start_frame, label, provenance)],
                    timeline.global_start_time, resolve)
    take = next(c for c in timeline.tracks[0].find_clips() if namespace(c).get("job_id") == result.provenance.job_id
                and namespace(c).get("edit_of") == p.clip.name)
    return Edit(p, take, head, tail, result, list(planned.warnings))
