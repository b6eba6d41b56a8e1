"""`promptreel prompt show`: what would be sent to a model for a shot (text, negative prompt, drops)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def prompt() -> None:
    """Build prompts from shot fields, per model family."""


def parse_sets(pairs: tuple[str, ...]) -> dict[str, str]:
    from ..errors import BadInput

    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"'{pair}' is not KEY=VALUE.", "Write it as --set time_of_day=dusk.")
        values[key.strip()] = value
    return values


@prompt.command()
@click.option("--model", "model_id", required=True, help="Model id, e.g. veo-3.1 (see `promptreel models`).")
@click.option("--fields", "fields_file", type=click.Path(path_type=Path), help="Shot fields as TOML (shot.toml).")
@click.option("--prompt", "text", help="Free-text prompt; wins over the fields' text when given.")
@click.option("--template", "template_name", help="A saved template, filled from the shot fields and --set.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="A template placeholder value (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and the panel.")
def show(
    model_id: str,
    fields_file: Path | None,
    text: str | None,
    template_name: str | None,
    sets: tuple[str, ...],
    as_json: bool,
) -> None:
    """Print what would be sent to MODEL: text, negative prompt, dropped fields, warnings."""
    from ..catalog import default_catalog
    from ..errors import BadInput
    from ..prompts.compose import PromptSpec, compose
    from ..prompts.fields import ShotFields, load_fields

    model = default_catalog().get(model_id)
    fields = load_fields(fields_file) if fields_file else ShotFields()
    if template_name and text:
        raise BadInput("Give --prompt or --template, not both.", "Drop one of them.")
    if sets and not template_name:
        raise BadInput("--set fills a template's placeholders.", "Add --template NAME, or drop --set.")
    if not text and not fields_file and not template_name:
        raise BadInput("Nothing to show.", "Give --fields shot.toml, --prompt TEXT or --template NAME.")
    spec = PromptSpec(prompt=text or "", template=template_name or "", fields={**fields.present(), **parse_sets(sets)})
    built = compose(model, spec)
    if as_json:
        click.echo(built.model_dump_json(indent=2))
        return
    click.echo(f"{built.model} ({built.family}), from {built.source}, {len(built.text)}/{built.max_chars} characters:")
    click.echo(built.text)
    if built.negative_prompt:
        click.echo(f"negative prompt: {built.negative_prompt}")
    if built.dropped:
        click.echo(f"dropped: {', '.join(built.dropped)}")
    for warning in built.warnings:
        click.echo(f"warning: {warning}", err=True)
