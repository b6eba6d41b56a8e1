"""A placeholder's slot by name, for `promptreel models --for TIMELINE:NAME`.

core finds this through the `promptreel.slots` entry point, so it never imports the OTIO side itself.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import BadInput
from ..core.request import Slot


def split_target(text: str) -> tuple[Path, str]:
    """`cut.otio:Kite` -> (cut.otio, "Kite"): the path is the longest part before a colon that is a file
    (a Windows drive letter or a colon in the name does not split it wrongly)."""
    cuts = [i for i, ch in enumerate(text) if ch == ":"]
    for i in reversed(cuts):
        if Path(text[:i]).is_file():
            return Path(text[:i]), text[i + 1 :]
    if not cuts:
        raise BadInput(f"'{text}' names no placeholder.", "Write it as TIMELINE:NAME, e.g. cut.otio:Kite.")
    raise BadInput(f"{text[: cuts[0]]} does not exist.", "Check the path in TIMELINE:NAME.")


def slot_named(text: str) -> Slot:
    """The slot of the placeholder `NAME` in `TIMELINE` (`TIMELINE:NAME`), at the timeline's size and depth."""
    from ..core.timeline.placeholders import find_placeholders, frame_size
    from .timeline_io import read_timeline

    path, name = split_target(text)
    timeline = read_timeline(path).timeline
    size, bit_depth = frame_size(timeline)
    found = find_placeholders(timeline.tracks, timeline.global_start_time).placeholders
    named = [ph for ph in found if ph.name == name]
    if not named:
        names = ", ".join(sorted({repr(ph.name) for ph in found if ph.name})) or "none has a name"
        raise BadInput(f"{path.name} has no placeholder named {name!r}.", f"Its placeholders: {names}.")
    if len(named) > 1:
        where = ", ".join(f"{ph.track} {ph.timecode}" for ph in named)
        raise BadInput(
            f"{len(named)} placeholders in {path.name} are named {name!r} ({where}).",
            "Rename one so the name picks a single placeholder.",
        )
    return named[0].slot(size, bit_depth)
