"""Read a timeline file with a clear error for every way it can go wrong; write it back in
the same format, atomically.

Formats by suffix. Only .otio/.otioz/.otiod ship with OTIO; the others need the split-out
adapters (`pip install 'promptreel[otio-adapters]'`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from ..core.errors import BadInput
from ..core.files import replacing
from ..core.frames import rate_label
from ..core.nesting import MAX_JSON_DEPTH, json_depth
from ..core.timeline.metadata import is_resolve_shaped

ADAPTERS = {
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".xml": "fcp_xml",
    ".fcpxml": "fcpx_xml",
    ".edl": "cmx_3600",
    ".aaf": "AAF",
}
PACKAGES = {
    "fcp_xml": "otio-fcp-adapter",
    "fcpx_xml": "otio-fcpx-xml-adapter",
    "cmx_3600": "otio-cmx3600-adapter",
    "AAF": "otio-aaf-adapter",
}
OTIO_NATIVE = {"otio_json", "otioz", "otiod"}


@dataclass
class Document:
    """A timeline as read from a file: the root object the adapter returned and the timeline in it."""

    path: Path
    adapter: str
    root: otio.core.SerializableObject
    timeline: otio.schema.Timeline
    read_args: dict = field(default_factory=dict)

    @property
    def is_resolve(self) -> bool:
        return is_resolve_shaped(self.timeline)


def adapter_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in ADAPTERS:
        raise BadInput(
            f"{path.name}: unknown timeline format '{suffix or 'no suffix'}'.",
            f"Give one of: {', '.join(sorted(ADAPTERS))}.",
        )
    name = ADAPTERS[suffix]
    if name not in otio.adapters.available_adapter_names():
        raise BadInput(
            f"Reading {suffix} files needs the {PACKAGES[name]} package, which is not installed.",
            "Install it with: pip install 'promptreel[otio-adapters]'.",
        )
    return name


def read_timeline(path: Path, rate: Fraction | None = None, ignore_timecode_mismatch: bool = False) -> Document:
    """Read `path`. `rate` is the EDL's frame rate (EDLs do not say; default 24)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path} does not exist.", "Check the path.")
    adapter = adapter_for(path)
    data = check_nesting(path, adapter)
    args: dict = {}
    if adapter == "cmx_3600":
        args = {"rate": float(rate or 24), "ignore_timecode_mismatch": ignore_timecode_mismatch}
    no_linking = otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia
    try:
        if adapter == "otio_json":
            # The bytes the depth check read, not a second read of the file: OTIO parses a string
            # faster than a file, and both run the same adapter hooks.
            root = otio.adapters.read_from_string(
                data.decode("utf-8"), adapter_name=adapter, media_linker_name=no_linking
            )
        else:
            root = otio.adapters.read_from_file(str(path), adapter_name=adapter, media_linker_name=no_linking, **args)
    except Exception as e:  # adapters raise anything from ValueError to AttributeError on bad input
        raise _read_error(path, adapter, e, rate or Fraction(24)) from None
    return Document(path, adapter, root, _timeline_in(path, root), args)


def check_nesting(path: Path, adapter: str) -> bytes:
    """Refuse a JSON timeline nested deeper than any real one before OTIO's reader, which recurses in C++
    once per level, crashes the process on it (core/nesting.py). The other formats' readers are Python:
    too deep, they raise RecursionError, which _read_error words. Returns the JSON it checked (b"" if none)."""
    if adapter == "otio_json":
        data = path.read_bytes()
    elif adapter == "otioz":
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                data = z.read("content.otio")
        except (zipfile.BadZipFile, KeyError, OSError):
            return b""  # OTIO's reader refuses it, and _read_error says why
    else:
        return b""
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise _too_deep(path, f"{depth:,} levels")
    return data


def _too_deep(path: Path, depth: str) -> BadInput:
    return BadInput(
        f"{path.name} nests {depth} deep, past the {MAX_JSON_DEPTH} that any real timeline stays well "
        "within; reading it would crash OpenTimelineIO.",
        "Check that this is the timeline you exported, and export it again.",
    )


def _read_error(path: Path, adapter: str, e: Exception, rate: Fraction) -> BadInput:
    if isinstance(e, RecursionError):
        return _too_deep(path, "too many levels")
    text = f"{e.__class__.__name__}: {e}".strip()
    if adapter == "cmx_3600" and "don't match" in text:
        return BadInput(
            f"{path.name}: source and record durations disagree ({e}). This is usual for drop-frame EDLs "
            "written with ':' separators, or an EDL read at the wrong rate.",
            "Give the right --rate (e.g. 30000/1001), or pass --ignore-timecode-mismatch "
            "(OTIO's ignore_timecode_mismatch) to trust the record times.",
        )
    if adapter == "cmx_3600" and "Frame rate mismatch" in text:
        return BadInput(
            f"{path.name}: a timecode has more frames than {rate_label(rate)} fps allows ({e}).",
            "Give the EDL's rate with --rate (e.g. 25, 30, 30000/1001).",
        )
    if "unsupported schema version" in text.lower():
        return BadInput(
            f"{path.name} was written by a newer OpenTimelineIO than {otio.__version__} ({e}).",
            "Upgrade opentimelineio, or export the timeline for an older OTIO version.",
        )
    return BadInput(
        f"{path.name} is not a readable {adapter} timeline ({text[:300]}).",
        "Check that the file is complete and of the format its suffix says.",
    )


def _timeline_in(path: Path, root) -> otio.schema.Timeline:
    if isinstance(root, otio.schema.Timeline):
        return root
    if isinstance(root, otio.schema.SerializableCollection):
        timelines = [t for t in root.find_children(descended_from_type=otio.schema.Timeline, shallow_search=True)]
        if len(timelines) == 1:
            return timelines[0]
        raise BadInput(f"{path.name} holds {len(timelines)} timelines.", "Export the one timeline to fill on its own.")
    raise BadInput(f"{path.name} holds a {root.schema_name()}, not a timeline.", "Give a timeline file.")


def write_timeline(doc: Document, out: Path) -> tuple[Path, str | None]:
    """Write `doc.root` to `out` in the format its suffix names, atomically (temporary name, then rename).

    Where no adapter can write that format (or the adapter refuses this timeline), writes
    `out` with the suffix .otio instead (numbered when that file exists); the note returned says so and why.
    """
    out = Path(out)
    try:
        adapter = adapter_for(out)
    except BadInput as e:
        fallback = _unused(out.with_suffix(".otio"))
        return _write(doc.root, fallback, "otio_json", {}), f"{e.problem} Wrote {fallback.name} (OTIO) instead."
    args = {}
    if adapter == "cmx_3600":
        args = {"rate": doc.read_args.get("rate") or _timeline_rate(doc.timeline)}
    if adapter == "otioz":
        args = {"media_policy": "ErrorIfNotFile"}
    try:
        return _write(doc.root, out, adapter, args), None
    except BadInput:
        raise
    except Exception as e:
        if adapter in OTIO_NATIVE:
            raise
        fallback = _unused(out.with_suffix(".otio"))
        written = _write(doc.root, fallback, "otio_json", {})
        return written, (
            f"The {adapter} adapter cannot write this timeline ({e.__class__.__name__}: {e}); "
            f"wrote {fallback.name} (OTIO) instead."
        )


def _unused(path: Path) -> Path:
    """`path`, or `name 2.otio`, `name 3.otio`...: a fallback never replaces a file that is there (the input, say)."""
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem} {n}{path.suffix}")
    return candidate


def _timeline_rate(timeline: otio.schema.Timeline) -> float:
    return timeline.duration().rate


def _write(root, out: Path, adapter: str, args: dict) -> Path:
    if not out.parent.is_dir():
        raise BadInput(f"The folder {out.parent} does not exist.", "Create it or choose another output path.")
    with replacing(out, f".tmp{out.suffix}") as temp:
        tmp = str(temp)
        if adapter in ("otioz", "otiod"):
            os.unlink(tmp)  # these writers refuse to replace an existing path
        otio.adapters.write_to_file(root, tmp, adapter_name=adapter, **args)
        if adapter not in OTIO_NATIVE:
            # Some writers produce files their own reader rejects (fcpx_xml at 23.976): read it back.
            read_args = {"rate": args["rate"]} if "rate" in args else {}
            otio.adapters.read_from_file(tmp, adapter_name=adapter, media_linker_name=None, **read_args)
    return out
