"""The panel's multi-shot box beside Fill: runs of placeholders back to back on one track, or sharing a
`promptreel.group`, each made as one take on the chosen model and cut into its shots (resolve_plugin/multishot.py;
the fill itself is panel_fills.fill's). Here: the price, one job per group, refused before spend when the model
cannot take it, and reverting a whole fill at once."""

from __future__ import annotations

from promptreel.core.errors import BadInput

from . import multishot, panel_settings
from .costs import CostEstimate
from .fill import chosen_placeholders, conform_target, one_per_draft, revert_all, slot_for
from .panel_context import PanelContext


def asks(body: dict) -> bool:
    return bool(body.get("multi_shot"))


def cost(panel: PanelContext, body: dict) -> CostEstimate:
    """The chosen placeholders priced with each group as one take, listed once (its other shots: part of that job)."""
    if "models" in body or (body.get("variants") or 1) != 1:
        raise BadInput(
            "A multi-shot fill makes one take per group, not A/B takes or variants.",
            "Untick multi-shot for takes, or untick A/B and set one take per model.",
        )
    s = panel_settings.load()
    gw = panel.gateway()
    _, target = conform_target(gw, s.bit_depth)
    state = gw.timeline()
    found = one_per_draft(chosen_placeholders(state, body.get("item_ids")))
    slots = [slot_for(p, target, model=s.model) for p in found]
    found, slots = multishot.arrange(found, slots, multishot.groups(state, found, True))
    return multishot.estimate([(p.label, slot) for p, slot in zip(found, slots, strict=True)], s.model, s.budget_usd)


def revert_fill(panel: PanelContext, body: dict) -> dict:
    """Revert every placement of one fill (`edit_ids`), newest first."""
    ids = [str(i) for i in body.get("edit_ids") or []]
    if not ids:
        raise BadInput("No fill to revert was given.", "Pick the fill's placements (edit_ids) and revert again.")
    return {"reverted": [r.id for r in revert_all(panel.gateway(), ids)]}
