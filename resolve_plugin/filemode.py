"""File mode (the free edition from 21.1, which runs no Python scripts; or whenever no bridge answers):
timelines leave Resolve and come back as OTIO.

1. In Resolve: File > Export > Timeline..., format OpenTimelineIO (.otio), into the export folder.
2. The panel offers the new file at once; Fill writes `<name> promptreel.otio` beside it (OTIO's
   fill with Resolve-shaped output: plain OS paths, clips named after their media, media that
   starts at 01:00:00:00), and the conformed clips into `promptreel media/` in that folder.
3. In Resolve: File > Import > Timeline..., that file. It comes in as a new timeline; the exported
   original is never touched, so importing the original again is the revert.

The timeline is scanned and filled by core's timeline domain (core/timeline/), the same code the OTIO
adapters run, called directly: this layer imports only core.

The folder is polled with `os.scandir` (name, size, mtime of each .otio) each time the panel asks,
rather than watched with OS events (watchfiles): no extra dependency, and it works on network
shares and synced folders, where OS file events often never arrive. A file that does not parse
yet is still being written: it is read again when its size or mtime changes.

One bad file must not take the panel down: OTIO's reader is C++ and crashes the process on some files
(a timeline nested 60,000 levels deep). So every read checks the JSON nesting depth before OTIO sees
the file, and a file that lands in the watched folder is read first in a child process: if OTIO
crashes on it, only the child dies and the file is listed with the problem.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from promptreel.core import settings
from promptreel.core.catalog import Catalog
from promptreel.core.errors import BadInput, UnsupportedRequest, UserError
from promptreel.core.nesting import MAX_JSON_DEPTH, json_depth
from promptreel.core.timeline.exported import (
    PROBE_SCRIPT,
    Timeline,
    fills_in,
    is_timeline,
    read_otio,
    schema_name,
    write_otio,
)
from promptreel.core.timeline.fill import Estimate, fill_tracks, scan_timeline
from promptreel.core.timeline.filler import FillOptions, engine_filler
from promptreel.core.timeline.metadata import NS, is_resolve_shaped

from . import multishot
from .costs import CostEstimate, CostLine
from .panel_settings import PanelSettings

log = logging.getLogger(__name__)

MEDIA_FOLDER = "promptreel media"
PROBE_SECONDS = 60.0
_OURS = re.compile(r"^(?P<base>.*?) promptreel(?: (?P<n>\d+))?$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def import_steps(folder: Path) -> list[str]:
    return [
        f"In Resolve: File > Export > Timeline..., choose OpenTimelineIO (.otio) and save it in {folder}.",
        "The export appears here at once: check its placeholders and cost, then press Fill.",
        "In Resolve: File > Import > Timeline..., choose the file promptreel names "
        "(it comes in as a new timeline; your original is untouched).",
    ]


def output_for(export: Path) -> Path:
    """`<name> promptreel.otio` beside the export, or `<name> promptreel 2.otio` ... if that is taken:
    nothing already there is ever replaced. Re-exports of a filled timeline keep one suffix."""
    stem = export.stem
    m = _OURS.match(stem)
    base = m.group("base") if m else stem
    n = 1
    while True:
        out = export.with_name(f"{base} promptreel{'' if n == 1 else f' {n}'}.otio")
        if not out.exists() and out != export:
            return out
        n += 1


class Export(BaseModel):
    """A timeline file in the export folder, as the panel lists it."""

    name: str
    modified: str
    new: bool  # appeared or changed since the panel started watching
    ready: bool = False  # reads as a whole timeline (False while Resolve is still writing it)
    problem: str | None = None
    timeline: str = ""
    placeholders: int = 0
    resolve_shaped: bool = False
    filled_as: str | None = None  # our output beside it, newer than it
    fills: int = 0  # clips promptreel filled, extended or edited (a filled timeline exported again): Revert offers


class _Seen(BaseModel):
    signature: tuple[int, int]
    ready: bool
    ours: bool = False
    source: str = ""  # for our own outputs: the export they were filled from
    problem: str | None = None
    timeline: str = ""
    placeholders: int = 0
    resolve_shaped: bool = False
    fills: int = 0


class ExportWatcher:
    """Lists the folder's .otio files, newest first, marking those new since watching began."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._baseline = self._signatures()
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def _signatures(self) -> dict[str, tuple[int, int]]:
        out = {}
        try:
            with os.scandir(self.folder) as it:
                for entry in it:
                    if entry.name.startswith(".") or not entry.name.lower().endswith(".otio"):
                        continue  # hidden and temporary files (ours are written as .name.tmp.otio)
                    try:
                        if entry.is_file():
                            st = entry.stat()
                            out[entry.name] = (st.st_mtime_ns, st.st_size)
                    except OSError:
                        continue  # removed while listing
        except FileNotFoundError:
            return {}
        return out

    def poll(self) -> list[Export]:
        with self._lock:
            signatures = self._signatures()
            for gone in set(self._seen) - set(signatures):
                del self._seen[gone]
            listed = []
            for name, sig in sorted(signatures.items(), key=lambda kv: -kv[1][0]):
                seen = self._seen.get(name)
                if seen is None or seen.signature != sig:  # read once per version of the file
                    seen = self._seen[name] = _look(self.folder / name, sig)
                if seen.ours:
                    continue
                listed.append((name, sig, seen))
            return [self._row(name, sig, seen, signatures) for name, sig, seen in listed]

    def _row(self, name: str, sig: tuple[int, int], seen: _Seen, signatures: dict) -> Export:
        outputs = [
            n for n, s in signatures.items() if n in self._seen and self._seen[n].source == name and s[0] >= sig[0]
        ]
        return Export(
            name=name,
            modified=datetime.fromtimestamp(sig[0] / 1e9, timezone.utc).isoformat(timespec="seconds"),
            new=self._baseline.get(name) != sig,
            ready=seen.ready,
            problem=seen.problem,
            timeline=seen.timeline,
            placeholders=seen.placeholders,
            resolve_shaped=seen.resolve_shaped,
            fills=seen.fills,
            filled_as=max(outputs, key=lambda n: signatures[n][0]) if outputs else None,
        )

    def offer(self, exports: list[Export]) -> Export | None:
        """The timeline to offer now: the newest new export that is ready, has placeholders and is not filled."""
        return next((e for e in exports if e.new and e.ready and e.placeholders and not e.filled_as), None)

    def path(self, name: str) -> Path:
        """The export called `name` in the folder; refuses anything else (no paths, only names listed)."""
        if Path(name).name != name or not name.lower().endswith(".otio") or name.startswith("."):
            raise BadInput(f"'{name}' is not a timeline in the export folder.", "Pick one from the list.")
        path = self.folder / name
        if not path.is_file():
            raise BadInput(f"{name} is no longer in {self.folder}.", "Export the timeline from Resolve again.")
        return path


def check_nesting(path: Path) -> None:
    """Refuse a file nested deeper than any timeline before OTIO's reader sees it (it would crash)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(
            f"{path.name} cannot be read ({e.strerror}).", "Export the timeline from Resolve again."
        ) from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadInput(
            f"{path.name} nests more than {MAX_JSON_DEPTH} levels deep: no timeline does, and OTIO's reader "
            "cannot read it safely.",
            "Export the timeline from Resolve again, or remove that file.",
        )


def probe(path: Path) -> str | None:
    """Read `path` with OTIO in a child process: None if that did not crash (it may still have failed: the
    real read says why), else the problem. OTIO's reader is C++; a crash takes down only the child."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE_SCRIPT, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=PROBE_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return f"{path.name} took longer than {PROBE_SECONDS:g} s to read; it was set aside."
    if done.returncode in (0, 1):  # read, or an exception (a half-written file, a bad schema)
        return None
    return (
        f"{path.name} crashes OTIO's reader (exit status {done.returncode}); it was set aside. "
        "Export the timeline from Resolve again, or remove that file."
    )


def read_export(path: Path) -> Timeline:
    """The timeline in an exported .otio file (media left unlinked: it is Resolve's to link)."""
    check_nesting(path)
    try:
        root = read_otio(path)
    except Exception as e:  # a half-written file fails in the JSON parser or in OTIO's schema reader
        raise BadInput(
            f"{path.name} is not a readable OTIO timeline ({e.__class__.__name__}: {str(e)[:200]}).",
            "Wait for Resolve to finish the export, or export the timeline again.",
        ) from None
    if not is_timeline(root):
        raise BadInput(
            f"{path.name} holds a {schema_name(root)}, not a timeline.",
            "In Resolve, export one timeline with File > Export > Timeline.",
        )
    return root


def write_export(timeline: Timeline, out: Path) -> Path:
    """Write `out` atomically, through a hidden temporary name (the watcher skips it)."""
    return write_otio(timeline, out)


def scan(
    timeline: Timeline, s: PanelSettings | None = None, catalog: Catalog | None = None, multi_shot: bool = False
) -> list[Estimate]:
    """The timeline's placeholders, each priced on its model (the panel's, else its own); nothing is changed.
    With `multi_shot`, runs back to back on one track are priced as one take (resolve_plugin/multishot.py)."""
    if s is None:
        return scan_timeline(timeline, catalog=catalog)[0]
    return multishot.refuse_in_estimates(
        scan_timeline(
            timeline, model=s.model, size=s.size, bit_depth=s.bit_depth or 10, catalog=catalog, multi_shot=multi_shot
        )[0],
        catalog,
    )


def _look(path: Path, sig: tuple[int, int]) -> _Seen:
    """A file that landed in the folder, read so that nothing in it can take the panel down."""
    try:
        check_nesting(path)
        crash = probe(path)
        if crash:
            return _Seen(signature=sig, ready=False, problem=crash)
        tl = read_export(path)
    except BadInput as e:
        # Mid-write, or not a timeline: looked at again when it changes (or on the next poll).
        return _Seen(signature=sig, ready=False, problem=str(e))
    try:
        ns = tl.metadata.get(NS)
        mark = ns.get("file_mode") if ns is not None and hasattr(ns, "get") else None
        found = scan(tl)
    except UserError as e:  # e.g. stacks nested past what any timeline has: said as the scan says it
        return _Seen(signature=sig, ready=False, problem=str(e))
    except Exception as e:  # a bug in the scan: this file only, not the list
        log.warning("scanning %s failed: %s", path, e.__class__.__name__)
        return _Seen(
            signature=sig,
            ready=False,
            problem=f"{path.name} cannot be scanned for placeholders ({e.__class__.__name__}).",
        )
    return _Seen(
        signature=sig,
        ready=True,
        ours=mark is not None,
        source=str(mark.get("from", "")) if mark else "",
        timeline=tl.name or path.stem,
        placeholders=len(found),
        resolve_shaped=is_resolve_shaped(tl),
        fills=fills_in(tl),
    )


# -- estimate and fill ------------------------------------------------------------------------------


def conform_fit(s: PanelSettings) -> str:
    return "fit" if s.fit == "project" else s.fit  # Resolve's default: scale entire image to fit


@dataclass
class Prepared:
    """An export read, scanned and priced: everything checked before anything is generated."""

    export: Path
    timeline: Timeline
    slots: int
    cost: CostEstimate
    multi_shot: bool = False


def prepare(
    export: Path, s: PanelSettings, catalog: Catalog | None = None, check: bool = True, multi_shot: bool = False
) -> Prepared:
    """Read and price an export. With `check`, refuse it here (no placeholders, a slot its model cannot
    make, over the budget), before any money is spent."""
    tl = read_export(export)
    lines = [
        CostLine(
            label=f"{e.placeholder.track} {e.placeholder.timecode} '{e.slot.prompt[:40]}'",
            frames=e.slot.frames,
            model=e.slot.model or s.model,
            cost_usd=round(e.cost, 4),
            error=e.error,
        )
        for e in scan(tl, s, catalog, multi_shot)
    ]
    cost = CostEstimate(lines=lines, total_usd=round(sum(x.cost_usd for x in lines), 4), budget_usd=s.budget_usd)
    if check:
        if not lines:
            raise BadInput(
                f"{export.name} has no placeholders.",
                "In Resolve, mark clips with a marker whose note starts 'gen:' (or name them "
                "'GEN: ...'), then export the timeline again.",
            )
        refused = [x for x in lines if x.error]
        if refused:
            raise UnsupportedRequest(
                f"{len(refused)} placeholder(s) cannot be made on {s.model}: {refused[0].label}: {refused[0].error}",
                "Choose another model in the panel's settings, or change those placeholders.",
            )
        cost.refuse_if_over("This fill")
    return Prepared(export, tl, len(lines), cost, multi_shot)


def estimate_export(
    path: Path, s: PanelSettings, catalog: Catalog | None = None, multi_shot: bool = False
) -> CostEstimate:
    return prepare(path, s, catalog, check=False, multi_shot=multi_shot).cost


class FileRun(BaseModel):
    """One file-mode fill, as the job list shows it. Kept in `<home>/file-runs/`."""

    id: str = Field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S-") + secrets.token_hex(3)
    )
    created: str = Field(default_factory=_now)
    export: str
    action: Literal["fill", "extend", "edit", "revert"] = "fill"
    clip: str = ""  # an extend's or edit's clip, as the job list names it
    output: str = ""
    state: Literal["running", "done", "failed"] = "running"
    slots: int = 0
    finished: int = 0
    filled: int = 0
    failed: list[str] = []
    cost_usd: float = 0.0
    error: str | None = None
    next_step: str = ""

    @property
    def progress(self) -> float | None:
        return self.finished / self.slots if self.slots else None


def runs_dir() -> Path:
    return settings.home() / "file-runs"


_save_lock = threading.Lock()  # a filler may report progress from several threads


def save_run(run: FileRun) -> None:
    folder = runs_dir()
    with _save_lock:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{run.id}.json"
        tmp = path.with_suffix(".json.part")
        tmp.write_text(run.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)


def all_runs() -> list[FileRun]:
    folder = runs_dir()
    if not folder.is_dir():
        return []
    return sorted(
        (FileRun.model_validate_json(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")),
        key=lambda r: r.created,
    )


def fill_export(
    export: Path,
    s: PanelSettings,
    filler=None,
    run: FileRun | None = None,
    catalog: Catalog | None = None,
    prepared: Prepared | None = None,
    on_event=None,
) -> FileRun:
    """Fill an exported timeline and write `<name> promptreel.otio` beside it (atomically). Returns the
    finished run. A run that fails writes no timeline and records why (the error is re-raised).
    `on_event` receives the engine's job events (the panel's live job list)."""
    run = run or FileRun(export=export.name)
    try:
        prepared = prepared or prepare(export, s, catalog)
        _fill(prepared, s, filler, run, catalog, on_event)
    except UserError as e:
        run.state, run.error = "failed", str(e)
        save_run(run)
        raise
    except Exception as e:
        log.exception("file-mode fill of %s failed", export)
        run.state, run.error = "failed", f"Internal error ({e.__class__.__name__}); see the panel's log."
        save_run(run)
        raise
    save_run(run)
    return run


def _fill(prepared: Prepared, s: PanelSettings, filler, run: FileRun, catalog: Catalog | None, on_event) -> None:
    export, tl = prepared.export, prepared.timeline
    run.slots = prepared.slots
    save_run(run)

    # Resolve-shaped whatever the file looks like: it came from Resolve's export and goes back in.
    options = replace(run_options(export, s, run, on_event), multi_shot=prepared.multi_shot)
    report = fill_tracks(
        tl.tracks,
        filler or engine_filler,
        options,
        size=s.size,
        bit_depth=s.bit_depth or 10,
        global_start=tl.global_start_time,
        resolve=True,
        catalog=catalog,
    )
    write_beside(tl, export, run)
    run.filled = len(report.filled)
    run.failed = [f"{ph.track} {ph.timecode}: {why}" for ph, why in report.failed]
    run.cost_usd = round(report.cost, 4)


def run_options(export: Path, s: PanelSettings, run: FileRun, on_event, model: str | None = None) -> FillOptions:
    """How a file-mode run makes its media: into `promptreel media/` beside the export, counted on `run`."""

    def progress(i, slot, state, total=None):
        if state in ("done", "failed"):
            run.finished += 1
            save_run(run)

    return FillOptions(
        output_dir=export.parent / MEDIA_FOLDER,
        model=model or s.model,
        fit=conform_fit(s),
        codec=s.codec,
        budget=s.budget_usd,
        progress=progress,
        on_event=on_event,
        project=s.project,
    )


def write_beside(tl: Timeline, export: Path, run: FileRun) -> Path:
    """Write the changed timeline as `<name> promptreel.otio` beside `export`, and say on `run` how to import it."""
    out = output_for(export)
    tl.name = out.stem  # imports as a new timeline beside the original, never over it
    tl.metadata[NS] = {"file_mode": {"from": export.name, "run": run.id}}
    written = write_export(tl, out)
    run.output, run.state = written.name, "done"
    run.next_step = (
        f"In Resolve: File > Import > Timeline..., choose {written}. Its clips are in {export.parent / MEDIA_FOLDER}."
    )
    return written
