"""Extending a clip, the part every editor shares: which models can continue a clip and by how much.

A tail extension gives the model the clip's last shown frame as its first frame and skips the take's own
copy of it, so the placed frames follow the clip's last without a repeat: one generated frame more than
is placed. The OTIO side (otio_adapters/extend.py) and the Resolve side (resolve_plugin/extend.py) place it.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .catalog import Catalog, Model, Size
from .errors import BadInput, UnsupportedRequest
from .frames import rate_label
from .plan import nearest_sizes

SKIPPED = 1  # generated frames before the first placed one: the model's copy of the clip's last frame


def extension_model(model_id: str | None, catalog: Catalog, clip_name: str) -> Model:
    """The model to extend `clip_name` with: one that takes a first frame; refused (naming some) otherwise."""
    takers = [m.id for m in catalog.models.values() if "first_frame" in m.inputs and m.state() != "retired"]
    if not model_id or model_id == "draft":
        raise BadInput("No model to extend with: the draft model takes no first frame, so it cannot continue a clip.",
                       f"Give --model, one that takes a first frame: {', '.join(takers[:8])}.")
    model = catalog.get(model_id)
    if "first_frame" not in model.inputs:
        raise UnsupportedRequest(f"{model.name} takes no first frame, so its clip could not continue {clip_name!r}.",
                                 f"Choose a model that does: {', '.join(takers[:8])}.")
    return model


def longest_extension(model: Model, size: Size, rate: Fraction) -> int | None:
    """The most frames `model` can add at `rate` (one generated frame is the clip's own last). None: no limit."""
    if model.any_duration:
        return None
    longest = max((max(model.allowed_durations(s), default=0) for s in nearest_sizes(model, size, True)), default=0)
    return max(math.floor(longest * rate) - SKIPPED, 0)


def check_extension(frames: int, model: Model, size: Size, rate: Fraction) -> None:
    """Refuse, before anything is spent, an extension the model cannot make, naming the longest it can."""
    if frames < 1:
        raise BadInput(f"An extension of {frames} frames.", "Give --tail 1 or more frames.")
    longest = longest_extension(model, size, rate)
    if longest is not None and frames > longest:
        raise UnsupportedRequest(
            f"{model.name} can extend a clip by at most {longest} frames at {rate_label(rate)} fps; "
            f"{frames} were asked for.",
            f"Give --tail {longest} or fewer, or choose a model that makes longer clips.")
