"""`promptreel models`: the catalog as a table or JSON."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--all", "show_all", is_flag=True, help="Include retired routes.")
def models(as_json: bool, show_all: bool) -> None:
    """List the models, what they make and what they cost."""
    from ..catalog import default_catalog

    catalog = default_catalog()
    if as_json:
        click.echo(json.dumps({mid: m.model_dump(mode="json") for mid, m in catalog.models.items()}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="promptreel models")
    for col in ("model", "vendor", "durations", "sizes", "fps", "audio", "$/s", "lifecycle", "routes"):
        table.add_column(col)
    for m in catalog.models.values():
        sizes = "any" if m.any_size else "\n".join(f"{a}: {' '.join(s)}" for a, s in m.sizes.items())
        price = "0" if "any" in m.price else " ".join(f"{k} {v:.3f}" for k, v in m.price.items())
        routes = [r for r in m.routes if show_all or r.usable()]
        route_text = "\n".join(f"{r.protocol} ({r.model_id})" for r in routes) or "none available"
        table.add_row(m.id, m.vendor, m.durations_label(), sizes, "any" if m.any_fps else ",".join(map(str, m.fps)),
                      m.audio, price, m.lifecycle.status, route_text)
    console = Console()
    console.print(table)
    # Notes are sentences; they read better under the table than squeezed into a cell.
    for m in catalog.models.values():
        if m.lifecycle.note:
            console.print(f"[bold]{m.id}[/bold]: {m.lifecycle.note}", highlight=False)
