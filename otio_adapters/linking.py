"""The `promptreel` media linker's work: fill a whole timeline the first time OTIO shows us one of its clips.

OTIO calls a linker once per clip, but the engine wants every placeholder of a timeline in one
batch, and gaps are not clips at all. So the first call for a timeline fills all of it (clips
and gaps) in place and every call returns None (OTIO then leaves the clip as we made it).

`media_linker_argument_map` keys (all optional):
  output_dir    folder for the conformed media (default: promptreel's media folder)
  model         model for every placeholder (default: each placeholder's own, else draft)
  models        an A/B: a list of models (or "a,b"), the first in place, the others as alternates on takes tracks
  size          "WIDTHxHEIGHT" (default 1920x1080: a linker cannot see the timeline's metadata)
  bit_depth     8, 10 or 12
  fit, fps_mode, codec, budget, partial, start_timecode   as for `promptreel fill`
  resolve       True to write Resolve-shaped references (detected from track metadata otherwise)
  filler        a callable Filler (default: draft render for the draft model, else the engine)
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from ..core.catalog import Size
from ..core.errors import BadInput
from ..core.timeline.fill import FillReport, fill_tracks
from ..core.timeline.filler import FillOptions, engine_filler
from ..core.timeline.placeholders import DEFAULT_BIT_DEPTH, DEFAULT_SIZE

_KNOWN = {"output_dir", "model", "models", "size", "bit_depth", "fit", "fps_mode", "codec", "budget", "partial",
          "start_timecode", "resolve", "filler"}

# The root we last filled. Holding it keeps its id from being reused by another object.
_last_root: list = [None]
last_report: list[FillReport | None] = [None]


def _root(item) -> otio.core.Composable:
    node = item
    while node.parent() is not None:
        node = node.parent()
    return node


def link(in_clip: otio.schema.Clip, argument_map: dict | None) -> None:
    root = _root(in_clip)
    if root is _last_root[0]:
        return None
    _last_root[0] = root
    args = dict(argument_map or {})
    unknown = set(args) - _KNOWN
    if unknown:
        raise BadInput(f"Unknown media_linker_argument_map key(s): {', '.join(sorted(unknown))}.",
                       f"Known keys: {', '.join(sorted(_KNOWN))}.")
    if not isinstance(root, otio.schema.Stack):
        return None  # a bare clip or track read on its own: no timeline to fill
    size = Size.parse(args["size"]) if isinstance(args.get("size"), str) else (args.get("size") or DEFAULT_SIZE)
    bit_depth = int(args.get("bit_depth") or DEFAULT_BIT_DEPTH)
    resolve = args.get("resolve")
    if resolve is None:
        resolve = any("Resolve_OTIO" in t.metadata for t in root)
    options = FillOptions(
        output_dir=Path(args.get("output_dir") or _default_output_dir()), model=args.get("model"),
        models=_models(args.get("models")),
        fps_mode=args.get("fps_mode", "auto"), fit=args.get("fit", "fill"), codec=args.get("codec", "prores-hq"),
        budget=args.get("budget"), partial=bool(args.get("partial", False)),
        start_timecode=args.get("start_timecode"))
    filler = args.get("filler") or engine_filler
    last_report[0] = fill_tracks(root, filler, options, size=size, bit_depth=bit_depth, resolve=resolve)
    return None


def _models(value) -> tuple[str, ...]:
    """A list of models, or one comma-separated string of them."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(m).strip() for m in items if str(m).strip())


def _default_output_dir() -> Path:
    from ..core.settings import output_dir

    return output_dir()
