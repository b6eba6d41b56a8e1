"""The panel's API for structured prompts: the saved templates and shot fields, and the preview of
exactly what each model would be sent."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promptreel.core.errors import BadInput
from promptreel.core.prompts.fields import ShotFields
from promptreel.core.prompts.templates import TemplateStore

from . import panel_requests as req, panel_settings
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    return {
        ("GET", "/api/templates"): partial(templates, panel),
        ("POST", "/api/prompt/preview"): partial(preview, panel),
    }


def templates(panel: PanelContext, _: dict) -> dict:
    """Saved templates with their placeholders, and the shot fields the form offers."""
    return {
        "templates": [{**t.model_dump(mode="json"), "placeholders": t.placeholders} for t in TemplateStore().list()],
        "fields": [{"name": name, "description": f.description or ""} for name, f in ShotFields.model_fields.items()],
    }


def preview(panel: PanelContext, body: dict) -> dict:
    """Exactly what would be sent to each model (`model`, or `models` for an A/B; default the chosen
    one): the same function as `promptreel prompt show`."""
    models = body.get("models") or [str(body.get("model") or panel_settings.load().model)]
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise BadInput("`models` must be a list of model ids.", "Pick the models from the list.")
    return {"previews": [req.built(body, m).model_dump() for m in models]}
