"""Extend a clip in Resolve (connected mode): new frames after its tail that continue it, or before its
head that lead into it.

Tail: the model gets the clip's last shown frame (exported as a still under the playhead) as its first frame
and makes one frame more than asked; only source frames [1, N] are placed (AppendToTimeline's startFrame),
so the new frames follow the clip's last without a repeat. Head: the clip's first shown frame is the model's
last frame; the take's last frame (its copy) is left out at conform (`Slot.drop_last`) and frames [0, N) are
placed, ending just before the clip's first. They go right beside the clip on its own track when nothing is
there, else on the first free track above, else on a new one: nothing else is moved, trimmed or disabled.
The placement is read back and recorded like a fill, so `promptreel resolve revert` removes it.
"""

from __future__ import annotations

from pathlib import Path

from promptreel.core import settings
from promptreel.core.catalog import default_catalog
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.extend import SKIPPED, Edge, check_extension, check_room_before, extension_model
from promptreel.core.takes import record_cut_take

from . import edits
from .bins import DEFAULT_BIN, import_tagged
from .clipmaker import ClipMaker
from .edits import EditRecord, Placed
from .errors import PlacementFailed, ResolveRefused
from .fill import TRACK_NAME, conform_target, free_track, undo_placement
from .gateway import Gateway, Item, TimelineState, Track


def clip_with_media(state: TimelineState, item_id: str) -> Item:
    item = state.item(item_id)
    if item is None:
        raise BadInput(f"No item {item_id} on timeline '{state.name}'.", "Select the clip to extend and try again.")
    where = f"'{item.name}' on V{item.track}"
    if item.kind != "clip":
        raise UnsupportedRequest(
            f"{where} is a {item.kind}: it has no frames to continue.",
            "Extend a clip that plays media; fill a generator as a placeholder instead.",
        )
    clip = state.clips.get(item.clip_id)
    if clip is None or not clip.path or not Path(clip.path).is_file():
        raise BadInput(
            f"{where}: its media is offline{f' ({clip.path})' if clip and clip.path else ''}.",
            "Relink the clip to its media in the media pool, then extend it.",
        )
    return item


def find_item(state: TimelineState, name: str) -> str:
    """The id of the one clip on the timeline named `name`."""
    found = [it for t in state.tracks for it in t.items if it.name == name and it.kind == "clip"]
    if len(found) != 1:
        raise BadInput(
            f"{len(found) or 'No'} clip(s) named '{name}' on timeline '{state.name}'"
            + (": " + ", ".join(f"V{it.track}@{it.start}" for it in found[:5]) if found else "")
            + ".",
            "Give a name that is unique on the timeline, or the item's id with --item.",
        )
    return found[0].id


def _track_for(state: TimelineState, item: Item, start: int, end: int) -> int | None:
    own = state.track(item.track)
    if own is not None and not own.locked and not any(it.overlaps(start, end) for it in own.items):
        return item.track
    return free_track(state, item.track, start, end)


def extend(
    gw: Gateway,
    make_clip: ClipMaker,
    item_id: str,
    frames: int,
    model: str | None = None,
    prompt: str | None = None,
    stills_dir: Path | None = None,
    bin_template: str = DEFAULT_BIN,
    bit_depth: int | None = None,
    edge: Edge = "tail",
) -> EditRecord:
    """Extend timeline item `item_id` by `frames` at its tail (or head). Refused before any spend (offline
    media, a generator, a model without first frames (a last frame alone, for a head), more than it can make,
    a head before the timeline's start); placed, read back and recorded."""
    project, target = conform_target(gw, bit_depth)
    state = gw.timeline()
    item = clip_with_media(state, item_id)
    spec = extension_model(model, default_catalog(), item.name, edge)
    check_extension(frames, spec, target.size, target.rate, edge)
    head = edge == "head"
    if head:
        check_room_before(f"'{item.name}' on V{item.track}", frames, item.start - state.start_frame)
    # In promptreel's media folder: the bridge writes files only into the folders the worker declared.
    folder = Path(stills_dir or settings.output_dir() / "stills")
    folder.mkdir(parents=True, exist_ok=True)
    which = "first" if head else "last"
    try:
        still = gw.export_still(item.start if head else item.end - 1, folder / f"{item.id}-{which}.png")
    except ResolveRefused as e:
        raise PlacementFailed(
            f"Resolve would not export the {which} frame of '{item.name}': {e.problem}",
            "Open the Edit page with the timeline showing, then extend again.",
        ) from None
    name = f"{item.name} {'-' if head else '+'}{frames}"
    if head:  # N frames, the take's last (the clip's first, again) left out at conform
        slot = target.slot(
            frames,
            prompt or f"The moments before the shot {item.name}.",
            name=name,
            last_frame=still,
            model=spec.id,
            drop_last=SKIPPED,
        )
    else:
        slot = target.slot(
            frames + SKIPPED, prompt or f"The shot {item.name} continues.", name=name, first_frame=still, model=spec.id
        )
    made = make_clip(slot)
    clip = import_tagged(gw, made, bin_template, name=name)
    if clip.frames != str(slot.frames):
        raise PlacementFailed(
            f"The extension of '{item.name}' has {clip.frames} frames, not {slot.frames}.",
            "It was imported into the bin but not placed; make it again.",
        )
    start = item.start - frames if head else item.end
    end = start + frames
    first = 0 if head else SKIPPED
    track = _track_for(state, item, start, end)
    added = track is None
    if track is None:
        track = gw.add_track(TRACK_NAME)
        state.tracks.append(Track(index=track, name=TRACK_NAME))
    on_track = state.track(track)
    assert on_track is not None  # the item's own track, or the one just added
    # Quirk 2: source frames [first, first + frames), endFrame exclusive; quirk 20: recordFrame absolute.
    placed = gw.place(
        clip.id,
        first,
        first + frames,
        track,
        start,
        timeline_id=state.id,
        hint=sum(it.end <= start for it in on_track.items),
    )
    landed = {it.id for it in placed.range if it.clip_id == clip.id} | {i for i in placed.returned if i}
    ok = [it for it in placed.range if it.clip_id == clip.id and it.start == start and it.duration == frames]
    if len(ok) != 1 or landed != {ok[0].id}:
        left = undo_placement(gw, sorted(landed), item.id)
        raise PlacementFailed(
            f"The extension of '{item.name}' did not land as placed (V{track} at {start} for {frames} frames)"
            + (", and Resolve would not remove it." if left else "; it has been removed."),
            f"Delete the clip '{clip.name}' on the timeline by hand."
            if left
            else "Check for clips edited onto that range meanwhile, then extend again.",
        )
    # A take of the clip (`promptreel takes`), with the clip it extends and at which edge.
    record_cut_take(
        item.name,
        made.placed_at(extends=item.name, extension_edge=edge, extension_frames=frames, resolve_clip=clip.id),
        "extend",
    )
    record = EditRecord(
        kind="extend",
        project_id=project.id,
        timeline_id=state.id,
        timeline_name=state.name,
        job_id=made.provenance.job_id,
        placeholder_id=item.id,
        placeholder_name=item.name,
        placeholder_track=item.track,
        placeholder_start=item.start,
        placeholder_duration=item.duration,
    )
    record.placed = Placed(
        item_id=ok[0].id, clip_id=clip.id, track=track, start=start, duration=frames, added_track=added
    )
    edits.add(record)
    return record
