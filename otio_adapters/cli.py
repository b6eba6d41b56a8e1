"""`promptreel scan | fill | extend | edit | revert | storyboard`: the OTIO side of the command line."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Literal

import click

from ..core.conform_choices import DEFAULT_CODEC, FIT_MODES, FPS_MODES, codec_names
from ..core.errors import BadInput

_rate_help = "Frame rate of an EDL (EDLs do not say): 24, 25, 24000/1001, 30000/1001 ... Default 24."


def _reading(f):
    f = click.option(
        "--ignore-timecode-mismatch",
        is_flag=True,
        help="EDL: trust record times where source and record durations disagree.",
    )(f)
    f = click.option("--rate", default=None, help=_rate_help)(f)
    f = click.option(
        "--bit-depth",
        type=click.Choice(["8", "10", "12"]),
        default=None,
        help="Bit depth of the fills (default: the timeline's metadata, else 10).",
    )(f)
    f = click.option("--size", default=None, help="Frame size WxH (default: the timeline's metadata, else 1920x1080).")(
        f
    )
    return f


def _conforming(f):
    """How conform gets from a generation to the slot: fill, extend, edit and promote alike."""
    f = click.option(
        "--codec",
        type=click.Choice(codec_names()),
        default=DEFAULT_CODEC,
        show_default=True,
        help="Codec of the conformed media.",
    )(f)
    f = click.option(
        "--fit", type=click.Choice(FIT_MODES), default="fill", help="How conform fits a different frame size."
    )(f)
    f = click.option(
        "--fps-mode",
        type=click.Choice(FPS_MODES),
        default="auto",
        help="How conform changes the frame rate (auto: nearest for close multiples, speed within 5%).",
    )(f)
    return f


def _making(f):
    """The options of every command that makes media into a timeline file (fill, extend, edit), written once:
    the output, conform, spend, cache, and how the input is read."""
    f = click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")(f)
    f = click.option(
        "--no-cache",
        is_flag=True,
        help="Generate new takes even where identical ones exist (e.g. a take too short to conform).",
    )(f)
    f = click.option(
        "--project", default="", help="Project name the spend is listed under (`promptreel cost --by project`)."
    )(f)
    f = click.option(
        "--media-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Folder for the conformed media (default: OUTPUT's name + _media, beside it).",
    )(f)
    f = click.option(
        "--budget", type=float, default=None, help="Refuse the run if its estimated cost passes this (USD)."
    )(f)
    f = _conforming(f)
    f = click.option(
        "-o",
        "--output",
        "out",
        required=True,
        type=click.Path(path_type=Path),
        help="The timeline to write (its suffix picks the format; the input's format where it can "
        "be written). The input is never overwritten.",
    )(f)
    return _reading(f)


def _prepared(timeline: Path, out: Path, media_dir, force: bool, size, bit_depth, rate, ignore_timecode_mismatch):
    """(document, frame size, bit depth, media folder) for extend and edit, everything checked before any spend."""
    from ..core.timeline.placeholders import frame_size

    doc = _read(timeline, rate, ignore_timecode_mismatch)
    _check_out(timeline, out, force)
    fsize, fdepth = frame_size(doc.timeline, *_size(size, bit_depth))
    media = media_dir or out.parent / f"{out.stem}_media"
    return doc, fsize, fdepth, media


def _read(path: Path, rate, ignore_timecode_mismatch: bool):
    from ..core.frames import parse_rate
    from .timeline_io import read_timeline

    return read_timeline(path, parse_rate(rate) if rate else None, ignore_timecode_mismatch)


def _size(size, bit_depth):
    from ..core.catalog import Size

    return (Size.parse(size) if size else None), (int(bit_depth) if bit_depth else None)


def _check_out(src: Path, out: Path, force: bool) -> None:
    if out.exists() and out.resolve() == src.resolve():
        raise BadInput(f"The output {out} is the input.", "Write to another file; the input is never overwritten.")
    if out.exists() and not force:
        raise BadInput(f"{out} already exists.", "Choose another output path, or pass --force to replace it.")


def _check_folders(out: Path | None, media: Path | None) -> None:
    """The folders a run writes into (the output's, the media's), before anything is spent (core/folders.py)."""
    from ..core.folders import check_writable

    if out is not None:
        check_writable(out.parent, "The folder of the output", must_exist=True)  # write_timeline makes none
    if media is not None:
        check_writable(media, "The media folder")


def _short(text: str, n: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _scan_rows(estimates):
    return [
        {
            "track": e.placeholder.track,
            "timecode": e.placeholder.timecode,
            "record_frame": e.placeholder.record_frame,
            "frames": e.placeholder.frames,
            "media_frames": e.placeholder.media_frames,
            "rate": e.slot.model_dump(mode="json")["rate"],
            "kind": e.placeholder.kind,
            "name": e.placeholder.name,
            "prompt": e.slot.prompt,
            "negative_prompt": e.slot.negative_prompt,
            "template": e.placeholder.spec.template or None if e.placeholder.spec else None,
            "model": e.slot.model,
            "planned": e.planned_label,
            "size": str(e.slot.size),
            "bit_depth": e.slot.bit_depth,
            "cost": round(e.cost, 4),
            "error": e.error,
        }
        for e in estimates
    ]


def _print_scan(estimates, skipped, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("track", "record TC", "frames", "prompt", "model", "planned", "est. $"):
        table.add_column(col)
    for e in estimates:
        ph = e.placeholder
        frames = str(ph.frames) + (f" (+{ph.head + ph.tail} handles)" if ph.head + ph.tail else "")
        # The prompt as built for this row's model (a template or shot fields are built per family).
        table.add_row(
            ph.track,
            ph.timecode,
            frames,
            _short(e.slot.prompt),
            e.slot.model or "",
            e.error and f"[red]cannot: {_short(e.error, 60)}[/red]" or e.planned_label,
            f"{e.cost:.2f}",
        )
    console = Console()
    console.print(table)
    total = sum(e.cost for e in estimates if not e.error)
    console.print(f"{len(estimates)} placeholder(s), estimated total ${total:.2f}")
    for s in skipped:
        console.print(f"skipped: {s.track} {s.timecode} {s.name!r}: {s.reason}")


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--model", default=None, help="Price every placeholder on this model (default: each one's own, else draft)."
)
@_reading
def scan(timeline: Path, as_json: bool, model, size, bit_depth, rate, ignore_timecode_mismatch) -> None:
    """List the placeholders of a timeline file and what filling them would cost. Changes nothing."""
    from ..core.timeline.fill import scan_timeline

    doc = _read(timeline, rate, ignore_timecode_mismatch)
    size, bit_depth = _size(size, bit_depth)
    estimates, skipped = scan_timeline(doc.timeline, model=model, size=size, bit_depth=bit_depth)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "timeline": str(timeline),
                    "placeholders": _scan_rows(estimates),
                    "skipped": [s.__dict__ for s in skipped],
                    "total_cost": round(sum(e.cost for e in estimates if not e.error), 4),
                },
                indent=2,
            )
        )
        return
    _print_scan(estimates, skipped, f"placeholders in {timeline.name}")


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--model", default=None, help="Model for every placeholder (default: each one's own, else draft).")
@click.option(
    "--models",
    "models_csv",
    default=None,
    help="An A/B, comma-separated: a take on each model; the first goes in place, the others on "
    "disabled 'promptreel takes' tracks under the cut.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be filled and what it would cost; change nothing.")
@click.option("--partial", is_flag=True, help="If some placeholders fail, write the filled part and list the rest.")
@click.option(
    "--frames-from-neighbours",
    is_flag=True,
    help="Give models that take them the last frame of the shot before and the first of the shot after.",
)
@click.option(
    "--multi-shot",
    is_flag=True,
    help="Placeholders back to back on one track become one multi-shot take, a shot each (Kling 3.0).",
)
@_making
def fill(
    timeline: Path,
    out: Path,
    model,
    models_csv,
    fps_mode,
    fit,
    codec,
    budget,
    dry_run,
    partial,
    media_dir,
    frames_from_neighbours,
    project,
    no_cache,
    multi_shot,
    force,
    size,
    bit_depth,
    rate,
    ignore_timecode_mismatch,
) -> None:
    """Fill the placeholders of a timeline file, frame-exact, and write the filled timeline."""
    from rich.console import Console

    from ..core.cast import project as cast_project
    from ..core.timeline.fill import fill_timeline, scan_timeline
    from ..core.timeline.filler import FillOptions, engine_filler
    from ..core.timeline.placeholders import frame_size
    from .timeline_io import write_timeline

    doc = _read(timeline, rate, ignore_timecode_mismatch)
    size, bit_depth = frame_size(doc.timeline, *_size(size, bit_depth))
    media = media_dir or out.parent / f"{out.stem}_media"
    models = tuple(m.strip() for m in (models_csv or "").split(",") if m.strip())
    if models and model:
        raise BadInput(
            "Give either --model or --models, not both.", "Use --models a,b for an A/B, --model for one model."
        )
    if dry_run:
        for m in models or (model,):  # an A/B: one table per model
            estimates, skipped = scan_timeline(
                doc.timeline, model=m, size=size, bit_depth=bit_depth, multi_shot=multi_shot and not models
            )
            _print_scan(estimates, skipped, f"dry run: {timeline.name}{f' on {m}' if models else ''} (nothing written)")
        return
    with cast_project(project):  # `@names` from the project's cast, then the shared one
        estimates, skipped = scan_timeline(doc.timeline, model=model, size=size, bit_depth=bit_depth)
    _check_out(timeline, out, force)
    _check_folders(out, media if estimates else None)
    console = Console(stderr=True)
    if not estimates:
        console.print(f"No placeholders to fill in {timeline.name}.")
        for s in skipped:
            console.print(f"skipped: {s.track} {s.timecode} {s.name!r}: {s.reason}")
        return

    def progress(i, slot, state, total):
        # Counted over the slots made (an A/B makes one per model), so the count never passes its total.
        if state != "queued":  # each job's own lines say when it is queued, running, downloading
            console.print(
                f"[{i + 1}/{total}] {slot.name or _short(slot.prompt, 40)} ({slot.frames} frames): {state}",
                highlight=False,
            )

    from ..core.cli.progress import event_sink

    # What the editor should know before anything is spent (a model given @names that takes no references).
    for warning in dict.fromkeys(w for e in estimates if e.shape_plan for w in e.shape_plan.warnings):
        console.print(f"[yellow]note[/yellow]: {warning}")
    names = {e.slot.prompt: e.slot.name for e in estimates if e.slot.name}
    with event_sink(False, console, names) as on_event, cast_project(project):
        options = FillOptions(
            output_dir=media,
            model=model,
            models=models,
            fps_mode=fps_mode,
            fit=fit,
            codec=codec,
            budget=budget,
            partial=partial,
            progress=progress,
            frames_from_neighbours=frames_from_neighbours,
            project=project,
            no_cache=no_cache,
            multi_shot=multi_shot,
            on_event=on_event,
        )
        report = fill_timeline(doc.timeline, engine_filler, options, size=size, bit_depth=bit_depth)
    written, note = write_timeline(doc, out)
    _print_summary(report, written, note)


def _print_summary(report, written: Path, note: str | None) -> None:
    from rich.console import Console

    from ..core.cli.tables import Col, fitted_table

    alternates: dict[int, list] = {}
    for ph, result in report.alternates:
        alternates.setdefault(id(ph), []).append(result)
    rows = [
        [
            ph.track,
            ph.timecode,
            str(ph.frames),
            _short(ph.prompt, 36),
            str(result.provenance.model),
            f"{result.provenance.cost:.2f}",
            result.path.name,
        ]
        for ph, main in report.filled
        for result in [main, *alternates.get(id(ph), [])]
    ]
    # Timecodes and model ids are read and typed: kept whole; the track and the media file name go first.
    cols = [
        Col("track", "extra", 2),
        Col("record TC", "id"),
        Col("frames"),
        Col("prompt"),
        Col("model", "id"),
        Col("$"),
        Col("media", "extra", 1),
    ]
    console = Console()
    console.print(fitted_table(f"filled: {written.name}", cols, rows, console.width))
    takes = f" ({len(report.filled) + len(report.alternates)} takes)" if report.alternates else ""
    console.print(f"{len(report.filled)} filled{takes}, cost ${report.cost:.2f}; wrote {written}")
    for ph, why in report.failed:
        console.print(f"[red]not filled[/red]: {ph.track} {ph.timecode} {_short(ph.prompt, 36)!r}: {why}")
    for ph, why in report.failed_takes:
        console.print(f"[red]take not made[/red]: {ph.track} {ph.timecode} {_short(ph.prompt, 36)!r}: {why}")
    for s in report.skipped:
        console.print(f"skipped: {s.track} {s.timecode} {s.name!r}: {s.reason}")
    if note:
        console.print(f"[yellow]note[/yellow]: {note}")


def _picking(what: str):
    """--clip / --at / --track: the clip an extend or edit works on."""

    def decorate(f):
        f = click.option("--track", type=int, default=None, help="Video track number of the clip (1 = V1).")(f)
        f = click.option(
            "--at", "at", default=None, help="The clip under this record timecode (on --track, default V1)."
        )(f)
        return click.option("--clip", "clip_name", default=None, help=f"The clip to {what}, by name.")(f)

    return decorate


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@_picking("extend")
@click.option("--tail", type=int, default=None, help="Frames to add after the clip's last frame.")
@click.option(
    "--head",
    type=int,
    default=None,
    help="Frames to add before the clip's first frame (a model that takes a last frame on its own).",
)
@click.option(
    "--model",
    default=None,
    help="A model that takes a first frame (--head: a last frame on its own; default: the clip's own model).",
)
@click.option("--prompt", default=None, help="What happens in the new frames (default: the clip's prompt).")
@_making
def extend(
    timeline: Path,
    clip_name,
    at,
    track,
    tail,
    head,
    model,
    prompt,
    out: Path,
    fps_mode,
    fit,
    codec,
    budget,
    media_dir,
    project,
    no_cache,
    force,
    size,
    bit_depth,
    rate,
    ignore_timecode_mismatch,
) -> None:
    """Extend a clip: new frames that continue it from its last frame (--tail), or lead into its first
    (--head), frame-exact, placed right beside it (into the gap there, else on the track above), moving
    nothing. `promptreel revert` takes it out."""
    from ..core.timeline.extend import extend_clip, pick_clip
    from ..core.timeline.filler import FillOptions, engine_filler
    from ..core.timeline.timebase import record_timecode
    from .timeline_io import write_timeline

    if (tail is None) == (head is None):
        raise BadInput("Give one of --tail FRAMES or --head FRAMES.", "E.g. --tail 24 adds one second at 24 fps.")
    doc, fsize, fdepth, media = _prepared(
        timeline, out, media_dir, force, size, bit_depth, rate, ignore_timecode_mismatch
    )
    picked = pick_clip(doc.timeline.tracks, doc.timeline.global_start_time, name=clip_name, at=at, track=track)
    _check_folders(out, media)
    options = FillOptions(
        output_dir=media,
        model=model,
        fps_mode=fps_mode,
        fit=fit,
        codec=codec,
        budget=budget,
        project=project,
        no_cache=no_cache,
    )
    edge: Literal["tail", "head"] = "tail" if tail is not None else "head"
    ext = extend_clip(
        doc.timeline,
        picked,
        tail if tail is not None else head,
        engine_filler,
        options,
        size=fsize,
        bit_depth=fdepth,
        prompt=prompt,
        resolve=doc.is_resolve,
        edge=edge,
    )
    written, note = write_timeline(doc, out)
    where = (
        f"{ext.track_label}{' (a new track)' if ext.new_track else ''} {record_timecode(ext.record_frame, picked.rate)}"
    )
    click.echo(
        f"extended {picked.clip.name!r} by {ext.frames} frames at its {edge}, {where}, with "
        f"{ext.result.provenance.model} (${ext.result.provenance.cost:.2f}, take "
        f"{ext.clip.metadata['promptreel']['take_id']}); wrote {written}\n    {ext.result.path}"
    )
    click.echo("note: the extension is picture only; the clip's audio is left as it is.", err=True)
    for w in ext.warnings:
        click.echo(f"note: {w}", err=True)
    if note:
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@_picking("edit")
@click.option("--instruction", required=True, help='What to change, e.g. "make it dusk, keep the camera move".')
@click.option("--model", default=None, help="A model that edits video (see `promptreel models`: remix).")
@click.option(
    "--handles",
    type=int,
    default=0,
    show_default=True,
    help="Frames of the clip's media sent each side of its used range (as far as the media goes).",
)
@click.option(
    "--split",
    "split",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[AT,AT]",
    help="Edit a range longer than the model takes in consecutive pieces: alone, equal pieces; with "
    "AT,AT (frames into the clip, or record timecodes), cut only there.",
)
@_making
def edit(
    timeline: Path,
    clip_name,
    at,
    track,
    instruction,
    model,
    handles,
    split,
    out: Path,
    fps_mode,
    fit,
    codec,
    budget,
    media_dir,
    project,
    no_cache,
    force,
    size,
    bit_depth,
    rate,
    ignore_timecode_mismatch,
) -> None:
    """Change a clip with a prompt, keeping its timing: its used range (plus handles) goes to a model that
    edits video, and the result, frame-exact, becomes a take of the clip on a takes track under the cut.
    The original is left as it was; `promptreel revert` takes the edit out."""
    from ..core.timeline.edit import edit_clip
    from ..core.timeline.extend import pick_clip
    from ..core.timeline.filler import FillOptions, engine_filler
    from ..core.timeline.neighbours import media_file
    from .timeline_io import write_timeline

    doc, fsize, fdepth, media = _prepared(
        timeline, out, media_dir, force, size, bit_depth, rate, ignore_timecode_mismatch
    )
    picked = pick_clip(doc.timeline.tracks, doc.timeline.global_start_time, name=clip_name, at=at, track=track)
    _check_folders(out, media)
    options = FillOptions(
        output_dir=media,
        model=model,
        fps_mode=fps_mode,
        fit=fit,
        codec=codec,
        budget=budget,
        project=project,
        no_cache=no_cache,
    )
    done = edit_clip(
        doc.timeline,
        picked,
        instruction,
        engine_filler,
        options,
        size=fsize,
        bit_depth=fdepth,
        handles=handles,
        resolve=doc.is_resolve,
        split=split,
    )
    written, note = write_timeline(doc, out)
    pieces = f" in {len(done.pieces)} pieces" if len(done.pieces) > 1 else ""
    click.echo(
        f"edited {picked.where[5:]} with {done.result.provenance.model}{pieces} (${done.cost:.2f}): a "
        f"take on the disabled 'promptreel takes' track under the cut; wrote {written}"
        + "".join(f"\n    {media_file(c) or c.media_reference.target_url}" for c in done.pieces)
    )
    for w in dict.fromkeys(done.warnings):
        click.echo(f"note: {w}", err=True)
    if note:
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("take_id", metavar="TAKE")
@click.option("--model", "final", required=True, help="The final model to render the take on again.")
@click.option(
    "--timeline",
    type=click.Path(path_type=Path),
    default=None,
    help="A timeline where the take fills a slot: the final replaces it in place (revert gives the take back).",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="The timeline to write (with --timeline; the input is never overwritten).",
)
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the final's conformed media (default: OUTPUT's name + _media, else the output folder).",
)
@_conforming
@click.option("--budget", type=float, default=None, help="Refuse if the final's estimated cost passes this (USD).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@_reading
def promote(
    take_id,
    final,
    timeline,
    out,
    media_dir,
    fps_mode,
    fit,
    codec,
    budget,
    force,
    as_json,
    size,
    bit_depth,
    rate,
    ignore_timecode_mismatch,
) -> None:
    """Render a take again on the final model: same prompt, negative prompt, seed (where the model takes
    one), frames, rate and size. With --timeline, the final replaces the take in place, verified frame-exact."""
    from ..core.journal import Journal
    from ..core.settings import load_settings, output_dir
    from ..core.takes import get_take, promote_slot
    from ..core.timeline.filler import FillOptions, engine_filler
    from ..core.timeline.placeholders import frame_size
    from ..core.timeline.promote import promote_in_tracks, render_promotion
    from .timeline_io import write_timeline

    if (timeline is None) != (out is None):
        raise BadInput(
            "--timeline and --output go together.",
            "Give both to replace the take in a timeline, or neither to render the final on its own.",
        )
    journal = Journal.open_default()
    try:
        take = get_take(journal, take_id)
        if not take.ok:
            raise BadInput(f"Take {take_id} has no clip ({take.error or 'not made'}).", "Promote a take that was made.")
        if timeline is not None:
            doc = _read(timeline, rate, ignore_timecode_mismatch)
            _check_out(timeline, out, force)
            fsize, fdepth = frame_size(doc.timeline, *_size(size, bit_depth))
            media = media_dir or out.parent / f"{out.stem}_media"
            _check_folders(out, media)
        else:
            media = media_dir or output_dir(load_settings())
            _check_folders(None, media)
        from ..core.cli.progress import event_sink

        # The job's progress as it goes (bars, or a line per state off a terminal), not silence until the end.
        with event_sink(as_json, names={take.slot.prompt: take.shot}) as on_event:
            options = FillOptions(
                output_dir=media, fps_mode=fps_mode, fit=fit, codec=codec, budget=budget, on_event=on_event
            )
            if timeline is not None:
                ph, result, final_take = promote_in_tracks(
                    doc.timeline.tracks,
                    take,
                    final,
                    engine_filler,
                    options,
                    size=fsize,
                    bit_depth=fdepth,
                    global_start=doc.timeline.global_start_time,
                    resolve=doc.is_resolve,
                    journal=journal,
                )
                written, note = write_timeline(doc, out)
            else:
                slot = promote_slot(take.slot, take, final)
                result, final_take = render_promotion(slot, take, engine_filler, options, journal)
                written, note, ph = None, None, None
    finally:
        journal.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "take": final_take.as_dict(),
                    "source": take.id,
                    "timeline": str(written) if written else None,
                    "note": note,
                },
                indent=2,
            )
        )
        return
    where = f" in {ph.track} {ph.timecode} of {written}" if written and ph is not None else ""
    click.echo(
        f"promoted {take.id} ({take.model}) to {final_take.id} ({final_take.model}, "
        f"${float(final_take.provenance.get('cost') or 0):.2f}){where}\n    {final_take.path}"
    )
    if note:
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="The restored timeline.")
@click.option(
    "--take",
    "takes",
    multiple=True,
    metavar="TAKE",
    help="Revert only the clip playing this take (repeatable), e.g. just a promotion.",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def revert(timeline: Path, out: Path, takes, force: bool) -> None:
    """Restore the placeholders of a filled timeline file; a promoted clip goes back to the take it replaced."""
    from ..core.timeline.revert import revert_tracks
    from .timeline_io import read_timeline, write_timeline

    doc = read_timeline(timeline)
    _check_out(timeline, out, force)
    count = revert_tracks(doc.timeline.tracks, set(takes) if takes else None)
    if count == 0 and takes:
        raise BadInput(
            f"No clip in {timeline.name} plays {', '.join(takes)}.",
            "Run `promptreel takes` for the take ids; give the timeline the fill or promote wrote.",
        )
    if count == 0:
        raise BadInput(
            f"{timeline.name} has no promptreel fills to revert.",
            "Give the .otio that `promptreel fill` wrote (other formats keep no placeholder).",
        )
    written, note = write_timeline(doc, out)
    click.echo(f"reverted {count} fill(s); wrote {written}")
    if note:
        click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("shots", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="The timeline to write.")
@click.option("--rate", default="24", show_default=True, help="Timeline rate: 24, 25, 24000/1001, 30000/1001 ...")
@click.option("--start-timecode", default="01:00:00:00", show_default=True, help="Record start timecode.")
@click.option("--size", default=None, help="Frame size WxH recorded in the timeline (default 1920x1080).")
@click.option("--drafts", is_flag=True, help="Render a free local draft into every placeholder so the board plays.")
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for drafts (default: OUTPUT's name + _media, beside it).",
)
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists.")
def storyboard(shots: Path, out: Path, rate, start_timecode, size, drafts, media_dir, force) -> None:
    """Build a timeline of placeholders from a shot list (CSV, Markdown table or JSON)."""
    from ..core.timeline.fill import fill_timeline
    from ..core.timeline.filler import FillOptions, engine_filler
    from .storyboard import read_shot_list
    from .timeline_io import Document, write_timeline

    _check_out(shots, out, force)
    media = media_dir or out.parent / f"{out.stem}_media"
    _check_folders(out, media if drafts else None)
    timeline = read_shot_list(shots, rate=rate, start_timecode=start_timecode, size=size)
    if drafts:
        options = FillOptions(output_dir=media, model="draft", codec="h264")
        fill_timeline(timeline, engine_filler, options)
    written, note = write_timeline(Document(out, "otio_json", timeline, timeline), out)
    n = len(timeline.tracks[0]) if len(timeline.tracks) else 0
    click.echo(f"{n} shot(s){' with drafts' if drafts else ''}; wrote {written}")
    if note:
        click.echo(f"note: {note}", err=True)
    sys.stdout.flush()


@click.command()
@click.option(
    "--out",
    "folder",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the demo (default: demo/ in promptreel's data folder).",
)
@click.option("--rate", default="24000/1001", show_default=True, help="Timeline rate.")
@click.option("--size", default="1280x720", show_default=True, help="Timeline frame size WxH.")
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Fill the shots with Gemini Omni 1.2 Flash, Kling 3 and Runway Gen-4.5 through loopback fakes of their APIs.",
)
def demo(folder: Path | None, rate: str, size: str, use_sandbox: bool) -> None:
    """Offline demo: a shot list becomes a timeline of placeholders with playable draft slates, which
    are then filled through the job engine and conformed frame-exact, with no key and no network."""
    from rich.console import Console

    from ..core.cli.progress import JournalShots, ProgressView
    from ..core.conform.probe import probe
    from ..core.frames import parse_rate, rate_label
    from ..core.settings import home
    from .demo import SANDBOX_SHOTS, SHOTS, run_demo

    folder = folder or home() / "demo"
    console = Console(stderr=True)
    scene = contextlib.ExitStack()
    if use_sandbox:
        from ..core.sandbox.run import exported, sandbox

        # A data folder of its own: the fakes' jobs never reach the real journal or cost ledger (nor a
        # studio's shared database: an empty PROMPTREEL_DATABASE_URL means the folder's own journal).
        scene.enter_context(
            exported({"PROMPTREEL_HOME": str(Path(folder) / "sandbox-home"), "PROMPTREEL_DATABASE_URL": ""})
        )
        scene.enter_context(sandbox(latency=2.0, export=True))
        what = (
            "Gemini Omni 1.2 Flash, Kling 3 and Runway Gen-4.5 through loopback fakes of their APIs "
            "(no key, no network)"
        )
    else:
        what = "the local draft model (free, offline)"
    console.print(f"promptreel demo: 3 shots at {rate_label(parse_rate(rate))} fps, {size}, with {what} into {folder}")
    shots = JournalShots()  # opened at the first event, inside the scene's data folder
    view = ProgressView(console, shots)
    with scene, view.shown(), contextlib.closing(shots):
        result = run_demo(
            folder,
            rate=rate,
            size=size,
            on_event=view,
            model=None if use_sandbox else "draft",
            shots_csv=SANDBOX_SHOTS if use_sandbox else SHOTS,
        )
    from ..core.cli.tables import Col, fitted_table

    rows = []
    for ph, filled in result.report.filled:
        info = probe(filled.media)  # what is really on disk, not what was asked for
        rows.append(
            [
                ph.name,
                str(filled.provenance.model),
                ph.timecode,
                str(info.frames),
                rate_label(info.rate),
                f"{info.width}x{info.height}",
                f"{info.codec} {info.pix_fmt}",
                f"{filled.provenance.cost:.2f}",
                filled.media.name,
            ]
        )
    # Names and timecodes are never cut; on a narrow terminal the file (its folder is printed below) and the codec go.
    cols = [
        Col("shot", "id"),
        Col("model", "id"),
        Col("record TC", "id"),
        Col("frames"),
        Col("rate"),
        Col("size", "id"),
        Col("codec", "extra", 2),
        Col("$"),
        Col("file", "extra", 3),
    ]
    out = Console()
    out.print(fitted_table("filled shots (read back from the files)", cols, rows, out.width))
    out.print(
        f"storyboard: {result.shots}\nboard with drafts: {result.board}\nfilled timeline: {result.filled}\n"
        f"media: {result.media}\ntotal cost: ${result.report.cost:.2f}"
        + (" (estimated: nothing was paid; the sandbox's jobs are in its own journal)" if use_sandbox else "")
    )
