"""Run a conform plan: one ffmpeg pass to a temporary name, progress as events, verified, renamed into place.

A result that fails verification (frame count, rate, size, pixel format, timecode) is deleted
and reported; it is never handed on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..conform_choices import DEFAULT_CODEC
from ..errors import BadInput, UnsupportedRequest, UserError
from ..ffmpeg import die_with_parent
from ..folders import is_writable
from ..frames import rate_label
from ..procs import pid_alive
from ..request import Slot
from .plan import AUDIO_CODEC, Choices, ConformPlan, plan_conform
from .probe import MediaInfo, probe
from .target import Target

# ffmpeg's words for a full disk (ENOSPC) and a file-size limit (EFBIG).
_DISK_FULL = ("No space left on device", "File too large")


class DiskFull(UserError):
    """The output folder has no room for the conformed clip."""


class ConformFailed(Exception):
    """ffmpeg failed, or its result did not verify. Not the user's doing: the output was deleted."""


@dataclass(frozen=True)
class ConformEvent:
    kind: Literal["planned", "progress", "verified", "done"]
    output: Path
    frame: int = 0
    frames: int = 0
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.frame / self.frames if self.frames else 0.0

    def as_dict(self) -> dict[str, str | int]:
        return {
            "kind": self.kind,
            "output": str(self.output),
            "frame": self.frame,
            "frames": self.frames,
            "message": self.message,
        }


EventSink = Callable[[ConformEvent], None]


def conform(
    source: Path,
    output: Path,
    target: Target,
    choices: Choices | None = None,
    *,
    on_event: EventSink | None = None,
    overwrite: bool = False,
) -> MediaInfo:
    """Probe `source`, plan, execute: `output` is exactly `target` or an error is raised."""
    return execute(plan_conform(probe(Path(source)), target, choices), output, on_event=on_event, overwrite=overwrite)


def conform_slot(
    source: Path,
    slot: Slot,
    output: Path,
    choices: Choices | None = None,
    *,
    codec: str = DEFAULT_CODEC,
    on_event: EventSink | None = None,
    overwrite: bool = False,
    **target_fields: Any,
) -> MediaInfo:
    """What the engine calls for a job planned from a slot: `output` gets exactly the slot's frames."""
    return conform(
        source, output, Target.from_slot(slot, codec, **target_fields), choices, on_event=on_event, overwrite=overwrite
    )


def check_output(plan: ConformPlan, output: Path, overwrite: bool = False) -> None:
    """Refuse, before any work, an output that cannot be written: wrong container, no folder, no room."""
    family = plan.target.family
    ext = output.suffix.lower().lstrip(".")
    if ext not in family.containers:
        raise UnsupportedRequest(
            f"{family.label} cannot be written to a .{ext or '(no extension)'} file.",
            f"Name the output .{' or .'.join(family.containers)}.",
        )
    folder = output.parent
    if not folder.is_dir():
        raise BadInput(f"The output folder {folder} does not exist or is not a folder.", "Create it or choose another.")
    if not is_writable(folder):
        raise BadInput(f"The output folder {folder} is not writable.", "Choose a folder you can write to.")
    if output.exists() and not overwrite:
        raise BadInput(f"{output} already exists.", "Choose another name, or pass --overwrite to replace it.")
    need = plan.target.estimated_bytes()
    free = shutil.disk_usage(folder).free
    if free < need:
        raise DiskFull(
            f"The conformed clip needs about {need // 1_000_000} MB; {folder} has {free // 1_000_000} MB free.",
            "Free some space or write to another disk.",
        )


def execute(
    plan: ConformPlan, output: Path, *, on_event: EventSink | None = None, overwrite: bool = False
) -> MediaInfo:
    """Write `plan` to `output`, verified. Events go to `on_event`; to cancel, raise from it:
    ffmpeg is stopped, nothing is kept, and the exception comes back to the caller."""
    output = Path(output)
    check_output(plan, output, overwrite)
    emit = on_event or (lambda event: None)
    n = plan.target.frames
    emit(ConformEvent("planned", output, 0, n, "\n".join(plan.describe())))
    clean_stale_partials(output.parent)
    temp = output.with_name(f".{output.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{output.suffix}")
    try:
        _run(plan, temp, output, emit)
        info = probe(temp, check_duplicate=False)
        problems = verify(plan, info)
        if problems:
            raise ConformFailed(f"The conformed clip for {output.name} failed verification: {'; '.join(problems)}.")
        emit(
            ConformEvent(
                "verified",
                output,
                n,
                n,
                f"{n} frames at {rate_label(info.rate)} fps, "
                f"{info.width}x{info.height} {info.pix_fmt}, {info.timecode}",
            )
        )
        os.replace(temp, output)
    finally:
        temp.unlink(missing_ok=True)
    emit(ConformEvent("done", output, n, n))
    return dataclasses.replace(info, path=output)


_PARTIAL = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.partial\.[A-Za-z0-9]+$")


def clean_stale_partials(folder: Path) -> list[Path]:
    """Delete the half-written clips that a killed conform left in `folder` (their writer's pid, in the
    name, is gone); a live process's are left alone. Returns what was deleted."""
    gone: list[Path] = []
    try:
        found = [(p, _PARTIAL.match(p.name)) for p in Path(folder).iterdir()]
    except OSError:
        return gone
    for path, mark in found:
        if mark is None or pid_alive(int(mark.group(1))):  # not ours, or its writer (maybe this process) still runs
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            gone.append(path)
    return gone


def verify(plan: ConformPlan, info: MediaInfo) -> list[str]:
    """Every way `info` differs from what the plan promised, in words."""
    t = plan.target
    problems = []
    if info.frames != t.frames or info.last_frame_partial:
        problems.append(f"{info.frames} frames{' (last partial)' if info.last_frame_partial else ''}, not {t.frames}")
    if info.rate != t.rate or info.variable_rate:
        problems.append(f"rate {rate_label(info.rate)}, not {rate_label(t.rate)}")
    if (info.width, info.height) != (t.size.width, t.size.height):
        problems.append(f"size {info.width}x{info.height}, not {t.size}")
    expected = t.family.reads_as.get(plan.pix_fmt, plan.pix_fmt)
    if info.pix_fmt != expected:
        problems.append(f"pixel format {info.pix_fmt}, not {expected}")
    if info.profile != t.family.profile:
        problems.append(f"profile {info.profile or 'unknown'}, not {t.family.profile}")
    if info.timecode != t.timecode:
        problems.append(f"timecode {info.timecode}, not {t.timecode}")
    tags = {
        "color_primaries": info.color_primaries,
        "color_trc": info.color_transfer,
        "colorspace": info.color_matrix,
        "color_range": info.color_range,
    }
    wrong = [f"{k.replace('color_', '')} {tags[k] or 'unset'}, not {v}" for k, v in plan.colour.items() if tags[k] != v]
    if wrong:
        problems.append("colour " + ", ".join(wrong))
    if info.rotation:
        problems.append(f"rotation {info.rotation}°, not 0")
    want_audio = [(t.audio_rate, t.audio_channels, AUDIO_CODEC)] if plan.has_audio else []
    got_audio = [(a.rate, a.channels, a.codec) for a in info.audio]
    if got_audio != want_audio:
        problems.append(f"audio {got_audio or 'none'}, not {want_audio or 'none'}")
    elif want_audio and info.audio[0].duration:  # as long as the picture, to the sample
        samples, want = info.audio[0].duration * t.audio_rate, round(t.seconds * t.audio_rate)
        if abs(samples - want) >= 1:
            problems.append(f"audio {float(samples):.0f} samples long, not {want}")
    return problems


def _run(plan: ConformPlan, temp: Path, output: Path, emit: EventSink) -> None:
    cmd = plan.command(temp, global_args=("-loglevel", "error", "-nostats", "-progress", "pipe:1"))
    tags = [arg for k, v in plan.target.metadata.items() for arg in ("-metadata", f"{k}={v}")]
    if tags and output.suffix.lower() in (".mov", ".mp4"):  # MOV/MP4 keep other tags than their own only when told
        tags += ["-movflags", "use_metadata_tags"]
    cmd[-1:-1] = tags  # output options go before the output name
    # The kernel stops ffmpeg if this process dies mid-conform (Linux); its partial is cleaned on the next run.
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    errors: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
    stderr = proc.stderr
    reader = threading.Thread(target=lambda: errors.extend(stderr), daemon=True)
    reader.start()
    n = plan.target.frames
    frame = 0
    try:
        for line in proc.stdout:  # `-progress` writes key=value blocks, each ended by progress=...
            key, _, value = line.strip().partition("=")
            if key == "frame" and value.isdigit():
                frame = int(value)
            elif key == "progress":
                emit(ConformEvent("progress", output, min(frame, n), n))
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if proc.returncode != 0:
        text = "".join(errors).strip()
        # SIGXFSZ: a file-size limit was hit (Python restores its default, fatal action in children).
        if any(marker in text for marker in _DISK_FULL) or proc.returncode == -getattr(signal, "SIGXFSZ", 0) != 0:
            raise DiskFull(
                f"The disk filled up while writing {output.name}; nothing was kept.",
                "Free some space or write to another disk.",
            )
        raise ConformFailed(
            f"ffmpeg failed (exit {proc.returncode}) conforming {plan.source.path.name}: {text[-1500:] or 'no message'}"
        )


def conform_many(
    jobs: Iterable[tuple[Path, Path, Target, Choices | None]],
    *,
    workers: int | None = None,
    on_event: EventSink | None = None,
    overwrite: bool = False,
) -> list[MediaInfo | Exception]:
    """Conform several clips in parallel (each is its own ffmpeg process). Returns each result or its error,
    in order: one bad clip does not stop the batch."""
    jobs = list(jobs)

    def one(job: tuple[Path, Path, Target, Choices | None]) -> MediaInfo | Exception:
        try:
            return conform(*job, on_event=on_event, overwrite=overwrite)
        except Exception as e:  # returned, not raised: the caller reports each clip
            return e

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        return list(pool.map(one, jobs))
