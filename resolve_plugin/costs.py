"""What a fill or a generate would cost, before any money is spent: each slot planned on its model
(core/plan.py) and priced from the catalog; and the refusal when that passes the panel's budget."""

from __future__ import annotations

from pydantic import BaseModel

from promptreel.core.catalog import Catalog, default_catalog
from promptreel.core.errors import BudgetExceeded, UserError
from promptreel.core.plan import plan_slot
from promptreel.core.request import Slot

from .clipmaker import request_key


class CostLine(BaseModel):
    label: str
    frames: int
    model: str
    cost_usd: float = 0.0
    error: str | None = None  # the model cannot make this slot (and why)


class CostEstimate(BaseModel):
    lines: list[CostLine]
    total_usd: float
    budget_usd: float | None = None

    @property
    def over_budget(self) -> bool:
        return self.budget_usd is not None and self.total_usd > self.budget_usd

    def summary(self) -> dict:
        return {**self.model_dump(), "over_budget": self.over_budget}

    def refuse_if_over(self, what: str) -> None:
        if self.over_budget:
            raise BudgetExceeded(
                f"{what} would cost an estimated ${self.total_usd:.2f}, over the panel's budget of "
                f"${self.budget_usd:.2f}. Nothing was started.",
                "Raise the budget in the panel's settings, choose a cheaper model, or do fewer at once.",
            )


def price_slot(slot: Slot, model: str, catalog: Catalog | None = None) -> tuple[float, str | None]:
    """(estimated USD, None), or (0, why the model cannot make it)."""
    catalog = catalog or default_catalog()
    try:
        spec = catalog.get(model)
        planned = plan_slot(slot, spec)
    except UserError as e:
        return 0.0, str(e)
    return float(planned.generated_seconds) * spec.price_per_second(planned.request.size), None


def estimate(
    slots: list[tuple[str, Slot]], model: str, budget: float | None, catalog: Catalog | None = None, times: int = 1
) -> CostEstimate:
    """Price `(label, slot)` pairs on `model`, each `times` over (variants). A slot asking for the identical
    generation as an earlier one is one job with it (make_many): listed, at no further cost."""
    lines = []
    first: dict[str, str] = {}
    for label, slot in slots:
        cost, error = price_slot(slot, model, catalog)
        key = request_key(slot.model_copy(update={"model": model}))
        if key in first and error is None:
            label, cost = f"{label} (the same job as {first[key]})", 0.0
        first.setdefault(key, label)
        lines.append(
            CostLine(label=label, frames=slot.frames, model=model, cost_usd=round(cost * times, 4), error=error)
        )
    return CostEstimate(lines=lines, total_usd=round(sum(x.cost_usd for x in lines), 4), budget_usd=budget)
