"""`promptreel generate`: one prompt, one or more takes, with progress and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from fractions import Fraction

    from ..catalog import Model
    from ..plan import PlannedRequest
    from ..settings import Settings
    from ..takes import Kind


@click.command()
@click.argument("prompt")
@click.option(
    "--model",
    "model_ids",
    multiple=True,
    help="Model id (see `promptreel models`); default draft. Repeat for an A/B: --model a --model b.",
)
@click.option("--models", "models_csv", help="Models for an A/B, comma-separated: veo-3.1-fast,ltx-2.3-fast.")
@click.option("--seconds", type=int, help="Generation length in whole seconds.")
@click.option("--frames", type=int, help="Exact frame count (with --fps); other models cover it with whole seconds.")
@click.option("--fps", "fps_text", help="Frame rate: 24, 25, 24000/1001, 23.976 ...")
@click.option("--aspect", help="Aspect ratio as the catalog names it: 16:9, 9:16, 1:1 ...")
@click.option("--size", "size_text", help="Frame size WIDTHxHEIGHT.")
@click.option("--seed", type=int)
@click.option("--negative", help="Negative prompt.")
@click.option("--first-frame", type=click.Path(path_type=Path), help="Image to start from.")
@click.option("--last-frame", type=click.Path(path_type=Path), help="Image to end on.")
@click.option("--ref", "refs", multiple=True, type=click.Path(path_type=Path), help="Reference image (repeatable).")
@click.option("--audio/--no-audio", default=None, help="Ask for audio, or none.")
@click.option(
    "--variants",
    type=int,
    default=1,
    show_default=True,
    help="Takes per model (one job each, each with its own seed where the model takes one).",
)
@click.option("--shot", help="Shot name the takes are recorded under (default: from the prompt).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--budget", type=float, help="Refuse the run if its estimate passes this many USD.")
@click.option("--no-cache", is_flag=True, help="Generate a fresh take even if an identical one exists.")
@click.option(
    "--remix",
    "remix_of",
    metavar="JOB|FILE",
    help="Remake an earlier take (its job id) with this prompt "
    "(models that remix: Sora 2, Sora 2 Pro; Gemini Omni refines it; Aleph 2 and Seedance 2.5 edit it, or a "
    "video file). Its length and size are kept.",
)
@click.option(
    "--extend",
    "extend_video",
    metavar="JOB|FILE",
    help="Continue an earlier take (its job id, or a "
    "video file where the model takes one) with this prompt; --seconds is the new segment's length.",
)
@click.option(
    "--allow-long-draft",
    is_flag=True,
    help="Render a draft past an hour (or bigger than the free disk) instead of refusing it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (no progress bars).")
def generate(
    prompt: str,
    model_ids: tuple[str, ...],
    models_csv: str | None,
    seconds: int | None,
    frames: int | None,
    fps_text: str | None,
    aspect: str | None,
    size_text: str | None,
    seed: int | None,
    negative: str | None,
    first_frame: Path | None,
    last_frame: Path | None,
    refs: tuple[Path, ...],
    audio: bool | None,
    variants: int,
    shot: str | None,
    out: Path | None,
    budget: float | None,
    no_cache: bool,
    remix_of: str | None,
    extend_video: str | None,
    allow_long_draft: bool,
    as_json: bool,
) -> None:
    """Generate a clip from a prompt; with several models, an A/B in one batch. Every result is
    recorded as a take of the shot (`promptreel takes`)."""
    import asyncio
    from dataclasses import replace

    from ..catalog import load_catalog
    from ..engine import Engine
    from ..errors import BadInput
    from ..folders import check_writable
    from ..frames import parse_rate
    from ..journal import Journal
    from ..settings import load_settings, output_dir
    from ..takes import check_models, job_clips, list_takes, record_takes, seed_for, shot_name, take_tags
    from .progress import event_sink, print_results

    settings = load_settings()
    if out is not None:
        settings = settings.model_copy(update={"output_dir": out})
    if allow_long_draft:
        settings = settings.model_copy(update={"allow_long_draft": True})
    catalog = load_catalog(settings.catalog_file)
    ids = [*model_ids, *(m.strip() for m in (models_csv or "").split(",") if m.strip())] or ["draft"]
    models = check_models(ids, catalog)  # every name checked before anything is planned

    if seconds is not None and frames is not None:
        raise BadInput("Give either --seconds or --frames, not both.", "Drop one of them.")
    if frames is not None and fps_text is None:
        raise BadInput("--frames needs --fps.", "Add --fps, e.g. --fps 24000/1001.")
    if size_text and aspect:
        raise BadInput("Give either --size or --aspect, not both.", "Drop one of them.")
    fps = parse_rate(fps_text) if fps_text else None
    if remix_of and extend_video:
        raise BadInput("Give either --remix or --extend, not both.", "Drop one of them.")
    if remix_of and seconds is None and frames is None and not (size_text or aspect):
        earlier = _earlier_request(remix_of)  # a remix keeps its source's length and size
        seconds, size_text = earlier.get("seconds"), earlier.get("size")
    if remix_of and seconds is None and frames is None and Path(remix_of).is_file():
        seconds = _clip_seconds(Path(remix_of))  # an edit is as long as its clip: plan and estimate it so
    if extend_video and not (size_text or aspect):
        size_text = _earlier_request(extend_video).get("size")  # an extension continues its source's frame
    takes = len(models) > 1 or variants > 1
    planned = []
    for model in models:
        # Takes to compare get seeds: the same number on every model that takes one, a new one per variant.
        model_seed = seed if seed is not None or not (takes and model.seed) else seed_for(f"{prompt}\0{negative or ''}")
        planned.append(
            _plan(
                model,
                prompt,
                negative,
                model_seed,
                seconds,
                frames,
                fps,
                aspect,
                size_text,
                first_frame,
                last_frame,
                refs,
                audio,
                variants,
                {"remix_of": remix_of, "extend_video": extend_video},
                settings,
            )
        )
    for p in planned:
        for warning in p.warnings:
            click.echo(f"note: {warning}", err=True)

    check_writable(output_dir(settings), "The output folder")  # before anything is spent

    shot = shot or shot_name(prompt)
    kind: Kind = "ab" if len(models) > 1 else "variants"
    # The shot goes on each job (tags are not part of a request's identity), so `resume` can record
    # the takes of a generate that was killed before it could.
    planned = [
        replace(p, request=p.request.model_copy(update={"tags": {**p.request.tags, **take_tags(shot, kind)}}))
        for p in planned
    ]
    journal = Journal.open_default()
    try:
        engine = Engine(catalog, journal, settings)
        with event_sink(as_json) as on_event:
            results = asyncio.run(engine.run(planned, budget=budget, no_cache=no_cache, on_event=on_event))
        group = record_takes(journal, shot, job_clips(planned, results, journal, shot), kind)
        take_ids = [t.id for t in list_takes(journal, group=group)]
    finally:
        journal.close()
    print_results(results, as_json, take_ids)
    if not as_json:
        click.echo(f"Recorded as {len(take_ids)} take(s) of shot {shot!r} (`promptreel takes {shot}`).")
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)


def _plan(
    model: Model,
    prompt: str,
    negative: str | None,
    seed: int | None,
    seconds: int | None,
    frames: int | None,
    fps: Fraction | None,
    aspect: str | None,
    size_text: str | None,
    first_frame: Path | None,
    last_frame: Path | None,
    refs: tuple[Path, ...],
    audio: bool | None,
    variants: int,
    sources: dict[str, str | None],
    settings: Settings,
) -> PlannedRequest:
    """One model's request, checked against the catalog (refused before anything is spent)."""
    from pydantic import ValidationError

    from ..catalog import Size
    from ..errors import BadInput
    from ..plan import PlannedRequest, cast_request, check_request, plan_slot
    from ..request import GenerationRequest, Slot

    if size_text:
        size = Size.parse(size_text)
    elif aspect:
        if aspect not in model.sizes:
            raise BadInput(f"{model.name} has no {aspect} sizes.", f"Choose one of: {', '.join(model.sizes)}.")
        size = Size.parse(model.sizes[aspect][0])
    else:
        size = model.all_sizes(with_image=first_frame is not None)[0]
    common: dict[str, Any] = dict(
        prompt=prompt,
        negative_prompt=negative,
        model=model.id,
        seed=seed,
        first_frame=first_frame,
        last_frame=last_frame,
    )
    extra: dict[str, Any] = dict(reference_images=tuple(refs), audio=audio, variants=variants, **sources)
    try:
        if frames is not None and not model.any_duration:
            return plan_slot(
                Slot(frames=frames, rate=fps, size=size, **common), model, size=size, settings=settings, **extra
            )
        if frames is None and seconds is None:
            seconds = 4 if model.any_duration else min(model.allowed_durations(size) or model.allowed_durations())
        req, cast_warnings = cast_request(
            GenerationRequest(
                seconds=None if frames else seconds, frames=frames, fps=fps, size=size, **common, **extra
            ),
            model,
        )
        return PlannedRequest(req, None, check_request(req, model, settings) + cast_warnings)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'value'}: {err['msg']}" for err in e.errors())
        raise BadInput(f"The request is not valid: {problems}.", "Fix the option named above.") from None


def _clip_seconds(path: Path) -> int:
    """A source clip's length in whole seconds, rounded up (what an edit of it is billed for)."""
    import math

    from ..conform.probe import probe

    return max(1, math.ceil(probe(path, check_duplicate=False).seconds))


def _earlier_request(job_id: str) -> dict[str, Any]:
    """The request of an earlier job in the journal ({} when there is none: the engine says so later)."""
    from ..journal import Journal

    journal = Journal.open_default()
    try:
        job = journal.get(job_id)
    finally:
        journal.close()
    return job.request if job is not None else {}
