"""Slots to exact clips: plan every slot, run them through the engine as one batch, conform each result.

This is the one path both the OTIO adapters and the Resolve plugin take to fill placeholders:
the engine journals, limits, retries and caches; conform makes each clip exactly its slot
(frames at the timeline rate, frame size by the chosen fit, codec, bit depth, start timecode)
and verifies it by probing. A clip that fails any step is reported, never handed on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .c2pa import Signing, trust_anchors
from .cast import names_in, project as cast_project, references
from .catalog import Catalog, default_catalog
from .conform.execute import ConformFailed, conform
from .conform.plan import Choices
from .conform.target import Target
from .conform_choices import DEFAULT_CODEC
from .errors import UserError
from .events import Event
from .made import MadeClip, Provenance
from .plan import PlannedRequest, group_shots, plan_slot
from .provenance import Marks, is_ai_generated, record
from .request import GenerationRequest, Slot

if TYPE_CHECKING:
    from .conform.execute import ConformEvent
    from .conform.probe import MediaInfo
    from .engine import Engine, JobResult
    from .journal import Journal


@dataclass(frozen=True)
class FillSettings:
    """The run's choices: which model (None: each slot's own, else draft), how to conform, what to spend."""

    output_dir: Path
    model: str | None = None
    choices: Choices = field(default_factory=Choices)
    codec: str = DEFAULT_CODEC
    start_timecode: str | None = None
    budget: float | None = None
    no_cache: bool = False
    handles: int = 0
    project: str = ""  # the cost ledger's project column (e.g. the Resolve project's name)


def plan_slots(
    slots: Sequence[Slot], model: str | None = None, handles: int = 0, catalog: Catalog | None = None
) -> list[PlannedRequest]:
    """Plan every slot before anything is spent: one refusal refuses the batch. Consecutive slots of one
    multi-shot group are planned as one take (core/plan.py `group_shots`)."""
    catalog = catalog or default_catalog()
    return group_shots(
        [plan_slot(s, catalog.get(model or s.model or "draft"), handles=handles) for s in slots], catalog.models
    )


def job_provenance(request: GenerationRequest, job: JobResult, journal: Journal) -> Provenance:
    """What a clip carries about the job that made it (timelines, bins, the takes table)."""
    return Provenance(
        prompt=request.prompt,
        model=job.model,
        route=journal.get(job.job_id).route_key,
        seed=request.seed,
        job_id=job.job_id,
        cost=job.cost,
        cached=job.cached,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        ai_generated=is_ai_generated(job.model),
        # The cast its prompt called on (`@maria`) and the reference images sent.
        cast=tuple(names_in(request)),
        references=tuple(references(request)) if request.reference_images else (),
    )


def target_for(slot: Slot, settings: FillSettings, metadata: dict[str, str] | None = None) -> Target:
    extra: dict[str, Any] = {"start_timecode": settings.start_timecode} if settings.start_timecode else {}
    if metadata:
        extra["metadata"] = metadata
    return Target.from_slot(slot, settings.codec, **extra)


def _output_name(take: Path, target: Target, choices: Choices) -> str:
    # Named from the generated take (itself named from the job that made it, so a cache hit names
    # the same take) and what it was conformed to: the same take conformed for another slot is
    # another file, the same one again is reused, and nothing a provider sent reaches the name.
    # drop_last only where set: every other conform keeps the name it always had.
    spec = json.dumps(
        [
            target.model_dump(mode="json"),
            choices.model_dump(mode="json", exclude=None if choices.drop_last else {"drop_last"}),
        ],
        sort_keys=True,
    )
    ext = "mov" if target.codec.startswith(("prores", "dnxhr")) else "mp4"
    return f"{take.stem}-{hashlib.sha256(spec.encode()).hexdigest()[:8]}.{ext}"


async def fill_slots(  # noqa: C901 - one pass over the batch: plan, run, conform each, keep provenance
    slots: Sequence[Slot],
    settings: FillSettings,
    *,
    engine: Engine | None = None,
    on_event: Callable[[Event], None] | None = None,
    planned: Sequence[PlannedRequest] | None = None,
) -> list[MadeClip]:
    """Generate and conform a clip for every slot, in order. Raises only for a refused batch
    (bad input, over budget) — before anything is spent.

    `planned`: the slots' plans (one each, in order, with `settings.handles`) when the caller has made
    them already, as the OTIO fill's estimate has: used as they are, not planned again."""
    from .engine import Engine
    from .journal import Journal
    from .settings import load_settings

    if planned is None:
        with cast_project(settings.project):  # `@names` from the project's cast, then the shared one
            planned = plan_slots(slots, settings.model, settings.handles)
    elif len(planned) != len(slots) or any(p.slot != s for p, s in zip(planned, slots)):
        raise ValueError("fill_slots was given plans that are not for its slots, one each and in order")
    planned = list(planned)
    if settings.project:
        planned = [
            replace(p, request=p.request.model_copy(update={"tags": {**p.request.tags, "project": settings.project}}))
            for p in planned
        ]
    engine = engine or Engine(default_catalog(), Journal.open_default(), load_settings())
    # A bad certificate or trust list is refused before anything is spent.
    signing, anchors = Signing.from_settings(engine.settings), trust_anchors(engine.settings)
    results = await engine.run(
        planned, budget=settings.budget, no_cache=settings.no_cache, on_event=on_event or (lambda e: None)
    )
    out_dir = Path(settings.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    clips: list[MadeClip | None] = [None] * len(slots)
    # Each conform is its own ffmpeg process, one per core at a time, off the event loop. Each clip's
    # provenance is kept the moment its conform is done, so an interrupted fill (Ctrl-C) still leaves
    # every finished clip marked; `stop` ends the conforms still running (conform stops ffmpeg when its
    # event callback raises).
    cores = asyncio.Semaphore(os.cpu_count() or 2)
    stop = threading.Event()
    conforms: dict[Path, asyncio.Task[MediaInfo]] = {}  # two uses of one take at one length: one conform

    def check(_event: ConformEvent) -> None:
        if stop.is_set():
            raise ConformFailed("stopped: the fill was interrupted")

    async def conform_one(take: Path, output: Path, target: Target, choices: Choices) -> MediaInfo:
        async with cores:
            return await asyncio.to_thread(conform, take, output, target, choices, on_event=check)

    async def finish(i: int, output: Path, provenance: Provenance, take: Path, marks: Marks, start_frame: int) -> None:
        if output in conforms:
            try:
                await conforms[output]
            except Exception as e:  # noqa: BLE001 - reported on the clip; the other clips go on
                # Conform's own advice names `promptreel conform`'s options (--short, --overwrite): not a fill's.
                reason = e.problem if isinstance(e, UserError) else str(e)
                clips[i] = MadeClip.failed(slots[i], f"conform failed: {reason}", provenance)
                return
        made = clips[i] = MadeClip(slots[i], output, provenance, start_frame=start_frame)
        kept = await asyncio.to_thread(keep_provenance, engine.journal, output, take, marks, signing, anchors)
        clips[i] = replace(made, provenance=replace(provenance, **kept))

    finishing = []
    for i, (slot, plan, job) in enumerate(zip(slots, planned, results)):
        provenance = job_provenance(plan.request, job, engine.journal)
        if not job.ok:
            reason = job.error or job.state.value
            if job.resumable:
                reason += " (the job is kept: `promptreel resume` collects it)"
            clips[i] = MadeClip.failed(slot, reason, provenance)
            continue
        # A cache hit reuses a take another job made: that job, its route and its prompt are the take's provenance.
        row = engine.journal.get(job.job_id)
        maker = (engine.journal.get(row.cached_from) if row.cached_from else None) or row
        marks = Marks.of(maker, job.path)
        provenance = replace(
            provenance,
            route=marks.route,
            disclosure=marks.disclosure,
            prompt_sha256=marks.prompt_sha256,
            original_job_id=marks.job_id,
            original_sha256=marks.original_sha256,
        )
        target = target_for(slot, settings, marks.tags())
        # A shot of a multi-shot take starts where its shot does.
        choices = (
            settings.choices
            if plan.in_point is None
            else settings.choices.model_copy(update={"in_point": plan.in_point})
        )
        if slot.drop_last:  # a head extension: the slot ends just before the take's last frames
            choices = choices.model_copy(update={"anchor": "end", "drop_last": slot.drop_last})
        output = out_dir / _output_name(job.path, target, choices)
        if not output.exists() and output not in conforms:  # else conformed before, to exactly this target
            conforms[output] = asyncio.ensure_future(conform_one(job.path, output, target, choices))
        finishing.append(finish(i, output, provenance, job.path, marks, target.start_frame))
    try:
        await asyncio.gather(*finishing)
    except BaseException:
        stop.set()
        raise
    return clips  # type: ignore[return-value]


def keep_provenance(
    journal: Journal, clip: Path, take: Path, marks: Marks, signing: Signing | None, anchors: bytes | None
) -> dict[str, Any]:
    """The original beside the clip, its credentials recorded, the sidecar written, the clip signed if asked.
    A clip is still good when this fails (a certificate C2PA refuses, a full disk): the failure is reported."""
    try:
        kept = record(journal, clip, take, marks, signing, anchors)
    except (UserError, OSError) as e:
        return {"provenance_error": str(e)}
    return {
        "original": str(kept.original),
        "sidecar": str(kept.sidecar),
        "c2pa": kept.credentials.label if kept.credentials else None,
        "signed": kept.clip_credentials.label if kept.clip_credentials else None,
    }


def fill_slots_sync(slots: Sequence[Slot], settings: FillSettings, **kw: Any) -> list[MadeClip]:
    return asyncio.run(fill_slots(slots, settings, **kw))
