"""One shot's prompt for one model, from whatever the editor gave: free text, shot fields, a saved
template and its values. `promptreel prompt show`, the OTIO placeholders and storyboards, and the
panel's preview all go through `compose`, so what is shown is what is sent.

Precedence: free text wins (the fields and the template are then unused, with a warning); else a
template is filled from the values (shot fields included) and sent as written, with only the negative
prompt travelling on its own; else the shot fields are assembled by the model family's builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from ..catalog import Model
from ..errors import BadInput
from .builders import NEGATIVE, BuiltPrompt, build_prompt
from .fields import ShotFields, fields_from_dict
from .templates import Template, TemplateStore


class PromptSpec(BaseModel):
    """A prompt as the editor wrote it, before it is built for a model."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: str = ""
    template: str = ""
    fields: dict[str, str] = Field(default_factory=dict)  # shot fields and template values, by name
    # Refinements asked for afterwards (`promptreel refine`), oldest first: added to the words built.
    changes: list[str] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _without_no_changes(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A spec never refined serialises as before (metadata written into timelines and bins stays the same).
        data = handler(self)
        if isinstance(data, dict) and not data.get("changes"):
            data.pop("changes", None)
        return data

    @property
    def structured(self) -> bool:
        return bool(self.template or self.fields)

    def shot_fields(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k in ShotFields.model_fields and v}

    def extra_values(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k not in ShotFields.model_fields and v}

    def describe(self) -> str:
        """A short label for tables before a model is chosen."""
        if self.prompt:
            return self.prompt
        head = f"template {self.template}" if self.template else "fields"
        return f"[{head}: " + ", ".join(f"{k}={v}" for k, v in self.fields.items() if v) + "]"


def spec_from(
    prompt: str | None = None,
    template: str | None = None,
    fields: Mapping[str, object] | None = None,
    where: str = "The prompt",
) -> PromptSpec:
    """A PromptSpec from loose input (JSON, OTIO metadata, a table row); values must be text."""
    clean: dict[str, str] = {}
    for key, value in (fields or {}).items():
        if value is None:
            continue
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise BadInput(f"{where}: field '{key}' is not text.", f'Give it as a string: {key} = "…".')
        key = str(key).strip()
        if not key.isidentifier():
            raise BadInput(
                f"{where}: '{key}' is not a field name.", "Use letters, digits and underscores, e.g. time_of_day."
            )
        clean[key] = str(value)
    return PromptSpec(prompt=str(prompt or ""), template=str(template or ""), fields=clean)


class TemplateCache:
    """Templates read once per run: a 10,000-placeholder timeline opens the journal once, not per slot."""

    def __init__(self, store: TemplateStore | None = None):
        self.store = store or TemplateStore()
        self._seen: dict[str, Template] = {}

    def get(self, name: str) -> Template:
        if name not in self._seen:
            self._seen[name] = self.store.get(name)
        return self._seen[name]


def compose(model: Model, spec: PromptSpec, store: TemplateStore | TemplateCache | None = None) -> BuiltPrompt:
    """What would be sent to `model` for `spec` (text, negative prompt, drops, warnings)."""
    shot = spec.shot_fields()
    extra = spec.extra_values()
    warnings: list[str] = []
    if spec.prompt:
        if spec.template:
            warnings.append(f"The free-text prompt wins; template '{spec.template}' not used.")
        built = build_prompt(model, ShotFields(**shot), spec.prompt)
        if extra:
            warnings.append(f"The free-text prompt wins; values not used: {', '.join(extra)}.")
    elif spec.template:
        template = (store or TemplateStore()).get(spec.template)
        text = template.render({**shot, **extra})
        # Unused shot fields are normal (a shot file serves many templates); an unused value was a typo.
        unused = [k for k in extra if k not in template.placeholders]
        if unused:
            warnings.append(f"Template '{template.name}' does not use: {', '.join(unused)}.")
        # The fields went into the template; only the negative prompt still travels on its own.
        built = build_prompt(model, ShotFields(negative_prompt=shot.get(NEGATIVE, "")), text)
        built = built.model_copy(update={"source": "template"})
    else:
        if extra:
            raise BadInput(
                f"Unknown shot field(s): {', '.join(extra)}.",
                f"Name a template that uses them, or use only: {', '.join(ShotFields.names())}.",
            )
        built = build_prompt(model, fields_from_dict(shot))
    if spec.changes:
        built = built.model_copy(update={"text": amended(built.text, *spec.changes)})
    if warnings:
        built = built.model_copy(update={"warnings": warnings + built.warnings})
    return built


def amended(text: str, *changes: str) -> str:
    """`text` with refinements added in order, each as a sentence of its own ("... Change: make it dusk.")."""
    for change in changes:
        change = change.strip().rstrip(".")
        if change:
            text = text.rstrip()
            text = f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} Change: {change}."
    return text
