"""Takes in a timeline: an A/B's alternates beside the take in place, and promoting a take in place.

Alternates go on video tracks of their own, named "promptreel takes", put *under* the cut's tracks
(a Stack's first track is the bottom one) and disabled: each alternate sits at its shot's record time,
with the same length and handles as the take in place, named `shot — model`. Stock OTIO only (a Clip
on a Track): Resolve refuses a whole import for one unknown schema, and a Stack of takes would come
in as a compound clip / nested sequence that the editor must open to trim the shot. Under the cut,
the take in place plays even where an importer ignores `enabled` (otio-fcp-adapter 1.0 writes no
enabled flags for Premiere); to audition one, enable the track and disable the one above, or drag it
up. The filled clip's `promptreel` metadata lists every take of its group as well (`takes`), but
Resolve drops custom metadata on import, so the clips on the track are the form that survives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..errors import BadInput
from ..keys import redact
from ..takes import Take
from .metadata import NS, RESOLVE_NS, namespace, plain
from .placeholders import Placeholder, is_filled, track_rate
from .timebase import exact_rate, frames_at, time_range
from .writeback import media_url

TRACK_NAME = "promptreel takes"


@dataclass(frozen=True)
class Alternate:
    """A take that is not in place: where its shot is, and its media."""

    ph: Placeholder
    media: Path
    start_frame: int
    label: str  # "shot — model"
    provenance: dict[str, Any]  # with take_id, and alternate_of (the group of the take in place)


def take_entries(group: str, takes: Iterable[Take]) -> list[dict[str, Any]]:
    """What the filled clip's metadata says about each take of its group (core.takes.Take)."""
    return [
        {
            "take_id": t.id,
            "model": t.model,
            "seed": t.seed,
            "job_id": t.job_id,
            "media": t.path.resolve().as_uri() if t.path else None,
            "error": t.error,
        }
        for t in takes
    ]


def add_take_tracks(
    tracks: otio.schema.Stack,
    alternates: list[Alternate],
    global_start: otio.opentime.RationalTime | None,
    resolve: bool,
) -> int:
    """Put `alternates` on new takes tracks under the cut, as few as do not overlap. Returns how many tracks."""
    lanes: list[list[tuple[int, int, otio.schema.Clip]]] = []
    for alt in sorted(alternates, key=lambda a: a.ph.record_frame):
        start = alt.ph.record_frame - _start_frames(global_start, alt.ph.rate)
        end = start + alt.ph.frames
        clip = _alternate_clip(alt, resolve)
        for lane in lanes:
            if lane[-1][1] <= start:  # sorted by start: only the last one can overlap
                lane.append((start, end, clip))
                break
        else:
            lanes.append([(start, end, clip)])
    for _n, lane in enumerate(reversed(lanes)):
        track = otio.schema.Track(name=TRACK_NAME, kind=otio.schema.TrackKind.Video)
        track.enabled = False
        track.metadata[NS] = {"takes_track": True}
        if resolve:
            track.metadata[RESOLVE_NS] = {"Locked": False}
        pos = 0
        for start, end, clip in lane:
            if start > pos:
                rate = exact_rate(clip.source_range.duration.rate)
                track.append(otio.schema.Gap(source_range=time_range(0, start - pos, rate)))
            track.append(clip)
            pos = end
        tracks.insert(0, track)
    return len(lanes)


def _start_frames(global_start: otio.opentime.RationalTime | None, rate: Fraction) -> int:
    return frames_at(global_start, rate) if global_start is not None else 0


def _alternate_clip(alt: Alternate, resolve: bool) -> otio.schema.Clip:
    ph = alt.ph
    ref = otio.schema.ExternalReference(
        target_url=media_url(alt.media, resolve), available_range=time_range(alt.start_frame, ph.media_frames, ph.rate)
    )
    ref.name = alt.media.name
    # Resolve conforms by file name; elsewhere the name says which shot and model.
    clip = otio.schema.Clip(
        name=alt.media.name if resolve else alt.label,
        media_reference=ref,
        source_range=time_range(alt.start_frame + ph.head, ph.frames, ph.rate),
    )
    clip.metadata[NS] = plain(dict(alt.provenance), redact)
    return clip


def is_takes_track(track: otio.schema.Track) -> bool:
    return bool(namespace(track).get("takes_track"))


def _groups(ns: dict[str, Any] | None) -> set[str]:
    """The take groups a filled clip has played: its own, then each promotion's previous take's."""
    out = set()
    while ns:
        if ns.get("take_group"):
            out.add(str(ns["take_group"]))
        previous = ns.get("previous_take")
        ns = plain(previous.get("ns")) if previous else None
    return out


def drop_orphan_alternates(tracks: otio.schema.Stack) -> int:
    """Remove alternates whose take is no longer in the cut (reverted, or filled over), and takes
    tracks left empty. Returns how many alternates went."""
    live = set()
    for clip in tracks.find_clips():
        if is_filled(clip):
            live |= _groups(namespace(clip))
    dropped = 0
    for track in [t for t in tracks if is_takes_track(t)]:
        for i, item in enumerate(list(track)):
            ns = namespace(item) if isinstance(item, otio.schema.Clip) else None
            # An edit's take (`promptreel edit`) is no alternate of a fill: it stays until reverted itself.
            if ns is not None and not ns.get("edit_of") and ns.get("alternate_of") not in live:
                track[i] = otio.schema.Gap(source_range=item.trimmed_range())
                dropped += 1
        if not any(isinstance(item, otio.schema.Clip) for item in track):
            del tracks[tracks.index(track)]
    return dropped


def find_take(
    tracks: otio.schema.Stack, group: str | tuple[str, ...], global_start: otio.opentime.RationalTime | None = None
) -> Placeholder:
    """The filled clip that plays (or played, before a promotion) a take of `group` (or of any of these
    groups: a refine chain's), as a Placeholder."""
    groups = (group,) if isinstance(group, str) else group
    base_rate = exact_rate(global_start.rate) if global_start is not None else None
    video = 0
    for track in tracks:
        if track.kind != otio.schema.TrackKind.Video:
            continue
        video += 1
        if is_takes_track(track):
            continue
        for clip in track.find_clips():
            ns = namespace(clip)
            if "placeholder" in ns and any(g in _groups(ns) for g in groups):
                return _placeholder(clip, track, video, track_rate(track, base_rate), global_start)
    raise BadInput(
        "No clip in this timeline plays that take.",
        "Give the timeline that `promptreel fill` wrote with it (or a later one), or promote "
        "without --timeline to render the final on its own.",
    )


def _placeholder(
    clip: otio.schema.Clip,
    track: otio.schema.Track,
    video: int,
    rate: Fraction,
    global_start: otio.opentime.RationalTime | None,
) -> Placeholder:
    parent = clip.parent()
    index = parent.index(clip)
    start, node = clip.range_in_parent().start_time, parent
    while node is not track:  # a clip inside a nested stack: into each parent's time in turn
        start = node.range_in_parent().start_time + (start - node.trimmed_range().start_time)
        node = node.parent()
    prev = parent[index - 1] if index > 0 else None
    nxt = parent[index + 1] if index + 1 < len(parent) else None
    head = frames_at(prev.in_offset, rate) if isinstance(prev, otio.schema.Transition) else 0
    tail = frames_at(nxt.out_offset, rate) if isinstance(nxt, otio.schema.Transition) else 0
    ns = namespace(clip)
    label = f"V{video}" + (f" {track.name}" if track.name else "")
    hints = {k: ns.get(k) for k in ("negative_prompt",) if ns.get(k) is not None}
    return Placeholder(
        clip,
        "filled",
        label,
        rate,
        frames_at(start, rate) + _start_frames(global_start, rate),
        frames_at(clip.duration(), rate),
        str(ns.get("prompt") or clip.name),
        head,
        tail,
        hints,
        index,
    )
