"""The `promptreel` media linker's work: fill the clip OTIO hands it, if it is a placeholder.

OTIO calls a linker once per clip of what it read (`find_clips`) and sets the clip's media reference
to what the linker returns. So each placeholder clip is filled on its own (one batch of one: its takes,
an A/B's alternates on a takes track of its own) and its new media reference returned; any other clip
gets None, which leaves it as it is. A gap is not a clip, so OTIO never hands one to a linker:
`promptreel fill` (or core.timeline.fill) fills gaps. On a timeline's first clip its placeholders are
found, every placeholder clip planned and priced, and the read refused before anything is spent if one
cannot be made or they would cost more than the budget; later clips reuse what was found.

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
from ..core.settings import output_dir
from ..core.timeline.fill import FillReport, check_fill, fill_placeholders
from ..core.timeline.filler import FillOptions, engine_filler
from ..core.timeline.metadata import RESOLVE_NS
from ..core.timeline.placeholders import DEFAULT_BIT_DEPTH, DEFAULT_SIZE, Placeholder, Scan, find_placeholders

_KNOWN = {
    "output_dir",
    "model",
    "models",
    "size",
    "bit_depth",
    "fit",
    "fps_mode",
    "codec",
    "budget",
    "partial",
    "start_timecode",
    "resolve",
    "filler",
}

# The root last scanned and its placeholders by item. Holding the root keeps its id from being reused.
_scanned: list = [None, {}]
last_report: list[FillReport | None] = [None]


def _root(item) -> otio.core.Composable:
    node = item
    while node.parent() is not None:
        node = node.parent()
    return node


def _placeholder(clip: otio.schema.Clip, root, options: FillOptions, size: Size, bit_depth: int) -> Placeholder | None:
    if root is not _scanned[0]:
        found = find_placeholders(root)
        clips = Scan([ph for ph in found.placeholders if isinstance(ph.item, otio.schema.Clip)], found.skipped)
        check_fill(clips, options, size=size, bit_depth=bit_depth)  # the whole read refused before any spend
        _scanned[:] = [root, {id(ph.item): ph for ph in clips.placeholders}]
    ph = _scanned[1].get(id(clip))
    return ph if ph is not None and ph.item is clip else None


def link(in_clip: otio.schema.Clip, argument_map: dict | None) -> otio.core.MediaReference | None:
    """Fill `in_clip` if it is a placeholder and return its new media reference; None leaves it as it is."""
    args = dict(argument_map or {})
    unknown = set(args) - _KNOWN
    if unknown:
        raise BadInput(
            f"Unknown media_linker_argument_map key(s): {', '.join(sorted(unknown))}.",
            f"Known keys: {', '.join(sorted(_KNOWN))}.",
        )
    root = _root(in_clip)
    if not isinstance(root, otio.schema.Stack):
        return None  # a bare clip or track read on its own: no timeline to place it in
    size = Size.parse(args["size"]) if isinstance(args.get("size"), str) else (args.get("size") or DEFAULT_SIZE)
    bit_depth = int(args.get("bit_depth") or DEFAULT_BIT_DEPTH)
    resolve = args.get("resolve")
    if resolve is None:
        resolve = any(RESOLVE_NS in t.metadata for t in root)
    options = FillOptions(
        output_dir=Path(args.get("output_dir") or output_dir()),
        model=args.get("model"),
        models=_models(args.get("models")),
        fps_mode=args.get("fps_mode", "auto"),
        fit=args.get("fit", "fill"),
        codec=args.get("codec", "prores-hq"),
        budget=args.get("budget"),
        partial=bool(args.get("partial", False)),
        start_timecode=args.get("start_timecode"),
    )
    ph = _placeholder(in_clip, root, options, size, bit_depth)
    if ph is None:
        return None
    filler = args.get("filler") or engine_filler
    report = last_report[0] = fill_placeholders(
        root, Scan([ph], []), filler, options, size=size, bit_depth=bit_depth, resolve=resolve
    )
    return in_clip.media_reference if report.filled else None


def _models(value) -> tuple[str, ...]:
    """A list of models, or one comma-separated string of them."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(m).strip() for m in items if str(m).strip())
