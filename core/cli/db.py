"""`promptreel db`: the database this seat uses (its own SQLite journal, or a studio's PostgreSQL):
its schema version, upgrading it, and copying a seat's history into the shared one."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def db() -> None:
    """The database: status, upgrade, copy a seat's journal into a shared one."""


def _version(target) -> int | None:
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
    state = "up to date" if found.version == store.LATEST else \
        f"{store.LATEST - found.version} migration(s) to apply: run `promptreel db upgrade`"
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
