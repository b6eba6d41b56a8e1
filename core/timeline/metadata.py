"""promptreel's metadata namespace in a timeline, and Resolve's mark on its exports.

promptreel writes under one key, `promptreel`, on clips, tracks and the timeline (OTIO metadata);
in Resolve's own clip metadata the same name prefixes its third-party keys (`promptreel.model`).
Resolve marks the timelines and tracks it exports with `Resolve_OTIO`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

NS = "promptreel"  # our metadata namespace, on clips, tracks and the timeline
RESOLVE_KEY_PREFIX = NS + "."  # Resolve's third-party clip metadata keys: promptreel.model, ...
RESOLVE_NS = "Resolve_OTIO"  # what Resolve's exports carry


def meta_get(meta: Any, key: str) -> Any:
    """`meta.get(key)` for OTIO metadata, fast when the key is missing.

    OTIO turns a missing key, and the end of an iteration, into a C++ exception that costs
    about 15 us; reading exactly len() keys raises nothing. On 10,000 clips that is the
    difference between a scan faster than the read and one twice as slow.
    """
    n = len(meta)
    if n:
        it = iter(meta)
        for _ in range(n):
            if next(it) == key:
                return meta[key]
    return None


def namespace(obj: Any) -> dict[str, Any]:
    """The object's `promptreel` namespace as a plain dict (empty if none)."""
    value = meta_get(obj.metadata, NS) if obj is not None else None
    if value is None or not hasattr(value, "keys"):
        return {}
    it = iter(value)
    keys = [next(it) for _ in range(len(value))]
    return {k: value[k] for k in keys}


def plain(value: Any, clean: Callable[[str], str] = lambda s: s) -> Any:
    """OTIO metadata (or provenance) -> plain Python (dicts, lists, scalars), deep-copied;
    `clean` is applied to every string."""
    if hasattr(value, "items"):
        return {str(k): plain(v, clean) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [plain(v, clean) for v in value]
    if isinstance(value, (str, Path)):
        return clean(str(value))
    return copy.copy(value)


def is_resolve_shaped(timeline: Any) -> bool:
    """Resolve marks its exports with `Resolve_OTIO` metadata on the timeline and on each track."""
    return RESOLVE_NS in timeline.metadata or any(RESOLVE_NS in t.metadata for t in timeline.tracks)
