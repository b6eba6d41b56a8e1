"""Extend a clip: new frames that continue it at its tail, or lead into it at its head.

Tail: the model is given the clip's last shown frame as its first frame; the take's own first frame (that
same picture) is skipped by conform's in-point, so the N placed frames follow the clip's last one
without a repeat. Head: the clip's first shown frame is the model's last frame, and the take's last frame
is left out (`Slot.drop_last`), so the N placed frames end just before the clip's first. The extension
goes into the gap after (before) the clip (or after the end of its track), else onto the track above when
a clip is there, else onto a new track right above it: nothing else is moved or trimmed. It is written as
a fill, so `promptreel revert` takes it out again and gives the track back exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..catalog import Catalog, Model, Size, default_catalog
from ..errors import BadInput, BudgetExceeded, UnsupportedRequest, UserError
from ..extend import SKIPPED, Edge, check_extension, check_room_before, extension_model
from ..made import MadeClip
from ..plan import PlannedRequest, plan_slot
from ..request import Slot
from ..takes import record_cut_take
from .filler import RESOLVE_START_TIMECODE, Filler, FillIncomplete, FillOptions, checked
from .metadata import NS, RESOLVE_NS, namespace, plain
from .neighbours import extract_frame, media_file, media_frame_seconds
from .placeholders import Placeholder, has_time_effect, prompt_of, track_rate
from .take_tracks import is_takes_track
from .timebase import (
    NotFrameAligned,
    exact_rate,
    frames_at,
    record_timecode,
    time_range,
    timecode_to_frame,
)
from .writeback import apply_fill

EXTENSION_TRACK = "promptreel extensions"

# Where an extension fits on a track: ("split", index, frames before, frames after) inside a gap, or
# ("append", filler frames) past its end.
Spot = tuple[Any, ...]
# (track number, label, track, rate, offset, first frame in track time, frames, clip)
PlacedClip = tuple[int, str, otio.schema.Track, Fraction, int, int, int, otio.schema.Clip]


@dataclass
class Picked:
    """The clip to extend and where it sits."""

    clip: otio.schema.Clip
    track: otio.schema.Track
    label: str  # "V1", "V2 Titles"
    rate: Fraction
    start: int  # first frame in track time
    offset: int  # the timeline's global start, in frames

    @property
    def end(self) -> int:
        return self.start + frames_at(self.clip.duration(), self.rate)

    @property
    def where(self) -> str:
        return f"Clip {self.clip.name!r} at {self.label} {record_timecode(self.start + self.offset, self.rate)}"


@dataclass
class Extension:
    """What `extend_clip` did: the clip it extended, the new clip, where it went, what it cost."""

    picked: Picked
    clip: otio.schema.Clip
    track_label: str
    record_frame: int
    frames: int
    result: MadeClip
    new_track: bool
    warnings: list[str]


def _video_tracks(tracks: otio.schema.Stack) -> Iterator[tuple[int, str, otio.schema.Track]]:
    n = 0
    for track in tracks:
        if getattr(track, "kind", otio.schema.TrackKind.Video) != otio.schema.TrackKind.Video:
            continue
        n += 1
        if not is_takes_track(track):
            yield n, f"V{n}" + (f" {track.name}" if track.name else ""), track


@dataclass
class ClipRow:
    """A clip that could be extended or edited, as a list shows it: `track` and `at` pick it (`pick_clip`)."""

    track: int  # video track, 1-based
    label: str  # "V1", "V2 Titles"
    name: str
    at: str  # record timecode of its first frame
    frames: int


def _placed_clips(
    tracks: otio.schema.Stack, global_start: otio.opentime.RationalTime | None = None, only: int | None = None
) -> Iterator[PlacedClip]:
    """(track number, label, track, rate, offset, first frame in track time, frames, clip) of every clip on the
    video tracks (take tracks left out; only video track `only`, when given)."""
    base = exact_rate(global_start.rate) if global_start is not None else None
    for n, label, t in _video_tracks(tracks):
        if only not in (None, n):
            continue
        rate = track_rate(t, base)
        offset = frames_at(global_start, rate) if global_start is not None else 0
        pos = 0
        for item in t:
            if isinstance(item, otio.schema.Transition):
                continue
            try:
                d = frames_at(item.duration(), rate)
            except NotFrameAligned:
                d = round(item.duration().rescaled_to(float(rate)).value)
            if isinstance(item, otio.schema.Clip):
                yield n, label, t, rate, offset, pos, d, item
            pos += d


def clip_rows(tracks: otio.schema.Stack, global_start: otio.opentime.RationalTime | None = None) -> list[ClipRow]:
    """Every clip on the video tracks (take tracks left out), track by track in record order."""
    return [
        ClipRow(n, label, clip.name, record_timecode(pos + offset, rate), d)
        for n, label, _, rate, offset, pos, d, clip in _placed_clips(tracks, global_start)
    ]


def pick_clip(
    tracks: otio.schema.Stack,
    global_start: otio.opentime.RationalTime | None = None,
    *,
    name: str | None = None,
    at: str | None = None,
    track: int | None = None,
) -> Picked:
    """The clip named `name` and/or under record timecode `at` (on video track `track`, 1-based; V1 for `at`)."""
    if not name and not at:
        raise BadInput("No clip was chosen.", "Give --clip NAME or --at TIMECODE (with --track N).")
    found = []
    for _, label, t, rate, offset, pos, d, clip in _placed_clips(tracks, global_start, track or (1 if at else None)):
        if name and clip.name != name:
            continue
        want = timecode_to_frame(at, rate) - offset if at else None
        if want is None or pos <= want < pos + d:
            found.append(Picked(clip, t, label, rate, pos, offset))
    what = " ".join(
        filter(
            None,
            [f"named {name!r}" if name else "", f"at {at}" if at else "", f"on V{track or 1}" if at or track else ""],
        )
    )
    if not found:
        raise BadInput(
            f"No clip {what} in this timeline.",
            "Give the clip's name as the timeline shows it, or --at its record timecode with --track N.",
        )
    if len(found) > 1:
        raise BadInput(
            f"{len(found)} clips are {what}: " + ", ".join(p.where for p in found[:5]) + ".",
            "Choose one with --at TIMECODE and --track N.",
        )
    return found[0]


def check_source(p: Picked) -> Path:
    """The clip's media file; refused (before any spend) when it has none to continue from."""
    ref = p.clip.media_reference
    if isinstance(ref, otio.schema.GeneratorReference):
        raise UnsupportedRequest(
            f"{p.where} is a generator clip ({ref.generator_kind}): it has no frames to continue.",
            "Extend a clip that plays media; fill a generator with `promptreel fill` instead.",
        )
    media = media_file(p.clip)
    if media is None:
        url = getattr(ref, "target_url", None)
        raise BadInput(
            f"{p.where}: its media is offline{f' ({url})' if url else ''}.",
            "Relink the clip to its media file, export the timeline again, and extend that.",
        )
    if has_time_effect(p.clip):
        raise UnsupportedRequest(
            f"{p.where} has a speed or freeze effect.",
            "Remove the effect to extend the clip, or extend the clip it was made from.",
        )
    return media


def plan_extension(
    p: Picked,
    frames: int,
    model: Model,
    size: Size,
    bit_depth: int,
    prompt: str | None,
    still: Path,
    edge: Edge = "tail",
) -> PlannedRequest:
    """The request for `frames` new frames after `p` from its last frame `still` (tail), or before it ending
    on its first frame `still` (head); refused if the model cannot."""
    check_extension(frames, model, size, p.rate, edge)
    if edge == "head":
        text = prompt or str(namespace(p.clip).get("prompt") or "") or f"The moments before the shot {p.clip.name}."
        # The take's last frame is the clip's own first: planned for and left out at conform (drop_last).
        slot = Slot(
            frames=frames,
            rate=p.rate,
            size=size,
            bit_depth=bit_depth,
            prompt=text,
            name=f"{p.clip.name} -{frames}",
            model=model.id,
            last_frame=still,
            drop_last=SKIPPED,
        )
        planned = plan_slot(slot, model)
        return PlannedRequest(planned.request, slot, planned.warnings)
    text = prompt or str(namespace(p.clip).get("prompt") or "") or f"The shot {p.clip.name} continues."
    slot = Slot(
        frames=frames,
        rate=p.rate,
        size=size,
        bit_depth=bit_depth,
        prompt=text,
        name=f"{p.clip.name} +{frames}",
        model=model.id,
        first_frame=still,
    )
    # One frame more than placed: the take's first frame is the clip's own last, skipped at conform.
    planned = plan_slot(slot.model_copy(update={"frames": frames + SKIPPED}), model)
    return PlannedRequest(planned.request, slot, planned.warnings, in_point=SKIPPED)


# ---- placement -------------------------------------------------------------------------------------------


def _free_spot(track: otio.schema.Track, start: int, frames: int, rate: Fraction) -> Spot | None:
    """Where `frames` frames from track time `start` fit on `track` without touching anything:
    ("split", index, before, after) inside a gap, ("append", filler) past its end, or None."""
    items = list(track)
    pos = 0
    for i, item in enumerate(items):
        if isinstance(item, otio.schema.Transition):
            continue
        try:
            d = frames_at(item.duration(), rate)
        except NotFrameAligned:
            return None
        if pos + d > start:
            beside = [items[j] for j in (i - 1, i + 1) if 0 <= j < len(items)]
            # A gap that carries a prompt is a placeholder, not room: it is left whole for its fill.
            if (
                isinstance(item, otio.schema.Gap)
                and pos <= start
                and start + frames <= pos + d
                and not any(isinstance(b, otio.schema.Transition) for b in beside)
                and not _is_placeholder(item)
            ):
                return ("split", i, start - pos, pos + d - start - frames)
            return None
        pos += d
    return ("append", start - pos)


def _is_placeholder(gap: otio.schema.Gap) -> bool:
    try:
        return prompt_of(gap)[0] is not None
    except UserError:  # malformed promptreel metadata: someone meant it as a placeholder
        return True


def _gap(frames: int, rate: Fraction, name: str = "") -> otio.schema.Gap:
    return otio.schema.Gap(name=name, source_range=time_range(0, frames, rate))


def _make_room(
    track: otio.schema.Track, spot: Spot, frames: int, rate: Fraction, name: str
) -> tuple[int, dict[str, Any]]:
    """Put an empty gap of `frames` at `spot` on `track`; returns its index and what revert needs."""
    if spot[0] == "split":
        _, i, before, after = spot
        original = track[i]
        record = {
            "mode": "split",
            "gap": otio.adapters.write_to_string(original, "otio_json"),
            "before": before > 0,
            "after": after > 0,
        }
        del track[i]
        parts = (
            ([_gap(before, rate)] if before else [])
            + [_gap(frames, rate, name)]
            + ([_gap(after, rate)] if after else [])
        )
        for k, part in enumerate(parts):
            track.insert(i + k, part)
        return i + (1 if before else 0), record
    filler = spot[1]
    if filler:
        track.append(_gap(filler, rate))
    track.append(_gap(frames, rate, name))
    return len(track) - 1, {"mode": "append", "filler": filler > 0}


def _track_above(tracks: otio.schema.Stack, track: otio.schema.Track) -> otio.schema.Track | None:
    i = tracks.index(track) + 1
    while i < len(tracks):
        t = tracks[i]
        if getattr(t, "kind", otio.schema.TrackKind.Video) == otio.schema.TrackKind.Video:
            return None if is_takes_track(t) else t
        i += 1
    return None


def _label(tracks: otio.schema.Stack, track: otio.schema.Track) -> str:
    n = 0
    for t in tracks:
        if getattr(t, "kind", otio.schema.TrackKind.Video) == otio.schema.TrackKind.Video:
            n += 1
            if t is track:
                return f"V{n}" + (f" {t.name}" if t.name else "")
    return "V?"


def place_extension(
    tracks: otio.schema.Stack, p: Picked, result: MadeClip, prompt: str, provenance: dict[str, Any], resolve: bool
) -> tuple[otio.schema.Clip, otio.schema.Track, bool]:
    """Put the extension right after (head: right before) `p`: its own track's gap, else the track above,
    else a new track above."""
    frames = provenance["extension_frames"]
    head = provenance.get("extension_edge") == "head"
    start = p.start - frames if head else p.end
    name = result.media.name if resolve else f"{p.clip.name} {'-' if head else '+'}{frames}"
    new_track = False
    target, spot = p.track, _free_spot(p.track, start, frames, p.rate)
    if spot is None:
        above = _track_above(tracks, p.track)
        spot = _free_spot(above, start, frames, p.rate) if above is not None else None
        target = above
    if spot is None:
        target = otio.schema.Track(name=EXTENSION_TRACK, kind=otio.schema.TrackKind.Video)
        if resolve:
            target.metadata[RESOLVE_NS] = {"Locked": False}
        tracks.insert(tracks.index(p.track) + 1, target)
        spot, new_track = ("append", start), True
    index, record = _make_room(target, spot, frames, p.rate, name)
    record["new_track"] = new_track
    gap = target[index]
    ph = Placeholder(gap, "gap", _label(tracks, target), p.rate, start + p.offset, frames, prompt, index=index)
    clip = apply_fill(ph, result.media, result.start_frame, provenance, resolve)
    ns = plain(namespace(clip))
    ns["placeholder"] = {"kind": "extension", **record}
    clip.metadata[NS] = ns
    return clip, target, new_track


# ---- the whole edit --------------------------------------------------------------------------------------


def extend_clip(
    timeline: otio.schema.Timeline,
    p: Picked,
    frames: int,
    filler: Filler,
    options: FillOptions,
    *,
    size: Size,
    bit_depth: int,
    prompt: str | None = None,
    resolve: bool = False,
    catalog: Catalog | None = None,
    edge: Edge = "tail",
) -> Extension:
    """Extend `p` by `frames` at its tail (or head) through `filler`, and place it. Everything is refused
    before any spend; nothing in the timeline changes unless the extension came back frame-exact."""
    catalog = catalog or default_catalog()
    media = check_source(p)
    model = extension_model(options.model or namespace(p.clip).get("model"), catalog, p.clip.name, edge)
    check_extension(frames, model, size, p.rate, edge)  # before the still is made: a refusal writes nothing
    if edge == "head":
        check_room_before(p.where, frames, p.start)
    still_dir = Path(options.output_dir) / "stills"
    clip_rate = exact_rate(p.clip.trimmed_range().start_time.rate)
    still = extract_frame(media, media_frame_seconds(p.clip, last=edge == "tail"), clip_rate, still_dir)
    planned = plan_extension(p, frames, model, size, bit_depth, prompt, still, edge)
    cost = float(planned.generated_seconds) * model.price_per_second(planned.request.size)
    if options.budget is not None and cost > options.budget:
        raise BudgetExceeded(
            f"The extension would cost an estimated ${cost:.2f}, over the budget of ${options.budget:.2f}.",
            "Raise --budget, choose a cheaper --model, or extend less.",
        )
    if resolve and options.start_timecode is None:
        options = replace(options, start_timecode=RESOLVE_START_TIMECODE)
    slot = planned.slot
    assert slot is not None  # plan_extension plans a slot
    (result,) = filler([slot], replace(options, model=model.id, plans=(planned,)))
    result = checked(result, slot)
    if not result.ok:
        raise FillIncomplete(
            f"The extension of {p.clip.name!r} was not made: {result.error}",
            "Nothing was written. Fix the cause and run again (a finished job is reused).",
        )
    made = result.placed_at(extends=p.clip.name, extension_edge=edge, extension_frames=frames)
    # A take of the clip (`promptreel takes`), recorded once it is made and paid for, placed or not.
    take = record_cut_take(p.clip.name, made, "extend")
    provenance = {**made.provenance.as_dict(), "take_id": take.id}
    clip, target, new_track = place_extension(timeline.tracks, p, result, slot.prompt, provenance, resolve)
    start = p.start - frames if edge == "head" else p.end
    return Extension(
        p, clip, _label(timeline.tracks, target), start + p.offset, frames, result, new_track, list(planned.warnings)
    )
