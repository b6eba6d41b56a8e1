"""Change a clip in Resolve with a prompt, keeping its timing (video-to-video, connected mode).

The item's used range of its media plus handles is cut exactly (core/edit.py) and sent to a model that
edits video; the result, exactly that range, is imported into the bin and added to the item's Take Selector
as a take showing the item's own frames (the handles stay outside), with the original still showing. It is
recorded like a fill: `promptreel resolve revert` deletes the take and finalizes the selector back. With
`split`, a range longer than the model edits is edited in consecutive pieces (core/edit.py `split_pieces`),
one job each, joined frame-exact into one file: one take, as above.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from promptreel.core import settings
from promptreel.core.catalog import default_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.edit import (
    check_edit,
    cut_range,
    editing_model,
    handles_within,
    join_pieces,
    parse_cuts,
    split_pieces,
)
from promptreel.core.errors import BadInput
from promptreel.core.made import MadeClip
from promptreel.core.takes import record_cut_take

from . import edits
from .bins import DEFAULT_BIN, import_tagged
from .clipmaker import ClipMaker, make_many
from .edits import EditRecord, Placed
from .errors import PlacementFailed
from .extend import clip_with_media
from .fill import conform_target
from .gateway import Gateway


def edit(
    gw: Gateway,
    make_clip: ClipMaker,
    item_id: str,
    instruction: str,
    model: str | None = None,
    handles: int = 0,
    bin_template: str = DEFAULT_BIN,
    bit_depth: int | None = None,
    folder: Path | None = None,
    split: str | None = None,
) -> EditRecord:
    """Edit timeline item `item_id` with `instruction`; the result becomes a take of it. Refused before any spend.
    `split`: None (refuse a range longer than the model edits), "" (equal pieces) or "AT,AT" (cuts allowed
    there: frames into the clip or record timecodes)."""
    if not instruction.strip():
        raise BadInput("The instruction is empty.", 'Say what to change, e.g. "make it dusk".')
    project, target = conform_target(gw, bit_depth)
    state = gw.timeline()
    item = clip_with_media(state, item_id)
    spec = editing_model(model, default_catalog())
    media = Path(state.clips[item.clip_id].path)
    start, frames = item.left_offset, item.duration
    head, tail = handles_within(start, frames, probe(media).frames, handles)
    where = f"'{item.name}' on V{item.track}"
    if split is None:
        check_edit(where, frames, head, tail, target.rate, spec)
        pieces = [(0, frames)]
    else:
        cuts = parse_cuts(split, item.start, target.rate) if split else None
        pieces = split_pieces(where, frames, head, tail, target.rate, spec, cuts)
    sources = Path(folder or settings.home() / "sources")
    slots = []
    for i, (offset, n) in enumerate(pieces):
        h, t = (head if i == 0 else 0), (tail if i == len(pieces) - 1 else 0)
        source = cut_range(media, start + offset - h, h + n + t, target.rate, sources)
        slots.append(
            target.slot(
                h + n + t,
                instruction,
                model=spec.id,
                remix_of=str(source),
                name=f"{item.name} edit" + (f" {i + 1}/{len(pieces)}" if len(pieces) > 1 else ""),
            )
        )
    made = _made(make_clip, slots, item.name, settings.output_dir() / "edits")  # a file the bridge may import
    slot = slots[0].model_copy(update={"frames": head + frames + tail, "name": f"{item.name} edit"})
    take = import_tagged(gw, made, bin_template, name=f"{item.name} — {spec.id} edit")
    if take.frames != str(slot.frames):
        raise PlacementFailed(
            f"The edit of '{item.name}' has {take.frames} frames, not {slot.frames}.",
            "It was imported into the bin but not added as a take; make it again.",
        )
    added = gw.add_takes(item.id, [(take.id, head, head + frames)], frames)
    if not added.available:
        raise PlacementFailed(
            f"This Resolve has no Take Selector, so the edit of '{item.name}' is only in the bin as '{take.name}'.",
            f"Cut it over the clip by hand (its handles are {head} and {tail} frames).",
        )
    (result,) = added.takes
    if not result.ok:
        raise PlacementFailed(
            f"Resolve did not take the edit of '{item.name}' as a take: {result.reason}.",
            f"It is in the bin as '{take.name}'; cut it over the clip by hand.",
        )
    record_cut_take(
        item.name,
        replace(made, slot=slot).placed_at(
            edit_of=item.name, instruction=instruction, handles=[head, tail], pieces=len(pieces), resolve_clip=take.id
        ),
        "edit",
    )
    record = EditRecord(
        kind="edit",
        project_id=project.id,
        timeline_id=state.id,
        timeline_name=state.name,
        job_id=made.provenance.job_id,
        placeholder_id=added.shown.id or item.id,
        placeholder_name=item.name,
        placeholder_track=item.track,
        placeholder_start=item.start,
        placeholder_duration=frames,
    )
    record.placed = Placed(
        item_id=added.shown.id or item.id,
        clip_id=item.clip_id,
        track=item.track,
        start=item.start,
        duration=frames,
        takes=[take.id],
    )
    edits.add(record)
    return record


def _made(make_clip: ClipMaker, slots: list, name: str, folder: Path) -> MadeClip:
    """The edit made: one clip, or the pieces' clips (one batch) joined into one file, paid for together."""
    if len(slots) == 1:
        return make_clip(slots[0])
    made = make_many(make_clip, slots)
    folder.mkdir(parents=True, exist_ok=True)
    failed = next((m for m in made if not m.ok), None)
    if failed is not None:
        raise PlacementFailed(
            f"The edit of '{name}' was not made: {failed.error}",
            "Nothing was placed; fix the cause and edit again (finished pieces are reused).",
        )
    joined = join_pieces(
        [m.path for m in made], folder / f"edit-{'-'.join(m.provenance.job_id for m in made)[:120]}.mov"
    )
    return replace(
        made[0], path=joined, provenance=replace(made[0].provenance, cost=sum(m.provenance.cost for m in made))
    )
