"""`promptreel templates`: saved prompt templates with {placeholders}, shared as TOML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..prompts.templates import TemplateStore


@click.group()
def templates() -> None:
    """Save, list, show, delete, export and import prompt templates."""


def _store() -> TemplateStore:
    from ..prompts.templates import TemplateStore

    return TemplateStore()


@templates.command("list")
@click.option("--tag", help="Only templates with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(tag: str | None, as_json: bool) -> None:
    """List saved templates."""
    found = _store().list(tag)
    if as_json:
        click.echo(json.dumps([t.model_dump(mode="json") for t in found], indent=2))
        return
    if not found:
        click.echo("No templates" + (f" tagged '{tag}'." if tag else ". Save one with `promptreel templates save`."))
        return
    for t in found:
        tags = f"  [{', '.join(t.tags)}]" if t.tags else ""
        click.echo(f"{t.name}{tags}: {t.description or t.text}")


@templates.command()
@click.argument("name")
@click.option("--text", required=True, help='Template text with {placeholders}, e.g. "{subject} at {time_of_day}".')
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--description", default="", help="One line on what the template is for.")
@click.option("--replace", is_flag=True, help="Overwrite a template of the same name.")
def save(name: str, text: str, tags: tuple[str, ...], description: str, replace: bool) -> None:
    """Save a template as NAME."""
    from ..prompts.templates import new_template

    template = new_template(name, text, tags, description)
    _store().save(template, replace=replace)
    fields = ", ".join(template.placeholders) or "none"
    click.echo(f"Saved template '{name}' (placeholders: {fields}).")


@templates.command()
@click.argument("name")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Fill a placeholder (repeatable); with every placeholder filled, prints the rendered text.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, sets: tuple[str, ...], as_json: bool) -> None:
    """Show template NAME, or render it with --set values."""
    from .prompt import parse_sets

    t = _store().get(name)
    if sets:
        text = t.render(parse_sets(sets))
        click.echo(json.dumps({"name": t.name, "text": text}) if as_json else text)
        return
    if as_json:
        click.echo(json.dumps({**t.model_dump(mode="json"), "placeholders": t.placeholders}, indent=2))
        return
    click.echo(f"name: {t.name}")
    if t.description:
        click.echo(f"description: {t.description}")
    click.echo(f"tags: {', '.join(t.tags) or '-'}")
    click.echo(f"placeholders: {', '.join(t.placeholders) or '-'}")
    click.echo(f"text: {t.text}")


@templates.command()
@click.argument("name")
def delete(name: str) -> None:
    """Delete template NAME."""
    _store().delete(name)
    click.echo(f"Deleted template '{name}'.")


@templates.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
def export(file: Path, overwrite: bool) -> None:
    """Write every template to a TOML FILE to share a house style."""
    count = _store().export(file, overwrite=overwrite)
    click.echo(f"Exported {count} template(s) to {file}.")


@templates.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite templates of the same name.")
def import_(file: Path, replace: bool) -> None:
    """Add the templates of a TOML FILE (all or nothing)."""
    changed = _store().import_(file, replace=replace)
    click.echo(
        f"Imported {len(changed)} template(s)" + (f": {', '.join(changed)}." if changed else " (all up to date).")
    )
