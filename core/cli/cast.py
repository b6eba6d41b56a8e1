"""`promptreel cast`: a project's named references (images and a note) that prompts call on with `@name`."""

from __future__ import annotations

import json
from pathlib import Path

import click

_PROJECT = click.option("--project", default="", help="The project whose cast this is (default: shared by all).")


@click.group("cast")
def cast() -> None:
    """Named references for consistent characters and objects: write @NAME in any prompt."""


@cast.command()
@click.argument("name")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--note", default="", help='Words added where the prompt names them, e.g. "red coat, short grey hair".')
@click.option("--replace", is_flag=True, help="Replace a member of the same name.")
@_PROJECT
def add(name: str, images: tuple[Path, ...], note: str, replace: bool, project: str) -> None:
    """Add NAME with one or more IMAGES (copied into the data folder), in the order models get them."""
    from ..cast import add as add_member

    member = add_member(name, images, note, project, replace)
    click.echo(f"@{member.name}: {len(member.images)} image(s){f', {member.note!r}' if member.note else ''}")


@cast.command("list")
@_PROJECT
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(project: str, as_json: bool) -> None:
    """List the cast a project sees (its own and the shared members)."""
    from ..cast import members

    found = members(project)
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in found], indent=2))
        return
    if not found:
        click.echo('No cast yet. Add one: promptreel cast add maria face.png --note "red coat".')
        return
    for m in found:
        where = f"  [{m.project}]" if m.project else ""
        click.echo(f"@{m.name}{where}  {len(m.images)} image(s){f'  {m.note}' if m.note else ''}")
        for p in m.images:
            click.echo(f"    {p}")


@cast.command()
@click.argument("name")
@_PROJECT
def remove(name: str, project: str) -> None:
    """Remove NAME from the cast (its images stay for the takes made with them)."""
    from ..cast import remove as remove_member

    remove_member(name, project)
    click.echo(f"removed @{name.lstrip('@').lower()}")
