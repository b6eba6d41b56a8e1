"""`promptreel takes`: the takes of a shot (A/B, variants, promotions), and choosing the keeper."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..takes import Take


@click.command()
@click.argument("shot", required=False)
@click.option("--group", help="Only the takes of this group (one A/B or variants run).")
@click.option("--choose", "chosen", metavar="TAKE", help="Make TAKE its shot's chosen take, then list the shot.")
@click.option("--user", help="Only the takes this user recorded (on a shared database, every seat's are listed).")
@click.option("--host", help="Only the takes recorded on this machine.")
@click.option(
    "--chain",
    "chain_of",
    metavar="TAKE",
    help="Only TAKE's refine chain: the take it began from, then each refinement, indented under the take it changed.",
)
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png|FILE.html",
    help="Also write a contact sheet of the takes listed: each take's middle frame, with its shot, "
    "model, seed, cost and time to make (.html) or the pictures alone on a grid (.png).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def takes(
    shot: str | None,
    group: str | None,
    chosen: str | None,
    user: str | None,
    host: str | None,
    chain_of: str | None,
    sheet: Path | None,
    as_json: bool,
) -> None:
    """List takes, newest group last; * marks each shot's chosen take."""
    from ..journal import Journal
    from ..takes import chain, choose, depth, list_takes, making_seconds

    if sheet is not None:
        from ..pictures import check_sheet

        check_sheet(sheet)  # before a take is chosen: a refusal changes nothing
    journal = Journal.open_default()
    try:
        if chosen:
            shot = choose(journal, chosen).shot
        rows = (
            chain(journal, chain_of) if chain_of else list_takes(journal, shot=shot, group=group, user=user, host=host)
        )
        times = {t.id: making_seconds(journal, t) for t in rows}
    finally:
        journal.close()
    if sheet is not None:
        from ..pictures import SheetEntry, write_sheet

        write_sheet(
            [SheetEntry(t.path if t.ok else None, f"{t.shot} — {t.model}", sheet_lines(t, times[t.id])) for t in rows],
            sheet,
        )
    if as_json:
        click.echo(json.dumps([t.as_dict() for t in rows], indent=2))
        return
    if not rows:
        click.echo(
            "No takes" + (f" of shot {shot!r}" if shot else "") + ". `promptreel generate --models a,b` makes some."
        )
        return
    from ..frames import rate_label

    # Two lines per take, not a table: ids and paths are long and terminals are narrow. A refinement
    # is indented under the take it changed, its change quoted.
    by_id = {t.id: t for t in rows}
    for t in rows:
        kind = t.kind_label + (f" of {t.source}" if t.source else "") + (f" of {t.parent}" if t.parent else "")
        if t.provenance.get("refinement"):
            kind += f" {t.provenance['refinement']!r}"
        indent = "  " * depth(t, by_id)
        seed = "" if t.seed is None else f"  seed {t.seed}"
        click.echo(
            f"{'*' if t.chosen else ' '} {indent}{t.id}  {t.shot}  {kind}  {t.model}{seed}  {t.slot.frames} frames @ "
            f"{rate_label(t.slot.rate)} fps  {t.slot.size}  ${float(t.provenance.get('cost') or 0):.2f}"
            + (f"  {t.user}@{t.host}" if t.user else "")
        )
        cast = f"  cast: {', '.join('@' + n for n in t.provenance['cast'])}" if t.provenance.get("cast") else ""
        click.echo(f"    {indent}{t.path if t.ok else (t.error or 'not made')}{cast}")
    if sheet is not None:
        click.echo(
            f"Contact sheet: {sheet}"
            + (" (pictures in the order listed above)" if sheet.suffix.lower() == ".png" else "")
        )


def sheet_lines(t: Take, seconds: float | None) -> tuple[str, ...]:
    """The words under a take on a contact sheet."""
    return (
        f"{t.kind} · seed {'—' if t.seed is None else t.seed} · ${float(t.provenance.get('cost') or 0):.2f}"
        + (f" · {seconds:g} s to make" if seconds is not None else ""),
        f"{t.slot.frames} frames · {t.created_at[:19].replace('T', ' ')} UTC",
        *(("chosen",) if t.chosen else ()),
        *((f"not made: {t.error}",) if not t.ok else ()),
    )
