"""`promptreel models`: the catalog as a table or JSON."""

from __future__ import annotations

import json

import click


def lifecycle_text(m) -> str:
    """A model's lifecycle in a few words: state, the day it ends, and what replaces it."""
    state = m.state()
    when = m.shutdown_on()
    text = state
    if state == "retired" and when:
        text += f" {when}"
    elif when:
        text += f", shuts down {when}"
    if m.lifecycle.replacement and state != "available":
        text += f"\nuse: {', '.join(m.lifecycle.replacement)}"
    return text


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--all", "show_all", is_flag=True,
              help="Include models and routes their vendors have retired (never offered; old takes name them).")
def models(as_json: bool, show_all: bool) -> None:
    """List the models, what they make, what they cost and their lifecycle."""
    from ..catalog import default_catalog

    catalog = default_catalog()
    shown = [m for m in catalog.models.values() if show_all or m.state() != "retired"]
    if as_json:
        click.echo(json.dumps({m.id: {**m.model_dump(mode="json"), "state": m.state()} for m in shown}, indent=2))
        return
    from rich.console import Console

    from .tables import Col, fitted_table

    rows = []
    for m in shown:
        sizes = "any" if m.any_size else "\n".join(f"{a}: {' '.join(s)}" for a, s in m.sizes.items())
        price = "0" if "any" in m.price else " ".join(f"{k} {v:.3f}" for k, v in m.price.items())
        routes = [(r, r.usable()) for r in m.routes if show_all or r.usable()]
        route_text = "\n".join(r.label() + ("" if ok else f" retired {r.shutdown_on or ''}".rstrip())
                               for r, ok in routes) or "none available"
        rows.append([m.id, m.vendor, m.durations_label(), sizes, "any" if m.any_fps else ",".join(map(str, m.fps)),
                     m.audio, price, lifecycle_text(m), route_text])
    # The model id is what a user types: never cut. Sizes, frame rates and vendor go first on a narrow terminal.
    cols = [Col("model", "id"), Col("vendor", "extra", 3), Col("durations"), Col("sizes", "extra", 5),
            Col("fps", "extra", 4), Col("audio", "extra", 2), Col("$/s"), Col("lifecycle"), Col("routes", "extra", 1)]
    console = Console()
    table = fitted_table("promptreel models" + (" (with retired)" if show_all else ""), cols, rows, console.width)
    console.print(table)
    # Notes are sentences; they read better under the table than squeezed into a cell.
    for m in shown:
        if m.lifecycle.note:
            console.print(f"[bold]{m.id}[/bold]: {m.lifecycle.note} (checked {m.lifecycle.checked_on}: "
                          f"{m.lifecycle.source})", highlight=False, soft_wrap=True)
    hidden = len(catalog.models) - len(shown)
    if hidden:
        console.print(f"{hidden} retired model(s) not shown: `promptreel models --all` lists them.", highlight=False)
