"""The panel's API for money spent: today, per project, the sandbox's pretend spend apart, and what is
left under each cap."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from . import panel_settings
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    return {("GET", "/api/costs"): partial(costs, panel)}


def costs(panel: PanelContext, _: dict) -> dict:
    """What was spent today (the editor's calendar day) and per project, from the journal's ledger."""
    j = panel.journal()
    by_project = [{"project": p or "(none)", "usd": round(usd, 4), "jobs": n} for p, usd, n in j.spend("project")]
    here = next((x["usd"] for x in by_project if x["project"] == panel.project), 0.0)
    from promptreel.core.settings import load_settings

    # What is left under each cap, of spend and of what running jobs have reserved, on every seat.
    settings, left = load_settings(), {}
    if settings.daily_cap_usd is not None:
        left["today"] = settings.daily_cap_usd - j.committed("day")
    if settings.user_daily_cap_usd is not None:
        left["you_today"] = settings.user_daily_cap_usd - j.committed("user")
    if panel.project in settings.project_caps_usd:
        left["project"] = settings.project_caps_usd[panel.project] - j.committed("project", panel.project)
    # Jobs the sandbox's fakes made are pretend spend: shown apart, never added to the money.
    sandbox = round(sum(usd for _, usd, _ in j.spend("project", sandbox=True)), 4)
    return {
        "today_usd": round(j.spent_on(), 4),
        "project": panel.project,
        "project_usd": here,
        "by_project": by_project,
        "left_usd": {k: round(max(v, 0.0), 4) for k, v in left.items()},
        "sandbox_usd": sandbox,
        "budget_usd": panel_settings.load().budget_usd,
    }
