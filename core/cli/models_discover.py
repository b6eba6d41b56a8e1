"""`promptreel models discover` and `promptreel models add`: fal's and Replicate's video models, read from
their published schemas, and written to the user's catalog file."""

from __future__ import annotations

import click

ROUTES = click.Choice(["fal", "replicate"])


@click.command()
@click.option("--route", required=True, type=ROUTES, help="The aggregator whose listing to read.")
@click.option("--search", metavar="TEXT", help="Only models matching TEXT (the aggregator's own search).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def discover(route: str, search: str | None, as_json: bool) -> None:
    """List the video models ROUTE offers your key, with what their schema accepts and what promptreel
    could map. Add one with `promptreel models add ROUTE:MODEL_ID`."""
    import json

    from ..catalog import default_catalog
    from ..discover import map_schema
    from ..discover_fetch import discover as find

    known = {r.key for m in default_catalog().models.values() for r in m.routes}
    rows = []
    for found in find(route, search):
        mapping = map_schema(found)
        rows.append(
            {
                "id": f"{route}:{found.model_id}",
                "name": found.name,
                "category": found.category,
                "in_catalog": f"{route}:{found.model_id}" in known,
                "maps": sorted(k for k in mapping.inputs if not k.endswith(("_format", "_values"))),
                "unmapped": mapping.unmapped,
                "cannot_add": mapping.blocking,
                "durations": mapping.entry.get("durations") or mapping.entry.get("duration_range"),
                "sizes": mapping.entry["sizes"],
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"No video models found on {route}" + (f" for '{search}'." if search else "."))
        return
    for row in rows:
        state = (
            "in the catalog"
            if row["in_catalog"]
            else ("cannot be added: needs " + ", ".join(row["cannot_add"]) if row["cannot_add"] else "can be added")
        )
        click.echo(f"{row['id']}  {row['name']} [{row['category']}] — {state}")
        click.echo(
            f"    maps: prompt, {', '.join(row['maps']) or 'nothing else'}; lengths {row['durations']}; "
            f"aspects {', '.join(row['sizes'])}"
        )
        for line in row["unmapped"]:
            click.echo(f"    not mapped: {line}")


@click.command()
@click.argument("ref", metavar="ROUTE:MODEL_ID")
@click.option("--as", "model_id", metavar="ID", help="The id to give it in the catalog (default: from the model id).")
@click.option("--replace", is_flag=True, help="Replace an entry of that id already in your catalog file.")
def add(ref: str, model_id: str | None, replace: bool) -> None:
    """Write a discovered model to your catalog file: its lengths, sizes and inputs from the schema, the
    fields promptreel could not map listed for you to set, and its price from the route's pricing API
    (fal), else marked unknown (budgets then refuse to guess)."""
    from ..catalog_user import write_entry
    from ..discover import catalog_id, map_schema
    from ..discover_fetch import discover, fal_price
    from ..errors import BadInput, UnsupportedRequest

    route, sep, remote = ref.partition(":")
    if not sep or route not in ("fal", "replicate") or not remote:
        raise BadInput(
            f"'{ref}' is not ROUTE:MODEL_ID.",
            "Write it as fal:fal-ai/... or replicate:owner/name (see `promptreel models discover`).",
        )
    found = next((d for d in discover(route, model_id=remote) if d.model_id == remote), None)
    if found is None:
        raise BadInput(f"{route} lists no model {remote}.", f"See `promptreel models discover --route {route}`.")
    from ..catalog import default_catalog

    serving = [m.id for m in default_catalog().models.values() if any(r.key == f"{route}:{remote}" for r in m.routes)]
    if serving and not replace:
        raise BadInput(
            f"{route}:{remote} is already in the catalog, as {', '.join(serving)}.",
            f"Use --model {serving[0]}; pass --replace to add it again from its schema.",
        )
    mapping = map_schema(found)
    if mapping.blocking:
        raise UnsupportedRequest(
            f"{remote} on {route} cannot be added: promptreel cannot set {', '.join(mapping.blocking)}.",
            "Choose another model, or write its entry by hand.",
        )
    classes = sorted(
        {f"{min(int(x) for x in s.split('x'))}p" for ss in mapping.entry["sizes"].values() for s in ss},
        key=lambda c: int(c[:-1]),
    )
    if route == "fal":
        price, price_note = fal_price(remote, classes)
    else:
        price, price_note = {}, "price unknown: Replicate publishes no pricing API"
    mid = model_id or catalog_id(found)
    path = write_entry(mid, route, found, mapping, price, price_note, replace=replace)
    click.echo(f"Added {mid} ({route}:{remote}) to {path}.")
    click.echo(f"  {price_note}" + ("" if price else "; set `price` in the entry, or budgets refuse runs with it"))
    for line in mapping.assumed:
        click.echo(f"  assumed: {line}")
    for line in mapping.unmapped:
        click.echo(f"  not mapped: {line}")
    click.echo(f'Try it: promptreel generate "..." --model {mid}')
