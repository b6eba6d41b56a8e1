"""Helpers for the OTIO tests: sample paths, a structural diff of whole timelines, media checks."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from promptreel.core.conform.probe import probe

SAMPLES = Path(__file__).parent / "samples"


def as_json(obj) -> dict:
    return json.loads(otio.adapters.write_to_string(obj, "otio_json"))


def diff(a, b, path: str = "") -> list[str]:
    """Every path where two JSON-like trees differ (values, keys, list lengths, types)."""
    if type(a) is not type(b):
        return [path]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}")
            else:
                out += diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [path]
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def item_path(item) -> str:
    """The JSON path of an item inside its timeline's tracks: /tracks/children[i]/children[j]..."""
    parts = []
    node = item
    while node.parent() is not None:
        parts.append(f"/children[{node.parent().index(node)}]")
        node = node.parent()
    return "/tracks" + "".join(reversed(parts))


def changed_outside(before, after, allowed: list[str]) -> list[str]:
    """Differences between two timelines that are not inside one of the `allowed` item paths."""
    before, after = (x if isinstance(x, dict) else as_json(x) for x in (before, after))
    return [p for p in diff(before, after) if not any(p == a or p.startswith(a + "/") for a in allowed)]


def media_path(clip: otio.schema.Clip) -> Path:
    url = clip.media_reference.target_url
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(url).path))
    return Path(url)


def assert_frame_exact(clip: otio.schema.Clip, frames: int, rate: Fraction, media_frames: int | None = None) -> None:
    """The clip lasts `frames` at `rate`, and its media really has the frames its reference says."""
    assert clip.duration().value == frames and Fraction(clip.duration().rate) == Fraction(float(rate))
    info = probe(media_path(clip))
    assert info.frames == (media_frames or frames)
    available = clip.media_reference.available_range
    if available is not None:  # an EDL cannot carry it
        assert available.duration.value == info.frames
    assert info.rate == rate


def write_cut(path: Path, items, rate: int = 24, size: str = "320x180") -> Path:
    """One video track of `items`, starting at 01:00:00:00, with promptreel's frame size, written to `path`."""
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.extend(items)
    timeline = otio.schema.Timeline(name="cut", global_start_time=otio.opentime.RationalTime(3600 * rate, rate))
    timeline.tracks.append(track)
    timeline.metadata["promptreel"] = {"size": size}
    otio.adapters.write_to_file(timeline, str(path))
    return path
