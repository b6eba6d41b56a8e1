"""`promptreel models update`: fetch, verify and install a signed catalog; print what changed."""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--from",
    "source",
    metavar="URL|FILE",
    help="Where to fetch the catalog (default: catalog_update_url in settings, else the project's).",
)
@click.option(
    "--sig", "signature", metavar="URL|FILE", help="Its detached signature (default: the catalog's path + .sig)."
)
@click.option("--check", is_flag=True, help="Only say whether a newer signed catalog exists; install nothing.")
def update(source: str | None, signature: str | None, check: bool) -> None:
    """Install a signed catalog over the shipped one (new models, retirements, prices) without a release.

    Refused, with the installed catalog kept, when it is unsigned, tampered, malformed, older than the
    installed one or expired."""
    from ..catalog import base_models, current_version
    from ..catalog_file import UpdateRefused
    from ..catalog_update import PUBLISHED_URL, changes, fetch, install
    from ..settings import load_settings

    settings = load_settings()
    source = source or settings.catalog_update_url or PUBLISHED_URL
    update = fetch(source, signature, settings)
    have = current_version()
    if update.catalog_version < have:
        raise UpdateRefused(
            f"Catalog update {source} is version {update.catalog_version}, older than the installed {have}.",
            "Nothing to do; the installed catalog is unchanged.",
        )
    if update.catalog_version == have:
        click.echo(f"The installed catalog (version {have}) is the newest at {source}.")
        return
    if check:
        click.echo(
            f"A newer catalog is available: version {update.catalog_version} (published {update.published_at}, "
            f"installed {have}). Run `promptreel models update` to install it."
        )
        return
    lines = changes(base_models(), update.models)
    install(update)
    click.echo(
        f"Installed catalog version {update.catalog_version} (published {update.published_at}, "
        f"expires {update.expires_on}) from {source}."
    )
    for line in lines or ["no model changed"]:
        click.echo(f"  {line}")
