"""What makes the media for a batch of slots: the `Filler` interface and its implementations.

A `Filler` takes every slot of a timeline at once (so the engine can run them as one batch:
concurrent, within limits, journaled, cached) and returns, per slot and in the same order,
either a `Filled` (conformed media of exactly `slot.frames` frames at `slot.rate` and
`slot.size`, plus provenance) or a `Failed`.

- `draft_filler` works today: a local ffmpeg render (testsrc2), slot-exact, free.
- `engine_filler` is where the job engine and conform plug in (see its docstring).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from ..core.errors import BadInput, UserError
from ..core.frames import rate_str
from ..core.request import Slot
from .timebase import timecode_to_frame


@dataclass(frozen=True)
class FillOptions:
    """The run's choices. Conform's names: fps_mode, fit, codec."""

    output_dir: Path
    model: str | None = None  # None: each placeholder's own model, else "draft"
    fps_mode: str = "drop"  # speed | drop | blend | interpolate
    fit: str = "fill"  # fit | fill | crop | stretch
    codec: str = "prores_hq"
    budget: float | None = None  # USD for the whole run
    start_timecode: str | None = None  # written into the media (Resolve-shaped output: 01:00:00:00)
    partial: bool = False  # write what was filled even if some slots failed
    frames_from_neighbours: bool = False  # neighbouring shots' frames as first/last-frame inputs
    progress: Callable[[int, Slot, str], None] | None = None  # (index, slot, state)


@dataclass(frozen=True)
class Filled:
    media: Path
    provenance: dict  # prompt, model, route, seed, job_id, cost, created, ai_generated
    start_frame: int = 0  # the media's first frame number (its start timecode) at slot.rate


@dataclass(frozen=True)
class Failed:
    reason: str


class Filler(Protocol):
    def __call__(self, slots: Sequence[Slot], options: FillOptions) -> list[Filled | Failed]: ...


# Codecs the draft render writes; conform owns the full list for real fills.
_DRAFT_CODECS = {
    "prores_hq": {"vcodec": "prores_ks", "profile:v": "3", "pix_fmt": "yuv422p10le"},
    "prores_4444": {"vcodec": "prores_ks", "profile:v": "4", "pix_fmt": "yuv444p10le"},
    "dnxhr_hqx": {"vcodec": "dnxhd", "profile:v": "dnxhr_hqx", "pix_fmt": "yuv422p10le"},
    "h264": {"vcodec": "libx264", "pix_fmt": "yuv420p", "preset": "ultrafast"},
    "h265": {"vcodec": "libx265", "pix_fmt": "yuv420p10le", "preset": "ultrafast"},
}


def _job_id(slot: Slot, options: FillOptions) -> str:
    blob = json.dumps({"slot": slot.model_dump(mode="json"), "codec": options.codec, "tc": options.start_timecode},
                      sort_keys=True)
    return "draft-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def render_draft(slot: Slot, options: FillOptions) -> Filled:
    """A slot-exact draft: testsrc2 at the slot's frames, rate and size, in the run's codec."""
    import ffmpeg

    from ..core.ffmpeg import ffmpeg_exe

    if options.codec not in _DRAFT_CODECS:
        raise BadInput(f"Unknown codec '{options.codec}'.", f"Choose one of: {', '.join(_DRAFT_CODECS)}.")
    job_id = _job_id(slot, options)
    out = Path(options.output_dir) / f"promptreel-{job_id}.mov"
    start = timecode_to_frame(options.start_timecode, slot.rate) if options.start_timecode else 0
    if not out.exists():  # named by job: an identical slot is served from the earlier render
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.mov")
        src = ffmpeg.input(f"testsrc2=size={slot.size.width}x{slot.size.height}:rate={rate_str(slot.rate)}",
                           f="lavfi")
        extra = {"timecode": options.start_timecode} if options.start_timecode else {}
        stream = ffmpeg.output(src, str(tmp), f="mov", vframes=slot.frames, r=rate_str(slot.rate),
                               **_DRAFT_CODECS[options.codec], **extra)
        try:
            ffmpeg.run(stream, cmd=ffmpeg_exe(), quiet=True, overwrite_output=True)
        except ffmpeg.Error as e:
            tmp.unlink(missing_ok=True)
            tail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
            raise UserError(f"ffmpeg could not render the draft for {slot.name or slot.prompt[:30]!r}: {tail}",
                            "Check free disk space and the output folder.") from None
        os.replace(tmp, out)
    provenance = {"prompt": slot.prompt, "model": "draft", "route": "draft:draft", "seed": slot.seed,
                  "job_id": job_id, "cost": 0.0, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  # A test-pattern slate is a stand-in, not generated content.
                  "ai_generated": False}
    return Filled(out, provenance, start)


def draft_filler(slots: Sequence[Slot], options: FillOptions) -> list[Filled | Failed]:
    results: list[Filled | Failed] = []
    for i, slot in enumerate(slots):
        if options.progress:
            options.progress(i, slot, "rendering")
        try:
            results.append(render_draft(slot, options))
        except UserError as e:
            results.append(Failed(str(e)))
        if options.progress:
            options.progress(i, slot, "done" if isinstance(results[-1], Filled) else "failed")
    return results


def engine_filler(slots: Sequence[Slot], options: FillOptions) -> list[Filled | Failed]:
    """Fill through the job engine and conform. THE PLUG-IN POINT for core.engine + core.conform.

    To finish when they land, per the engine's batch API:
      1. `plan_slot(slot, catalog.get(slot.model))` for every slot (already done by `fill.estimate`);
      2. submit all planned requests to the engine as one batch (it journals, limits, retries, caches);
      3. conform each raw clip to exactly its slot: slot.frames at slot.rate, slot.size by options.fit,
         options.codec and slot.bit_depth, options.fps_mode, start timecode options.start_timecode,
         into options.output_dir under a name derived from the job id;
      4. return Filled(conformed_path, provenance, start_frame) with provenance keys prompt, model,
         route, seed, job_id, cost, created, ai_generated=True; Failed(reason) for a job that failed.
    """
    try:
        from ..core import engine  # noqa: F401
    except ImportError:
        models = sorted({s.model or "draft" for s in slots} - {"draft"})
        raise UserError(
            f"Filling with {', '.join(models)} needs the job engine, which this installation does not have yet.",
            "Use --model draft for now.") from None
    raise NotImplementedError("wire core.engine and core.conform here")


def filler_for(model: str | None, slots: Sequence[Slot]) -> Filler:
    """The draft renderer when every slot uses the draft model, else the engine."""
    return draft_filler if all(s.model == "draft" for s in slots) else engine_filler
