"""A fast stand-in for the engine in OTIO tests about write-back, not generation: renders a
slot-exact testsrc2 clip in one ffmpeg pass. The real path (engine + draft model + conform)
is tested end to end in test_otio_fill.py and test_otio_cli.py."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from promptreel.core.errors import BadInput, UserError
from promptreel.core.frames import rate_str
from promptreel.core.made import MadeClip, Provenance
from promptreel.core.request import Slot
from promptreel.core.timeline.filler import FillOptions
from promptreel.core.timeline.timebase import timecode_to_frame

# Codecs the draft render writes; conform owns the full list for real fills.
_CODECS = {
    "prores-hq": {"vcodec": "prores_ks", "profile:v": "3", "pix_fmt": "yuv422p10le"},
    "prores-4444": {"vcodec": "prores_ks", "profile:v": "4", "pix_fmt": "yuv444p10le"},
    "dnxhr-hqx": {"vcodec": "dnxhd", "profile:v": "dnxhr-hqx", "pix_fmt": "yuv422p10le"},
    "h264": {"vcodec": "libx264", "pix_fmt": "yuv420p", "preset": "ultrafast"},
    "h265-10": {"vcodec": "libx265", "pix_fmt": "yuv420p10le", "preset": "ultrafast"},
}


def _job_id(slot: Slot, options: FillOptions) -> str:
    blob = json.dumps(
        {"slot": slot.model_dump(mode="json"), "codec": options.codec, "tc": options.start_timecode}, sort_keys=True
    )
    return "draft-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def render_pattern(slot: Slot, options: FillOptions) -> MadeClip:
    """A slot-exact draft: testsrc2 at the slot's frames, rate and size, in the run's codec."""
    import ffmpeg

    from promptreel.core.ffmpeg import ffmpeg_exe

    if options.codec not in _CODECS:
        raise BadInput(f"Unknown codec '{options.codec}'.", f"Choose one of: {', '.join(_CODECS)}.")
    job_id = _job_id(slot, options)
    out = Path(options.output_dir) / f"promptreel-{job_id}.mov"
    start = timecode_to_frame(options.start_timecode, slot.rate) if options.start_timecode else 0
    if not out.exists():  # named by job: an identical slot is served from the earlier render
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.mov")
        src = ffmpeg.input(f"testsrc2=size={slot.size.width}x{slot.size.height}:rate={rate_str(slot.rate)}", f="lavfi")
        extra = {"timecode": options.start_timecode} if options.start_timecode else {}
        stream = ffmpeg.output(
            src, str(tmp), f="mov", vframes=slot.frames, r=rate_str(slot.rate), **_CODECS[options.codec], **extra
        )
        try:
            ffmpeg.run(stream, cmd=ffmpeg_exe(), quiet=True, overwrite_output=True)
        except ffmpeg.Error as e:
            tmp.unlink(missing_ok=True)
            tail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
            raise UserError(
                f"ffmpeg could not render the draft for {slot.name or slot.prompt[:30]!r}: {tail}",
                "Check free disk space and the output folder.",
            ) from None
        os.replace(tmp, out)
    provenance = Provenance(
        prompt=slot.prompt,
        model="draft",
        route="draft:draft",
        seed=slot.seed,
        job_id=job_id,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ai_generated=False,
    )  # a test-pattern slate is a stand-in, not generated content
    return MadeClip(slot, out, provenance, start_frame=start)


def pattern_filler(slots: Sequence[Slot], options: FillOptions) -> list[MadeClip]:
    results: list[MadeClip] = []
    for i, slot in enumerate(slots):
        if options.progress:
            options.progress(i, slot, "rendering")
        try:
            results.append(render_pattern(slot, options))
        except UserError as e:
            results.append(MadeClip.failed(slot, str(e)))
        if options.progress:
            options.progress(i, slot, "done" if results[-1].ok else "failed")
    return results
