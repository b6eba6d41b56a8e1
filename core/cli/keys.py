"""`promptreel keys`: set, list and delete API keys in the OS keyring. Values are never shown."""

from __future__ import annotations

import re

import click


def _check_name(name: str) -> str:
    from ..errors import BadInput

    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise BadInput(f"'{name}' is not a key name.", "Key names are environment-variable names, e.g. OPENAI_API_KEY.")
    return name


def _no_keyring(e: Exception):
    from ..errors import UserError

    return UserError(f"The OS keyring is not available here ({type(e).__name__}).",
                     "Set the key as an environment variable instead.")


@click.group()
def keys() -> None:
    """Set, list or delete API keys (names only are ever shown)."""


@keys.command("set")
@click.argument("name")
def set_(name: str) -> None:
    """Store NAME in the OS keyring (the value is asked for, hidden)."""
    from ..errors import BadInput
    from ..keys import KNOWN_KEYS, set_key

    name = _check_name(name)
    if name not in KNOWN_KEYS:
        click.echo(f"note: {name} is not one of the keys promptreel's routes use ({', '.join(KNOWN_KEYS)}).", err=True)
    value = click.prompt(f"Value for {name}", hide_input=True, confirmation_prompt=True).strip()
    if not value:
        raise BadInput("The value is empty.", "Paste the key when asked.")
    try:
        set_key(name, value)
    except Exception as e:  # keyring raises its own errors per backend (none installed, locked, ...)
        raise _no_keyring(e) from None
    click.echo(f"{name} stored in the OS keyring.")


@keys.command("list")
def list_() -> None:
    """Each key name, what it is for and where it is set. Never the value."""
    from ..keys import KNOWN_KEYS, key_sources

    for name, where in key_sources().items():
        click.echo(f"{name:22} {KNOWN_KEYS[name]:26} {where or 'not set'}")


@keys.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Remove NAME from the OS keyring."""
    from ..errors import BadInput
    from ..keys import delete_key

    name = _check_name(name)
    try:
        delete_key(name)
    except Exception as e:
        if type(e).__name__ == "PasswordDeleteError":
            raise BadInput(f"{name} is not in the OS keyring.", "Run `promptreel keys list` to see where keys are set.") from None
        raise _no_keyring(e) from None
    click.echo(f"{name} deleted from the OS keyring.")
