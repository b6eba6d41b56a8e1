"""`promptreel stats`: per-model, per-route statistics from the journal (core/stats.py)."""

from __future__ import annotations

import json
from typing import Any

import click


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _failures(row: dict[str, Any]) -> str:
    from ..stats import FAILURE_CLASSES

    return ", ".join(f"{row[c]} {c.replace('_', ' ')}" for c in FAILURE_CLASSES if row[c]) or "-"


@click.command()
@click.option("--since", metavar="WHEN", help="Only jobs created since: 7d, 12h, 2w, or a date (2026-11-01).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def stats(since: str | None, as_csv: bool, as_json: bool) -> None:
    """Per model and route: jobs, success rate, failures by class, time to media, cost per second."""
    from ..journal import Journal
    from ..stats import COLUMNS, model_stats, parse_since

    start = parse_since(since) if since else None
    journal = Journal.open_default()
    try:
        found = model_stats(journal, start)
        rows = [s.row() for s in found]
    finally:
        journal.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if as_csv:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return
    if not rows:
        click.echo("No jobs in the journal" + (f" since {since}." if since else "."))
        return
    from rich.console import Console
    from rich.table import Table

    # A terminal is narrow: the failure classes share one cell here (--csv and --json keep every column).
    table = Table(title="promptreel statistics" + (f" since {since}" if since else ""))
    table.add_column("model")
    table.add_column("route", overflow="fold")
    for name in ("jobs", "success", "median s", "p90 s", "USD/s"):
        table.add_column(name, justify="right")
    table.add_column("failures")
    for s, r in zip(found, rows):
        table.add_row(
            s.model,
            s.route,
            str(s.jobs),
            _num(s.success_rate, ".0%"),
            _num(s.median_s, ".1f"),
            _num(s.p90_s, ".1f"),
            _num(s.usd_per_second, ".3f"),
            _failures(r),
        )
    Console().print(table)
