"""Promote a take: render it again on the final model and put that in place of the take, in the timeline.

Revert goes back to the take it replaced (core/timeline/writeback.py `apply_promote`).
"""

from __future__ import annotations

from dataclasses import replace

import opentimelineio as otio

from ..catalog import Catalog, Size
from ..journal import Journal
from ..made import MadeClip
from ..request import Slot
from ..takes import Take, chain_groups, list_takes, promote_slot, record_takes
from .filler import RESOLVE_START_TIMECODE, Filler, FillIncomplete, FillOptions, checked
from .placeholders import Placeholder
from .take_tracks import find_take
from .writeback import apply_promote


def render_promotion(
    slot: Slot, take: Take, filler: Filler, options: FillOptions, journal: Journal
) -> tuple[MadeClip, Take]:
    """Make `slot` (from core.takes.promote_slot) through `filler`, check it is frame-exact, and record
    it as the promotion of `take`. Returns (the MadeClip, the new Take). Raises, recording nothing, on failure."""
    (result,) = filler([slot], options)
    result = checked(result, slot)
    if not result.ok:
        raise FillIncomplete(
            f"The final take on {slot.model} was not made: {result.error}",
            "Nothing was changed. Fix the cause and run again (a finished job is reused).",
        )
    group = record_takes(journal, take.shot, [result], "promote", source=take.id)
    return result, list_takes(journal, group=group)[0]


def promote_in_tracks(
    tracks: otio.schema.Stack,
    take: Take,
    final_model: str,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size,
    bit_depth: int,
    global_start: otio.opentime.RationalTime | None = None,
    resolve: bool = False,
    journal: Journal,
    catalog: Catalog | None = None,
) -> tuple[Placeholder, MadeClip, Take]:
    """Render `take` again on `final_model` for the clip that plays it under `tracks`, and replace it in
    place (revert goes back to the take it replaced). Returns (Placeholder, MadeClip, the new Take)."""
    ph = find_take(tracks, chain_groups(journal, take), global_start)
    slot = promote_slot(ph.slot(size, bit_depth), take, final_model, catalog)  # refused before anything is spent
    if resolve and options.start_timecode is None:
        options = replace(options, start_timecode=RESOLVE_START_TIMECODE)
    result, final = render_promotion(slot, take, filler, options, journal)
    apply_promote(
        ph,
        result.media,
        result.start_frame,
        {**result.provenance.as_dict(), "take_id": final.id, "take_group": final.group},
        resolve,
    )
    return ph, result, final
