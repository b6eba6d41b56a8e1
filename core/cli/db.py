"""`promptreel db`: the database this seat uses (its own SQLite journal, or a studio's PostgreSQL):
its schema version, upgrading it, and copying a seat's history into the shared one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..store import Target


@click.group()
def db() -> None:
    """The database: status, upgrade, copy a seat's journal into a shared one."""


def _version(target: Target) -> int | None:
    """The schema version at `target`, None when there is no database there yet."""
    from .. import store

    if not store.is_postgres(target) and not Path(target).exists():
        return None
    return store.inspect(target).version


@db.command()
def status() -> None:
    """Where the database is, its schema version, and how many jobs it holds. Changes nothing."""
    from .. import store

    target = store.default_target()
    kind = "PostgreSQL" if store.is_postgres(target) else "SQLite"
    click.echo(f"database: {store.shown(target)} ({kind})")
    if _version(target) is None:
        click.echo(f"schema: none yet (the first job creates it at schema {store.LATEST})")
        return
    found = store.inspect(target)  # a newer schema is refused here, with its fix
    state = (
        "up to date"
        if found.version == store.LATEST
        else f"{store.LATEST - found.version} migration(s) to apply: run `promptreel db upgrade`"
    )
    click.echo(f"schema: {found.version} of {store.LATEST} ({state})")
    click.echo(f"jobs: {found.jobs}")


@db.command()
def upgrade() -> None:
    """Apply the migrations this promptreel knows to the database (a shared one is only upgraded here)."""
    from .. import store

    target = store.default_target()
    before = _version(target) or 0
    store.connect(target, upgrade=True).close()
    if before == store.LATEST:
        click.echo(f"{store.shown(target)} is at schema {store.LATEST} (up to date).")
    else:
        click.echo(f"Upgraded {store.shown(target)} from schema {before} to {store.LATEST}.")


@db.command("copy")
@click.option("--to", "to", required=True, metavar="URL", help="The shared database: postgresql://user@host/dbname")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The SQLite journal to copy (default: this seat's, journal.sqlite in the data folder).",
)
def copy_(to: str, source: Path | None) -> None:
    """Copy this seat's journal (jobs, ledger, cache index, edits, credentials, takes, templates) into a
    shared PostgreSQL database. Never overwrites a row the shared database has; safe to run twice."""
    from .. import dbcopy, store
    from ..errors import BadInput
    from ..settings import home

    if not store.is_postgres(to):
        raise BadInput(f"'{store.shown(to)}' is not a PostgreSQL URL.", "Write it as postgresql://user@host/dbname.")
    source = source or home() / "journal.sqlite"
    if not source.is_file():
        raise BadInput(f"There is no journal at {source}.", "Name the seat's journal with --from PATH.")
    with store.connect(source) as here, store.connect(to) as shared:  # this seat's journal upgraded first
        done = dbcopy.copy(here, shared)
    parts = [f"{n} {table}" for table, n in done.added.items() if n]
    click.echo(f"Copied {', '.join(parts) or 'nothing new'} from {source} into {store.shown(to)}.")
    kept = sum(done.kept.values())
    if kept:
        click.echo(f"{kept} row(s) the shared database already had were left as they are there.")
    if done.unlinked:
        click.echo(
            f"{done.unlinked} unfinished job(s) ask for a take the shared database is already making; "
            "both stay collectable with `promptreel resume`."
        )
    click.echo("Point this seat at it: database_url in settings.toml, or PROMPTREEL_DATABASE_URL.")
