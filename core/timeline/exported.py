"""An exported .otio file as Resolve's file mode reads and writes it: the timeline in it (media left
unlinked: it is Resolve's to link), written back atomically.

The Resolve plugin reaches OpenTimelineIO only through core's timeline domain (pyproject.toml, the import
contracts), so the OTIO calls of file mode are here and filemode.py words the errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio.schema import Timeline as Timeline  # for file mode's annotations, without importing OTIO there

from .placeholders import is_filled

# Run in a child process (filemode.probe): OTIO's reader is C++ and a bad file can crash the process.
PROBE_SCRIPT = """import sys
import opentimelineio as otio
otio.adapters.read_from_file(sys.argv[1], adapter_name="otio_json",
                             media_linker_name=otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia)
"""


def fills_in(timeline: Any) -> int:
    """How many of the timeline's clips promptreel filled, extended or edited (what a revert takes out)."""
    return sum(1 for c in timeline.find_clips() if is_filled(c))


def read_otio(path: Path) -> Any:
    """The root object of the .otio file at `path` (OTIO's exceptions pass through: the caller words them)."""
    return otio.adapters.read_from_file(
        str(path), adapter_name="otio_json", media_linker_name=otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia
    )


def is_timeline(root: Any) -> bool:
    return isinstance(root, otio.schema.Timeline)


def schema_name(root: Any) -> str:
    return str(root.schema_name())


def write_otio(timeline: Any, out: Path) -> Path:
    """Write `out` atomically: a hidden temporary name in the same folder, then a rename."""
    tmp = out.with_name(f".{out.stem}.tmp.otio")
    try:
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name="otio_json")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
