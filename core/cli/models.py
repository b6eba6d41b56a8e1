"""`promptreel models`: the catalog as a table or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..catalog import Model
    from ..choose import By, Choice
    from ..request import Slot


def lifecycle_text(m: Model) -> str:
    """A model's lifecycle in a few words: state, the day it ends, and what replaces it."""
    state = m.state()
    when = m.shutdown_on()
    text: str = state
    if state == "retired" and when:
        text += f" {when}"
    elif when:
        text += f", shuts down {when}"
    if m.lifecycle.replacement and state != "available":
        text += f"\nuse: {', '.join(m.lifecycle.replacement)}"
    return text


def _slot_for(text: str) -> Slot:
    """The slot of a placeholder named in a timeline file, read by the OTIO side (an entry point, so core
    imports none of it)."""
    from importlib.metadata import entry_points

    from ..errors import BadInput

    found = [ep for ep in entry_points(group="promptreel.slots") if ep.name == "timeline"]
    if not found:
        raise BadInput("This install cannot read timeline files.", "Reinstall promptreel (pip install promptreel).")
    slot: Slot = found[0].load()(text)
    return slot


def _record(c: Choice) -> str:
    s = c.stats
    if s is None or not (s.delivered or s.failed):
        return "new"
    wait = f" {s.median_s:.0f}s" if s.median_s is not None else ""
    return f"{s.delivered}/{s.delivered + s.failed}{wait}"


def _rank(
    frames: int | None,
    fps: str | None,
    size: str | None,
    needs: str | None,
    for_slot: str | None,
    by: By,
    since: str | None,
    as_json: bool,
) -> None:
    """`promptreel models --frames N [--fps R] [--size WxH] [--needs ...]` or `--for TIMELINE:NAME`."""
    from ..choose import load_ranking, sketch_slot
    from ..errors import BadInput
    from ..stats import parse_since

    if for_slot is not None:
        if frames is not None or fps or size:
            raise BadInput("--for takes the slot from the placeholder.", "Drop --frames, --fps and --size.")
        slot = _slot_for(for_slot)
    else:
        assert frames is not None, "models() ranks with --frames or --for"
        slot = sketch_slot(frames, fps or 24, size or "1920x1080")
    ranking = load_ranking(slot, needs, by, parse_since(since) if since else None)
    if as_json:
        click.echo(json.dumps(ranking.as_dict(), indent=2))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from ..frames import rate_label

    console = Console()
    wants = f", needs {', '.join(ranking.needs)}" if ranking.needs else ""
    console.print(
        f"Models for {slot.frames} frames at {rate_label(slot.rate)} fps ({float(slot.seconds):.2f} s), "
        f"{slot.size}{wants}; best first by {by}:",
        highlight=False,
    )
    # The model id is what the editor types next: never wrapped or cut; the words around it give way.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("model", no_wrap=True, min_width=max((len(c.model.id) for c in ranking.choices), default=5))
    table.add_column("USD", justify="right")
    table.add_column("take")
    table.add_column("conform")
    table.add_column("record", justify="right")
    for i, c in enumerate(ranking.choices, 1):
        table.add_row(
            str(i),
            c.model.id,
            "?" if c.price is None else f"{c.price:.2f}",
            c.plan_words(),
            ", ".join(c.fit.changes) or "native",
            _record(c),
        )
    if ranking.choices:
        console.print(table)
    else:
        console.print("No model can fill this slot.")
    for c in ranking.choices:  # lifecycle news: a deprecated model, a route that shut down
        for w in c.warnings:
            console.print(f"{c.model.id}: {w}", highlight=False)
    if ranking.refused:
        console.print("Cannot fill it:", highlight=False)
        for r in ranking.refused:
            console.print(f"  {r.model.id}: {r.problem}", highlight=False)


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Include models and routes their vendors have retired (never offered; old takes name them).",
)
@click.option("--frames", type=int, default=None, help="Rank the models for a slot of this many frames.")
@click.option("--fps", default=None, help="The slot's frame rate: 24, 25, 24000/1001 ... (default 24).")
@click.option("--size", default=None, help="The slot's frame size WxH (default 1920x1080).")
@click.option(
    "--needs",
    default=None,
    help="What the slot needs besides its length: first_frame, last_frame, reference_images, extend, "
    "remix, audio (comma-separated).",
)
@click.option(
    "--for",
    "for_slot",
    metavar="TIMELINE:NAME",
    default=None,
    help="Rank the models for the placeholder NAME in a timeline file.",
)
@click.option(
    "--by",
    type=click.Choice(["score", "price", "fit", "success", "latency"]),
    default="score",
    show_default=True,
    help="Order of the ranking.",
)
@click.option(
    "--since",
    metavar="WHEN",
    default=None,
    help="Count your record from jobs since: 7d, 12h, 2w, or a date (default: every job).",
)
@click.pass_context
def models(
    ctx: click.Context,
    as_json: bool,
    show_all: bool,
    frames: int | None,
    fps: str | None,
    size: str | None,
    needs: str | None,
    for_slot: str | None,
    by: By,
    since: str | None,
) -> None:
    """List the models, what they make, what they cost and their lifecycle; or, with --frames (or --for),
    rank the models that can fill one slot.

    Subcommands: `update` installs a signed catalog, `discover` lists fal's and Replicate's video models
    from their published schemas, `add` writes one of them to your catalog file."""
    if ctx.invoked_subcommand is not None:
        return
    if frames is not None or for_slot is not None:
        _rank(frames, fps, size, needs, for_slot, by, since, as_json)
        return
    if fps or size or needs or since:
        from ..errors import BadInput

        raise BadInput(
            "--fps, --size, --needs and --since describe a slot to rank models for.",
            "Give its length with --frames N (or name a placeholder with --for TIMELINE:NAME).",
        )
    from ..catalog import default_catalog

    catalog = default_catalog()
    shown = [m for m in catalog.models.values() if show_all or m.state() != "retired"]
    if as_json:
        click.echo(json.dumps({m.id: {**m.model_dump(mode="json"), "state": m.state()} for m in shown}, indent=2))
        return
    from rich.console import Console

    from ..catalog import current_version, installed_update
    from ..catalog_file import shipped_version
    from .tables import Col, fitted_table

    update = installed_update()
    source = (
        f"signed update {update.catalog_version}"
        if update and update.catalog_version > shipped_version()
        else f"shipped {current_version()}"
    )
    rows = []
    for m in shown:
        sizes = "any" if m.any_size else "\n".join(f"{a}: {' '.join(s)}" for a, s in m.sizes.items())
        price = "0" if "any" in m.price else " ".join(f"{k} {v:.3f}" for k, v in m.price.items()) or "unknown"
        routes = [(r, r.usable()) for r in m.routes if show_all or r.usable()]
        route_text = (
            "\n".join(r.label() + ("" if ok else f" retired {r.shutdown_on or ''}".rstrip()) for r, ok in routes)
            or "none available"
        )
        rows.append(
            [
                m.id,
                m.vendor,
                m.durations_label(),
                sizes,
                "any" if m.any_fps else ",".join(map(str, m.fps)),
                m.audio,
                price,
                lifecycle_text(m),
                route_text,
            ]
        )
    # The model id is what a user types: never cut. Sizes, frame rates and vendor go first on a narrow terminal.
    cols = [
        Col("model", "id"),
        Col("vendor", "extra", 3),
        Col("durations"),
        Col("sizes", "extra", 5),
        Col("fps", "extra", 4),
        Col("audio", "extra", 2),
        Col("$/s"),
        Col("lifecycle"),
        Col("routes", "extra", 1),
    ]
    console = Console()
    table = fitted_table(
        f"promptreel models (catalog: {source})" + (" (with retired)" if show_all else ""), cols, rows, console.width
    )
    console.print(table)
    # Notes are sentences; they read better under the table than squeezed into a cell.
    for m in shown:
        if m.lifecycle.note:
            console.print(
                f"[bold]{m.id}[/bold]: {m.lifecycle.note} (checked {m.lifecycle.checked_on}: {m.lifecycle.source})",
                highlight=False,
                soft_wrap=True,
            )
    hidden = len(catalog.models) - len(shown)
    if hidden:
        console.print(f"{hidden} retired model(s) not shown: `promptreel models --all` lists them.", highlight=False)


from .models_discover import add, discover  # noqa: E402
from .models_update import update  # noqa: E402  (subcommands, in their own modules)

models.add_command(update)
models.add_command(discover)
models.add_command(add)
