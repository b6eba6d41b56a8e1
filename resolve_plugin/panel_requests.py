"""What the page's requests carry for generation: the prompt (free text, a template, shot fields), the
frames, the models of an A/B and the number of variants, each checked with a one-line refusal."""

from __future__ import annotations

from promptreel.core.catalog import default_catalog
from promptreel.core.errors import BadInput, UserError
from promptreel.core.prompts.builders import BuiltPrompt
from promptreel.core.prompts.compose import PromptSpec, compose, spec_from

from .costs import CostEstimate


def built(body: dict, model: str) -> BuiltPrompt:
    """The prompt as `model` is sent it: the same function as `promptreel prompt show`."""
    return compose(default_catalog().get(model), spec(body))


def asks_generation(body: dict) -> bool:
    return any(k in body for k in ("prompt", "template", "fields"))


def spec(body: dict) -> PromptSpec:
    """The prompt as typed: free text, a template, shot fields (the negative prompt box joins them)."""
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadInput("The shot fields are not a set of name: value.", "Fill the fields in the form.")
    negative = str(body.get("negative_prompt") or "").strip()
    if negative and not str(fields.get("negative_prompt") or "").strip():
        fields = {**fields, "negative_prompt": negative}
    spec = spec_from(
        str(body.get("prompt") or "").strip(), str(body.get("template") or "").strip(), fields, "The shot fields"
    )
    if not spec.prompt and not spec.template and not spec.fields.keys() - {"negative_prompt"}:
        raise UserError(
            "The prompt is empty.", "Describe the shot to generate, or fill the shot fields or pick a template."
        )
    return spec


def frames(body: dict) -> int:
    frames = body.get("frames")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise UserError("The duration is missing.", "Give the length in frames (or pick a placeholder).")
    return frames


def models(body: dict, default: str) -> list[str]:
    """The models of an A/B (`models`, two or more), else the one chosen in settings."""
    models = body.get("models")
    if models is None:
        return [default]
    if not isinstance(models, list) or len(models) < 2 or not all(isinstance(m, str) and m for m in models):
        raise BadInput("An A/B needs two models.", "Pick model A and model B.")
    return models


def total(estimates: list[CostEstimate], budget: float | None) -> CostEstimate:
    lines = [line for e in estimates for line in e.lines]
    return CostEstimate(lines=lines, total_usd=round(sum(x.cost_usd for x in lines), 4), budget_usd=budget)


def variants(body: dict) -> int:
    variants = body.get("variants") or 1
    if not isinstance(variants, int) or not 1 <= variants <= 8:
        raise UserError("Variants must be a whole number from 1 to 8.", "Change the number of variants.")
    return variants
