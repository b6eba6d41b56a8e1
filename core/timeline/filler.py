"""What makes the media for a batch of slots: the `Filler` interface and its implementations.

A `Filler` takes every slot of a timeline at once (so the engine can run them as one batch:
concurrent, within limits, journaled, cached) and returns, per slot and in the same order, a
`MadeClip` (core/made.py): conformed media of exactly `slot.frames` frames at `slot.rate` and
`slot.size` with its provenance, or why there is none.

`engine_filler` is the one real filler: plan, the job engine (the `draft` model included),
conform. It takes the plans the fill has already made (`FillOptions.plans`) instead of planning
again; other fillers may ignore them. Tests may pass their own filler where generation is not what
they test. `checked` holds every result to its slot before anything goes into a timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from ..conform.plan import Choices
from ..conform.probe import probe
from ..errors import UserError
from ..events import Event
from ..made import MadeClip
from ..plan import PlannedRequest
from ..request import Slot
from ..slots import FillSettings, fill_slots_sync

RESOLVE_START_TIMECODE = "01:00:00:00"  # where Resolve-shaped media starts: Resolve reads source ranges against it


class FillIncomplete(UserError):
    """Slots or takes were not made, so nothing was written."""

    exit_code = 4


@dataclass(frozen=True)
class FillOptions:
    """The run's choices. Conform's names: fps_mode, fit, codec."""

    output_dir: Path
    model: str | None = None  # None: each placeholder's own model, else "draft"
    models: tuple[str, ...] = ()  # an A/B: a take on each, the first in place, the others as alternates
    fps_mode: str = "auto"  # auto | speed | nearest | blend | minterpolate
    fit: str = "fill"  # fit | fill | crop | stretch
    codec: str = "prores-hq"  # a conform codec family (core/data/codecs.toml)
    budget: float | None = None  # USD for the whole run
    start_timecode: str | None = None  # written into the media (Resolve-shaped output: 01:00:00:00)
    partial: bool = False  # write what was filled even if some slots failed
    frames_from_neighbours: bool = False  # neighbouring shots' frames as first/last-frame inputs
    on_event: Callable[[Event], None] | None = (
        None  # engine events (core.events.Event): progress bars, the panel's job list
    )
    progress: Callable[[int, Slot, str, int], None] | None = None  # (index, slot, state, slots in the batch)
    # The fill's plan of each slot it hands the filler, in order (set by fill_tracks from its estimate),
    # so the engine filler does not plan every slot a second time. None: the filler plans.
    plans: tuple[PlannedRequest, ...] | None = None
    project: str = ""  # the cost ledger's project column
    no_cache: bool = False  # new takes even where identical ones exist (one conform refused, say)
    multi_shot: bool = False  # placeholders back to back on one track: one multi-shot take (Kling 3.0)


class Filler(Protocol):
    def __call__(self, slots: Sequence[Slot], options: FillOptions) -> list[MadeClip]: ...


def engine_filler(slots: Sequence[Slot], options: FillOptions) -> list[MadeClip]:
    """Every slot through the job engine as one batch, each result conformed to exactly its slot."""
    settings = FillSettings(
        output_dir=Path(options.output_dir),
        model=options.model,
        choices=Choices(fps_mode=options.fps_mode, fit=options.fit),
        codec=options.codec,
        start_timecode=options.start_timecode,
        budget=options.budget,
        project=options.project,
        no_cache=options.no_cache,
    )
    for i, slot in enumerate(slots):
        if options.progress:
            options.progress(i, slot, "queued", len(slots))
    results = fill_slots_sync(slots, settings, on_event=options.on_event, planned=options.plans)
    for i, clip in enumerate(results):
        if options.progress:
            options.progress(i, clip.slot, "done" if clip.ok else "failed", len(slots))
    return results


def checked(result: MadeClip, slot: Slot) -> MadeClip:
    """`result`, or no clip when its media is not exactly the slot (its provenance says what it cost all the same)."""
    problem = check_media(result, slot) if result.ok else None
    return replace(result, path=None, error=problem) if problem else result


def check_media(result: MadeClip, slot: Slot) -> str | None:
    """Frame-exact or refused: the media must be exactly the slot's frames, rate and size."""
    try:
        info = probe(result.media)
    except UserError as e:
        return str(e)
    if (
        info.frames != slot.frames
        or info.rate != slot.rate
        or (info.width, info.height) != (slot.size.width, slot.size.height)
    ):
        return (
            f"the media has {info.frames} frames at {info.rate} {info.width}x{info.height}; "
            f"the slot needs {slot.frames} at {slot.rate} {slot.size}"
        )
    return None
