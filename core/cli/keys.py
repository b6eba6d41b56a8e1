"""`promptreel keys`: set, list and delete API keys in the OS keyring. Values are never shown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..errors import UserError


def _check_name(name: str) -> str:
    from ..errors import BadInput

    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise BadInput(f"'{name}' is not a key name.", "Key names are environment-variable names, e.g. OPENAI_API_KEY.")
    return name


def _no_keyring(e: Exception) -> UserError:
    from ..errors import UserError

    return UserError(
        f"The OS keyring is not available here ({type(e).__name__}).", "Set the key as an environment variable instead."
    )


@click.group()
def keys() -> None:
    """Set, list or delete API keys (names only are ever shown)."""


FILE_TRADE_OFF = (
    "a file only your login can read (0600) in the data folder: simpler than a keyring, but anyone "
    "with your login, or a backup of that folder, can read the key"
)


@keys.command("set")
@click.argument("name")
@click.option(
    "--file",
    "to_file",
    is_flag=True,
    help="Keep the key in a file only you can read (0600) in the data folder, for machines with no OS "
    "keyring. Anyone with your login or a backup of the folder can read it.",
)
def set_(name: str, to_file: bool) -> None:
    """Store NAME in the OS keyring (the value is asked for, hidden)."""
    from ..errors import BadInput, UserError
    from ..keys import keyring_problem, keys_file, known_keys, set_file_key, set_key

    name = _check_name(name)
    # Checked before the value is asked for: no keyring means no prompt, and the ways that do work.
    problem = None if to_file else keyring_problem()
    if problem:
        raise UserError(
            f"There is no usable OS keyring here ({problem}), so {name} cannot be stored in one.",
            f"Export {name} in your shell's profile (the environment wins over everything), or run "
            f"`promptreel keys set {name} --file` to keep it in {FILE_TRADE_OFF}.",
        )
    if name not in known_keys():
        click.echo(
            f"note: {name} is not one of the keys promptreel's routes use ({', '.join(known_keys())}).", err=True
        )
    value = click.prompt(f"Value for {name}", hide_input=True, confirmation_prompt=True).strip()
    if not value:
        raise BadInput("The value is empty.", "Paste the key when asked.")
    if to_file:
        set_file_key(name, value)
        click.echo(f"{name} stored in {keys_file()} (readable by you only).")
        return
    try:
        set_key(name, value)
    except Exception as e:  # keyring raises its own errors per backend (none installed, locked, ...)
        raise _no_keyring(e) from None
    click.echo(f"{name} stored in the OS keyring.")


@keys.command("list")
def list_() -> None:
    """Each key name, what it is for and where it is set. Never the value."""
    from ..keys import key_sources, known_keys

    labels = known_keys()
    for name, where in key_sources().items():
        click.echo(f"{name:22} {labels[name]:26} {where or 'not set'}")


@keys.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove NAME from the OS keyring."""
    from ..errors import BadInput
    from ..keys import delete_file_key, delete_key, keys_file

    name = _check_name(name)
    if delete_file_key(name):
        click.echo(f"{name} deleted from {keys_file()}.")
        return
    try:
        delete_key(name)
    except Exception as e:
        if type(e).__name__ == "PasswordDeleteError":
            raise BadInput(
                f"{name} is not in the OS keyring.", "Run `promptreel keys list` to see where keys are set."
            ) from None
        raise _no_keyring(e) from None
    click.echo(f"{name} deleted from the OS keyring.")
