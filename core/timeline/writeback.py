"""Put a fill into the timeline, and take it out again.

A filled clip's active media reference is an `ExternalReference` to the conformed media
(with `available_range`); the placeholder's reference stays on the clip under
`promptreel_placeholder` (OTIO's multiple media references). A gap becomes a clip of the
same duration. `metadata["promptreel"]` holds the provenance and, under `placeholder`,
what revert needs to restore the item exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..errors import BadInput
from ..keys import redact
from .metadata import NS, namespace, plain
from .placeholders import Placeholder
from .timebase import frames_at, time_range

PLACEHOLDER_KEY = "promptreel_placeholder"


def _range_record(r: otio.opentime.TimeRange | None) -> dict[str, float] | None:
    # OTIO's own numbers, unconverted, so revert restores them bit for bit.
    if r is None:
        return None
    return {
        "start": r.start_time.value,
        "start_rate": r.start_time.rate,
        "duration": r.duration.value,
        "duration_rate": r.duration.rate,
    }


def _range_from(d: dict[str, float] | None) -> otio.opentime.TimeRange | None:
    if d is None:
        return None
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(d["start"], d["start_rate"]),
        otio.opentime.RationalTime(d["duration"], d["duration_rate"]),
    )


def media_url(path: Path, resolve: bool) -> str:
    """Resolve writes (and reads) bare OS paths; everyone else gets a file:// URL."""
    path = Path(path).resolve()
    return str(path) if resolve else path.as_uri()


def apply_fill(
    ph: Placeholder, media: Path, start_frame: int, provenance: dict[str, Any], resolve: bool
) -> otio.schema.Clip:
    """Make `ph.item` play `media` (ph.media_frames frames starting at `start_frame`). Returns the clip."""
    rate = ph.rate
    media = Path(media)
    ref = otio.schema.ExternalReference(
        target_url=media_url(media, resolve), available_range=time_range(start_frame, ph.media_frames, rate)
    )
    ref.name = media.name
    visible = time_range(start_frame + ph.head, ph.frames, rate)
    item = ph.item
    # Markers sit in the item's own time: move them with the new source start so they keep their
    # place in the cut. The first fill records the originals; revert puts them back exactly.
    old_start = item.trimmed_range().start_time
    markers = [_range_record(m.marked_range) for m in item.markers]
    for m in item.markers:
        m.marked_range = otio.opentime.TimeRange(
            visible.start_time + (m.marked_range.start_time - old_start), m.marked_range.duration
        )
    if isinstance(item, otio.schema.Gap):
        clip = _clip_for_gap(item, ref, visible, media)
        record = {
            "kind": "gap",
            "key": otio.schema.Clip.DEFAULT_MEDIA_KEY,
            "name": item.name,
            "source_range": _range_record(item.source_range),
            "markers": markers,
            "previous": plain(namespace(item)) or None,
        }
        _replace(item, clip, ph.index)
    else:
        clip = item
        refs = clip.media_references()
        key = clip.active_media_reference_key
        ns = namespace(clip)
        if "placeholder" in ns:  # refilling a draft: the original placeholder is already kept
            record = plain(ns["placeholder"])
        else:
            record = {
                "kind": "clip",
                "key": key,
                "name": clip.name,
                "source_range": _range_record(clip.source_range),
                "markers": markers,
                "previous": plain(ns) or None,
            }
            refs[PLACEHOLDER_KEY] = refs[key]
        refs[key] = ref
        clip.set_media_references(refs, key)
        clip.source_range = visible
        if resolve:
            clip.name = media.name  # Resolve conforms by file name
    # Whatever a provider or engine put in the provenance, no API key goes into a timeline.
    clip.metadata[NS] = {**plain(dict(provenance), redact), "placeholder": record}
    _check_landed(ph, clip)
    return clip


def apply_promote(
    ph: Placeholder, media: Path, start_frame: int, provenance: dict[str, Any], resolve: bool
) -> otio.schema.Clip:
    """Replace the take a filled clip plays with a promoted one; revert goes back to that take."""
    clip = ph.item
    ref = clip.media_reference
    playing = {
        "target_url": ref.target_url,
        "ref_name": ref.name,
        "available_range": _range_record(ref.available_range),
        "source_range": _range_record(clip.source_range),
        "name": clip.name,
        "markers": [_range_record(m.marked_range) for m in clip.markers],
        "ns": plain(namespace(clip)),
    }
    return apply_fill(ph, media, start_frame, {**provenance, "previous_take": playing}, resolve)


def _revert_promotion(clip: otio.schema.Clip, previous: dict[str, Any]) -> otio.schema.Clip:
    ref = otio.schema.ExternalReference(
        target_url=previous["target_url"], available_range=_range_from(previous["available_range"])
    )
    ref.name = previous["ref_name"]
    refs = clip.media_references()
    key = clip.active_media_reference_key
    refs[key] = ref
    clip.set_media_references(refs, key)
    clip.source_range = _range_from(previous["source_range"])
    clip.name = previous["name"]
    markers = previous.get("markers") or []
    if len(markers) == len(clip.markers):  # markers added since the promotion stay where they are
        for m, r in zip(clip.markers, markers):
            m.marked_range = _range_from(r)
    clip.metadata[NS] = plain(previous["ns"])
    return clip


def _clip_for_gap(
    gap: otio.schema.Gap, ref: otio.schema.ExternalReference, visible: otio.opentime.TimeRange, media: Path
) -> otio.schema.Clip:
    twin = gap.deepcopy()  # carries markers, effects and metadata over unchanged
    clip = otio.schema.Clip(
        name=gap.name or media.name,
        source_range=visible,
        markers=[m for m in twin.markers],
        effects=[e for e in twin.effects],
        metadata=plain(twin.metadata),
    )
    clip.set_media_references(
        {
            otio.schema.Clip.DEFAULT_MEDIA_KEY: ref,
            # available_range on every reference, as Resolve writes them
            PLACEHOLDER_KEY: otio.schema.MissingReference(
                available_range=gap.trimmed_range(), metadata={NS: {"was": "gap"}}
            ),
        },
        otio.schema.Clip.DEFAULT_MEDIA_KEY,
    )
    clip.enabled = gap.enabled
    clip.color = gap.color
    return clip


def _check_landed(ph: Placeholder, clip: otio.schema.Clip) -> None:
    # Read back: the clip lasts exactly the placeholder's frames, and its media covers the handles.
    got = frames_at(clip.duration(), ph.rate)
    available = clip.media_reference.available_range
    if got != ph.frames or frames_at(available.duration, ph.rate) != ph.media_frames:
        raise AssertionError(f"fill of {ph.name!r} landed as {got} frames, not {ph.frames}")


def _replace(old: otio.core.Item, new: otio.core.Item, index: int = -1) -> None:
    """Put `new` where `old` is in its parent (at `index` if that is where it is: no linear search)."""
    parent = old.parent()
    if not (0 <= index < len(parent) and parent[index] is old):
        index = parent.index(old)
    parent[index] = new


def revert_item(clip: otio.schema.Clip, index: int = -1) -> otio.core.Item | None:
    """Restore the placeholder a fill replaced, or the take a promotion replaced, or take an extension out.
    Returns the restored item (a new Gap for a filled gap; None for an extension placed past a track's end)."""
    ns = namespace(clip)
    record = ns.get("placeholder")
    if record is None:
        raise BadInput(f"Clip {clip.name!r} was not filled by promptreel.", "Nothing to revert.")
    if record.get("kind") == "extension":  # an extension leaves: its track gets back what it had
        return revert_extension(clip, plain(record))
    if record.get("kind") == "edit":  # an edit's take leaves its takes track
        return revert_edit(clip)
    if ns.get("previous_take"):  # a promoted take goes back to the take it replaced
        return _revert_promotion(clip, plain(ns["previous_take"]))
    previous = plain(record.get("previous"))
    source_range = _range_from(record.get("source_range"))
    originals = record.get("markers") or []
    if len(originals) == len(clip.markers):  # markers added since the fill stay where they are
        for m, r in zip(clip.markers, originals):
            m.marked_range = _range_from(r)
    if record["kind"] == "gap":
        twin = clip.deepcopy()
        gap = otio.schema.Gap(
            name=record["name"],
            source_range=source_range,
            markers=[m for m in twin.markers],
            effects=[e for e in twin.effects],
        )
        meta = plain(twin.metadata)
        _restore_ns(meta, previous)
        gap.metadata.update(meta)
        gap.enabled = clip.enabled
        gap.color = clip.color
        _replace(clip, gap, index)
        return gap
    refs = clip.media_references()
    if PLACEHOLDER_KEY not in refs:
        raise BadInput(
            f"Clip {clip.name!r} has lost its placeholder reference.",
            "Revert needs the .otio written by the fill; formats that keep one reference cannot be reverted.",
        )
    key = record["key"]
    refs[key] = refs.pop(PLACEHOLDER_KEY)
    clip.set_media_references(refs, key)
    clip.source_range = source_range
    clip.name = record["name"]
    _restore_ns(clip.metadata, previous)
    return clip


def _restore_ns(meta: Any, previous: dict[str, Any] | None) -> None:
    if previous:
        meta[NS] = previous
    elif NS in meta:
        del meta[NS]


def revert_extension(clip: otio.schema.Clip, record: dict[str, Any]) -> otio.core.Item | None:
    """Take an extension out: the track gets back exactly what it had (the gap it went into, or its old end)."""
    track = clip.parent()
    i = track.index(clip)
    if record["mode"] == "split":
        lo, hi = i - (1 if record["before"] else 0), i + (1 if record["after"] else 0)
        if lo < 0 or hi >= len(track) or any(not isinstance(track[k], otio.schema.Gap) for k in (lo, hi) if k != i):
            raise BadInput(
                f"The extension {clip.name!r} no longer sits in the gap it was put in.",
                "Revert the timeline the extend wrote, before other edits beside the extension.",
            )
        original = otio.adapters.read_from_string(record["gap"], "otio_json")
        for _ in range(hi - lo + 1):
            del track[lo]
        track.insert(lo, original)
        return original
    del track[i]
    if record["filler"] and i > 0 and isinstance(track[i - 1], otio.schema.Gap):
        del track[i - 1]
    if record.get("new_track") and not any(isinstance(item, otio.schema.Clip) for item in track):
        stack = track.parent()
        del stack[stack.index(track)]
    return None


def revert_edit(clip: otio.schema.Clip) -> otio.core.Item:
    """Take an edit's take off its takes track (a gap of its length stays, unless the track is left empty)."""
    track = clip.parent()
    gap = otio.schema.Gap(source_range=clip.trimmed_range())
    track[track.index(clip)] = gap
    if not any(isinstance(item, otio.schema.Clip) for item in track):
        stack = track.parent()
        del stack[stack.index(track)]
    return gap
