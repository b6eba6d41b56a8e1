"""Extending a clip, the part every editor shares: which models can continue a clip and by how much.

A tail extension gives the model the clip's last shown frame as its first frame and skips the take's own
copy of it, so the placed frames follow the clip's last without a repeat: one generated frame more than
is placed. A head extension is the mirror: the clip's first shown frame is the model's last frame (a model
that takes a last frame on its own, `last_frame_alone`; none of the catalog's models extends a video file
backwards), and the take's last frame, that copy, is left out (`Slot.drop_last`), so the placed frames lead
into the clip's first. The OTIO side (core/timeline/extend.py) and the Resolve side (resolve_plugin/extend.py)
place it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

from .catalog import Catalog, Model, Size
from .errors import BadInput, UnsupportedRequest
from .frames import rate_label
from .plan import nearest_sizes

SKIPPED = 1  # generated frames not placed: the model's copy of the clip's edge frame

Edge = Literal["tail", "head"]


def _takers(catalog: Catalog, edge: Edge) -> list[str]:
    return [
        m.id
        for m in catalog.models.values()
        if m.state() != "retired"
        and ("first_frame" in m.inputs if edge == "tail" else "last_frame" in m.inputs and m.last_frame_alone)
    ]


def extension_model(model_id: str | None, catalog: Catalog, clip_name: str, edge: Edge = "tail") -> Model:
    """The model to extend `clip_name` with: one that takes a first frame (tail) or a last frame on its own
    (head); refused, naming some that do, otherwise."""
    takers = ", ".join(_takers(catalog, edge)[:8]) or "none in the catalog"
    frame = "first frame" if edge == "tail" else "last frame on its own"
    if not model_id or model_id == "draft":
        raise BadInput(
            f"No model to extend with: the draft model takes no {frame}, so it cannot "
            f"{'continue' if edge == 'tail' else 'lead into'} a clip.",
            f"Give --model, one that takes a {frame}: {takers}.",
        )
    model = catalog.get(model_id)
    if edge == "tail" and "first_frame" not in model.inputs:
        raise UnsupportedRequest(
            f"{model.name} takes no first frame, so its clip could not continue {clip_name!r}.",
            f"Choose a model that does: {takers}.",
        )
    if edge == "head" and not ("last_frame" in model.inputs and model.last_frame_alone):
        raise UnsupportedRequest(
            f"{model.name} takes no last frame on its own, so its clip could not end on the "
            f"first frame of {clip_name!r}.",
            f"Extend the head with a model that does: {takers}.",
        )
    return model


def longest_extension(model: Model, size: Size, rate: Fraction) -> int | None:
    """The most frames `model` can add at `rate` (one generated frame is the clip's own edge). None: no limit."""
    if model.any_duration:
        return None
    longest = max((max(model.allowed_durations(s), default=0) for s in nearest_sizes(model, size, True)), default=0)
    return max(math.floor(longest * rate) - SKIPPED, 0)


def check_extension(frames: int, model: Model, size: Size, rate: Fraction, edge: Edge = "tail") -> None:
    """Refuse, before anything is spent, an extension the model cannot make, naming the longest it can."""
    if frames < 1:
        raise BadInput(f"An extension of {frames} frames.", f"Give --{edge} 1 or more frames.")
    longest = longest_extension(model, size, rate)
    if longest is not None and frames > longest:
        raise UnsupportedRequest(
            f"{model.name} can extend a clip by at most {longest} frames at {rate_label(rate)} fps; "
            f"{frames} were asked for.",
            f"Give --{edge} {longest} or fewer, or choose a model that makes longer clips.",
        )


def check_room_before(where: str, frames: int, before: int) -> None:
    """Refuse a head extension that would start before the timeline does (`before`: frames before the clip)."""
    if frames > before:
        raise BadInput(
            f"{where} starts {before} frames into the timeline; a head of {frames} frames would "
            "start before the timeline does.",
            f"Give --head {before} or fewer."
            if before
            else "Move the cut later (or the timeline's start earlier), then extend the head.",
        )
