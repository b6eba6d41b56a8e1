"""The panel's API for models: the catalog's usable models, how each has done (from the journal), and
the ranking for the selected placeholders (core/choose.py, as `promptreel models --frames --for`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promptreel.core import choose
from promptreel.core.catalog import default_catalog
from promptreel.core.errors import BadInput
from promptreel.core.frames import parse_rate
from promptreel.core.stats import COLUMNS, model_stats

from . import panel_settings
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    return {
        ("GET", "/api/models"): partial(models, panel),
        ("GET", "/api/stats"): partial(stats, panel),
        ("GET", "/api/models/rank"): partial(rank, panel),
    }


def models(panel: PanelContext, _: dict) -> dict:
    catalog = default_catalog()
    return {
        "models": [
            {
                "id": m.id,
                "name": m.name,
                "durations": m.durations_label(),
                "sizes": [s for sizes in m.sizes.values() for s in sizes],
                "audio": m.audio,
                "price": m.price,
                "status": m.state(),
                "shutdown_on": str(m.shutdown_on() or ""),
            }
            for m in catalog.models.values()
            if m.usable_routes()
        ]
    }


def stats(panel: PanelContext, _: dict) -> dict:
    return {"columns": list(COLUMNS), "rows": [m.row() for m in model_stats(panel.journal())]}


def rank(panel: PanelContext, body: dict) -> dict:
    """The models that can fill the selected placeholders, best first, and why (`?frames=N[,N...]&rate=R
    &size=WxH&needs=LIST`; size: the settings' frame size). One placeholder is ranked exactly as
    `promptreel models --frames N --fps R --size WxH --needs LIST`; several by their summed score (the
    expected cost of all of them), a model that cannot fill one of them set apart with its reason."""
    lengths = _frames(str(body.get("frames") or ""))
    rate = parse_rate(str(body.get("rate") or "24"))
    size = str(body.get("size") or panel_settings.load().frame_size)
    needs = choose.parse_needs(str(body.get("needs") or ""))
    record = {s.model: s for s in model_stats(panel.journal(), by_model=True)}
    catalog = list(default_catalog().models.values())
    rankings = [choose.rank(choose.sketch_slot(n, rate, size), catalog, record, needs) for n in lengths]
    refused = {r.model.id: r for ranking in rankings for r in ranking.refused}
    per_model: dict[str, list[choose.Choice]] = {}
    for ranking in rankings:
        for c in ranking.choices:
            if c.model.id not in refused:
                per_model.setdefault(c.model.id, []).append(c)
    first = {c.model.id: i for i, c in enumerate(rankings[0].choices)}  # ties: the first placeholder's order

    def key(cs: list[choose.Choice]) -> tuple:
        score = _sum([c.score for c in cs])
        return (score is None, score or 0.0, first[cs[0].model.id])

    order = sorted(per_model.values(), key=key)
    return {
        "frames": lengths,
        "rate": str(rate),
        "size": size,
        "needs": list(needs),
        "models": [_why(cs) for cs in order],
        "refused": [
            {"model": r.model.id, "name": r.model.name, "problem": r.problem}
            for r in sorted(refused.values(), key=lambda r: r.model.id)
        ],
    }


def _frames(text: str) -> list[int]:
    try:
        lengths = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        lengths = []
    if not lengths or min(lengths) < 1:
        raise BadInput(f"{text!r} is not a list of frame counts.", "Pick a placeholder, or give frames=48 (or 48,72).")
    return lengths


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _why(choices: list[choose.Choice]) -> dict:
    """One model's place in the ranking in the editor's words: price, fit, success rate."""
    c = choices[0]
    price = _sum([x.price for x in choices])
    changes = sorted({change for x in choices for change in x.fit.changes})
    record = c.stats
    success = (
        f"{round(record.success_rate * 100)}% delivered of {record.delivered + record.failed}"
        if record and record.success_rate is not None
        else "not tried yet"
    )
    words = [
        ("price unknown" if price is None else f"${price:.2f}"),
        "native fit" if not changes else "conform: " + ", ".join(changes),
        success,
    ]
    return {
        "model": c.model.id,
        "name": c.model.name,
        "price_usd": price,
        "score": _sum([x.score for x in choices]),
        "native": not changes,
        "changes": changes,
        "success_rate": record.success_rate if record else None,
        "expected_success": round(c.expected_success, 4),
        "why": " · ".join(words),
        "warnings": sorted({w for x in choices for w in x.warnings}),
    }
