"""Revert: take promptreel's fills out of a timeline again, and the alternates of takes no longer in the cut."""

from __future__ import annotations

import opentimelineio as otio

from .metadata import namespace
from .placeholders import is_filled
from .take_tracks import drop_orphan_alternates
from .writeback import revert_item


def revert_tracks(tracks: otio.schema.Stack, takes: set[str] | None = None) -> int:
    """Revert every promptreel fill under `tracks` (only the clips playing one of `takes`, when given).
    Returns how many items were restored."""
    count = 0
    for comp in [tracks, *tracks.find_children(descended_from_type=otio.core.Composition)]:
        children = list(comp)
        for i, child in enumerate(children):
            if (
                isinstance(child, otio.schema.Clip)
                and is_filled(child)
                and (takes is None or namespace(child).get("take_id") in takes)
            ):
                revert_item(child, i)
                count += 1
    if count:
        drop_orphan_alternates(tracks)  # alternates of a take no longer in the cut
    return count
