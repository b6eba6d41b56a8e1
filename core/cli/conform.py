"""`promptreel conform`: make a clip exactly what a timeline needs (frames, rate, size, codec, depth)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..conform.target import codec_families
from ..conform_choices import DEFAULT_CODEC, FIT_MODES, FPS_MODES, codec_names

if TYPE_CHECKING:
    from fractions import Fraction

    from ..c2pa import Signing
    from ..conform.execute import ConformEvent, EventSink
    from ..conform.plan import ConformPlan, Hdr, Short
    from ..conform.probe import MediaInfo
    from ..conform_choices import Fit, FpsMode
    from ..journal import Journal
    from ..provenance import Marks


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Output file (.mov).")
@click.option("--fps", "fps", default=None, help="Timeline rate, e.g. 24000/1001, 23.976, 25. Default: the source's.")
@click.option("--frames", type=int, default=None, help="Exact length in frames.")
@click.option("--seconds", default=None, help="Length in seconds (rounded up to whole frames).")
@click.option("--size", default=None, help="Frame size WxH. Default: the source's.")
@click.option(
    "--fit",
    type=click.Choice(FIT_MODES),
    default="fill",
    show_default=True,
    help="Mismatched size: fit (pad), fill (crop to cover), crop (no resize), stretch.",
)
@click.option("--codec", type=click.Choice(codec_names()), default=DEFAULT_CODEC, show_default=True)
@click.option(
    "--bit-depth",
    type=click.Choice(["8", "10", "12"]),
    default=None,
    help="Default: the codec's (10-bit for ProRes, DNxHR HQX and H.265 Main10; 12-bit is h265-12 only).",
)
@click.option(
    "--fps-mode", type=click.Choice(FPS_MODES), default="auto", show_default=True, help="How to change the rate."
)
@click.option(
    "--anchor",
    type=click.Choice(["start", "centre", "center", "end"]),
    default="start",
    show_default=True,
    help="Which part of a longer clip to keep.",
)
@click.option(
    "--in", "in_point", type=click.IntRange(min=0), default=None, help="Source frame to start at (overrides --anchor)."
)
@click.option(
    "--short",
    type=click.Choice(["hold", "slow", "refuse"]),
    default="refuse",
    show_default=True,
    help="A clip shorter than asked: hold its last frame, slow it down to fit, or refuse.",
)
@click.option(
    "--hdr",
    type=click.Choice(["tonemap", "keep"]),
    default="tonemap",
    show_default=True,
    help="An HDR (PQ/HLG) source: tone-map to Rec.709 SDR, or keep it HDR (10-bit ProRes, DNxHR HQX, H.265).",
)
@click.option("--timecode", default="00:00:00:00", show_default=True, help="Start timecode.")
@click.option(
    "--audio-channels",
    type=click.IntRange(0, 16),
    default=2,
    show_default=True,
    help="48 kHz PCM channels: the source's audio, or silence when it has none (0: no audio).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and the ffmpeg command; write nothing.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def conform(
    source: Path,
    output: Path,
    fps: str | None,
    frames: int | None,
    seconds: str | None,
    size: str | None,
    fit: Fit,
    codec: str,
    bit_depth: str | None,
    fps_mode: FpsMode,
    anchor: str,
    in_point: int | None,
    short: Short,
    hdr: Hdr,
    timecode: str,
    audio_channels: int,
    dry_run: bool,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Conform SOURCE to exactly --frames at --fps, --size, --codec: one ffmpeg pass, verified.

    A take or clip promptreel made keeps its provenance: the new clip is marked as the source was
    (AI-generated or a draft slate), its original is kept beside it and the C2PA chain recorded."""
    from ..c2pa import Signing, trust_anchors
    from ..conform.plan import Choices, plan_conform
    from ..conform.probe import probe
    from ..conform.target import Target
    from ..frames import parse_rate
    from ..journal import Journal
    from ..provenance import made_by_us
    from ..settings import load_settings

    info = probe(source)
    journal = click.get_current_context().with_resource(contextlib.closing(Journal.open_default()))
    settings = load_settings()
    # A bad certificate or trust list is refused before any work, as in a fill.
    signing, anchors = Signing.from_settings(settings), trust_anchors(settings)
    made = made_by_us(source, journal, anchors)
    rate = parse_rate(fps) if fps else info.rate
    frames = _length(info, rate, frames, seconds)
    dw, dh = info.display_size
    target_args = dict(
        frames=frames,
        rate=rate,
        size=size or f"{dw}x{dh}",
        codec=codec,
        start_timecode=timecode,
        audio_channels=audio_channels,
    )
    if bit_depth:
        target_args["bit_depth"] = int(bit_depth)
    else:
        target_args["bit_depth"] = codec_families()[codec].bit_depths[-1]
    if made is not None:
        target_args["metadata"] = made[0].tags()  # the container says what the clip is, as a fill's clips do
    target = Target(**target_args)
    choices = Choices(
        fps_mode=fps_mode,
        fit=fit,
        anchor="centre" if anchor == "center" else anchor,
        in_point=in_point,
        short=short,
        hdr=hdr,
    )
    plan = plan_conform(info, target, choices)
    if dry_run:
        if as_json:
            click.echo(json.dumps({**plan.as_dict(), "command": plan.command(output)}, indent=2))
        else:
            click.echo("\n".join(plan.describe()))
            click.echo("\n" + " ".join(_quote(a) for a in plan.command(output)))
        return

    from ..conform.execute import ConformFailed

    try:
        result = _execute(plan, output, overwrite, quiet=as_json)
    except ConformFailed as e:
        # Not the editor's doing, but theirs to act on: say what failed, not where in our code.
        raise click.ClickException(
            f"{e} Nothing was written to {output}. Run `promptreel doctor` to check "
            f"ffmpeg, and report this with the command from --dry-run."
        ) from None
    summary = {
        "output": str(result.path),
        "frames": result.frames,
        "rate": str(result.rate),
        "size": f"{result.width}x{result.height}",
        "pix_fmt": result.pix_fmt,
        "timecode": result.timecode,
    }
    kept = _keep(journal, result.path, made, signing, anchors)
    if kept is not None:
        summary["provenance"] = kept
    if as_json:
        click.echo(json.dumps({**plan.as_dict(), "result": summary}, indent=2))
    else:
        click.echo(
            f"{result.path}: {result.frames} frames at {summary['rate']} fps, {summary['size']} "
            f"{result.pix_fmt}, timecode {result.timecode} (verified)."
        )
        if kept is not None:
            click.echo(
                f"{kept['disclosure']} Original kept: {kept.get('original') or 'no (see below)'}; "
                f"its C2PA manifest: {kept.get('c2pa') or 'none'}."
            )
    if kept is not None and kept.get("provenance_error"):
        click.echo(f"note: {kept['provenance_error']}", err=True)


def _length(info: MediaInfo, rate: Fraction, frames: int | None, seconds: str | None) -> int:
    """The target's frames: --frames, or --seconds rounded up to whole frames, or the source's duration."""
    from fractions import Fraction

    from ..errors import BadInput
    from ..frames import seconds_to_frames_ceil, seconds_to_frames_floor

    if frames is not None and seconds is not None:
        raise BadInput("Both --frames and --seconds were given.", "Give one length.")
    if seconds is not None:
        try:
            return seconds_to_frames_ceil(_seconds(seconds), rate)
        except (ValueError, ZeroDivisionError):
            raise BadInput(f"'{seconds}' is not a number of seconds.", "Write it as 5 or 4.5.") from None
    if frames is None:  # keep the source's duration
        return max(1, seconds_to_frames_floor(Fraction(info.usable_frames) / info.rate, rate))
    return frames


def _execute(plan: ConformPlan, output: Path, overwrite: bool, quiet: bool) -> MediaInfo:
    """Run the plan, with a bar on a terminal, a line each quarter off one, nothing when `quiet`."""
    from ..conform.execute import execute

    if quiet:
        return execute(plan, output, overwrite=overwrite)
    from rich.console import Console
    from rich.progress import Progress

    name, frames = plan.source.path.name, plan.target.frames
    console = Console(stderr=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"conform {name}", total=frames)
            return execute(
                plan,
                output,
                overwrite=overwrite,
                on_event=lambda e: bar.update(task, completed=e.frame) if e.kind == "progress" else None,
            )
    # A log or a pipe: a line to start, then one each quarter, not silence until the end.
    click.echo(f"conform {name}: {frames} frames", err=True)
    return execute(plan, output, overwrite=overwrite, on_event=_quarters(frames))


def _keep(
    journal: Journal, clip: Path, made: tuple[Marks, Path | None] | None, signing: Signing | None, anchors: bytes | None
) -> dict[str, Any] | None:
    """The fill's provenance steps for a clip made from one of ours (core/fill.keep_provenance); None otherwise."""
    from ..slots import keep_provenance

    if made is None:
        return None
    marks, original = made
    out = {"disclosure": marks.disclosure, "ai_generated": marks.ai_generated, "job_id": marks.job_id}
    if original is None:
        return {
            **out,
            "provenance_error": f"The original of this clip (sha256 {marks.original_sha256[:12]}…) was "
            "not found, so none is kept beside the new clip; the clip is marked.",
        }
    return {**out, **keep_provenance(journal, clip, original, marks, signing, anchors)}


def _seconds(text: str) -> Fraction:
    from fractions import Fraction

    value = Fraction(text.strip())
    if value <= 0:
        raise ValueError(text)
    return value


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _quarters(total: int) -> EventSink:
    """An on_event that prints the conform's progress each time it passes another quarter."""
    shown = [0]

    def on_event(e: ConformEvent) -> None:
        quarter = min(4, e.frame * 4 // max(total, 1)) if e.kind == "progress" else 0
        if quarter > shown[0]:
            shown[0] = quarter
            click.echo(f"conform: {e.frame}/{total} frames ({quarter * 25}%)", err=True)

    return on_event
