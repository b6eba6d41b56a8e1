"""`promptreel refine TAKE "make it dusk"`: a new take of the shot, changed as asked, its parent recorded."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("take_id", metavar="TAKE")
@click.argument("change")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--budget", type=float, help="Refuse if the estimate passes this many USD.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (no progress bars).")
def refine(take_id: str, change: str, out: Path | None, budget: float | None, as_json: bool) -> None:
    """Refine TAKE by saying what to CHANGE. Models that remake their own takes (Gemini Omni, Grok, Luma,
    LTX, Sora, Runway, Kling omni) continue from it; others re-run its prompt with the change and its seed."""
    from ..catalog import load_catalog
    from ..engine import Engine
    from ..folders import check_writable
    from ..journal import Journal
    from ..refine import refine as make, refine_plan, remixes
    from ..settings import load_settings, output_dir
    from ..takes import get_take
    from .progress import event_sink

    settings = load_settings()
    if out is not None:
        settings = settings.model_copy(update={"output_dir": out})
    catalog = load_catalog(settings.catalog_file)
    journal = Journal.open_default()
    try:
        take = get_take(journal, take_id)
        planned = refine_plan(take, change, catalog)  # refused here, before anything is spent
        for warning in planned[1].warnings:
            click.echo(f"note: {warning}", err=True)
        check_writable(output_dir(settings), "The output folder")
        engine = Engine(catalog, journal, settings)
        with event_sink(as_json) as on_event:
            new = make(
                journal,
                take,
                change,
                output_dir=output_dir(settings),
                engine=engine,
                budget=budget,
                on_event=on_event,
                planned=planned,
            )
    finally:
        journal.close()
    if as_json:
        click.echo(json.dumps(new.as_dict(), indent=2))
    else:
        how = "continued from it" if remixes(take, catalog) else f"its prompt re-run with seed {new.seed}"
        click.echo(f"refined {take.id} -> {new.id} ({new.model}, {how}, ${float(new.provenance.get('cost') or 0):.2f})")
        click.echo(f"    {new.path if new.ok else new.error}")
        click.echo(f"The chain: `promptreel takes --chain {new.id}`.")
    if not new.ok:
        raise click.exceptions.Exit(1)
