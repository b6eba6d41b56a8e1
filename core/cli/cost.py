"""`promptreel cost`: spend from the ledger (this seat's, or the studio's shared one), by day, model,
project tag, user or host."""

from __future__ import annotations

import click


@click.command()
@click.option("--by", type=click.Choice(["day", "model", "project", "user", "host"]), default="day", show_default=True)
@click.option("--since", metavar="DATE", help="Only spend on or after this day (YYYY-MM-DD).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
@click.option("--sandbox", is_flag=True, help="The sandbox's pretend spend instead (jobs its fakes made).")
def cost(by: str, since: str | None, as_csv: bool, sandbox: bool) -> None:
    """Report spend by day, model, project, user or host (the seat that asked). Jobs made by
    `promptreel sandbox` fakes are not money and are listed only with --sandbox."""
    from datetime import date

    from ..errors import BadInput
    from ..journal import Journal

    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError:
        raise BadInput(f"'{since}' is not a date.", "Write it as YYYY-MM-DD, e.g. 2026-11-01.") from None
    journal = Journal.open_default()
    try:
        rows = journal.spend(by, since_day, sandbox=sandbox)
    finally:
        journal.close()
    if as_csv:
        import csv
        import sys

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow([by, "usd", "jobs"])
        for group, usd, n in rows:
            w.writerow([group or "", f"{usd:.4f}", n])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"promptreel {'sandbox (not money)' if sandbox else 'spend'} by {by}")
    table.add_column(by)
    table.add_column("USD", justify="right")
    table.add_column("jobs", justify="right")
    for group, usd, n in rows:
        table.add_row(group or "(none)", f"{usd:.2f}", str(n))
    table.add_row("total", f"{sum(r[1] for r in rows):.2f}", str(sum(r[2] for r in rows)))
    Console().print(table)
