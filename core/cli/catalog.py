"""`promptreel catalog`: the tooling a studio needs to publish its own signed catalog."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def catalog() -> None:
    """Sign a catalog file for `promptreel models update`, and make the keypair to sign with."""


@catalog.command()
@click.argument("stem", type=click.Path(path_type=Path, dir_okay=False))
def keygen(stem: Path) -> None:
    """Make an Ed25519 keypair: STEM.key (keep it secret) and STEM.pub (list it in every seat's catalog_keys)."""
    from ..catalog_update import keygen as make

    private, public = make(stem)
    click.echo(f"Private key: {private} (readable by you only; never share or commit it)")
    click.echo(f"Public key:  {public} (add it to catalog_keys in each seat's settings.toml)")


@catalog.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The Ed25519 private key (PEM) from `promptreel catalog keygen`.",
)
def sign(file: Path, key_path: Path) -> None:
    """Check FILE is a valid catalog update, then write its detached signature to FILE.sig."""
    import os

    from ..catalog_update import parse, sign as make_signature
    from ..errors import BadInput

    try:
        data, pem = file.read_bytes(), key_path.read_bytes()
    except OSError as e:
        raise BadInput(f"Cannot read {e.filename} ({e.strerror}).", "Check the path.") from None
    update = parse(data, str(file))  # never sign a file every seat would refuse
    out = file.with_name(file.name + ".sig")
    temp = out.with_name(f".{out.name}.{os.getpid()}")
    temp.write_bytes(make_signature(data, pem, str(key_path)))
    os.replace(temp, out)
    click.echo(f"Signed {file} (catalog_version {update.catalog_version}, expires {update.expires_on}): {out}")
