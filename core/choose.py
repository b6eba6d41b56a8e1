"""Choosing among many models for one slot: what each costs for it, how natively its take fits, and how
it has done for this editor.

Pure: a slot, the catalog's models and the journal's per-model statistics in; a ranking out. Each model
is planned as a fill would plan it (core/plan.py `plan_slot`: the shortest generation that covers the
slot), priced as the engine prices it (`estimate`), and its take run through the conform planner
(core/conform/plan.py `plan_for_take`) to see what conform would change. `load_ranking` and
`ranking_json` at the bottom are the only functions that read anything (the catalog and the journal),
for the CLI and the panel.

The default order is by `score`, an expected cost in dollars that also weighs fit and evidence:

    score = price for the slot x (1 + FIT_PENALTY per conform change) / expected success rate

A conform change is a speed change, a frame-rate resample (frames dropped or repeated), an upscale, a
crop or a held last frame. The expected success rate is the editor's own (stats.py), pulled towards
PRIOR_SUCCESS as if each model had PRIOR_JOBS earlier jobs, so one unlucky job does not bury a model
and an untried one is neither favoured nor shunned. Ties go to the better fit, then the shorter
median wait from submit to media.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

from .catalog import Model, Size
from .errors import BadInput, UserError
from .plan import PlannedRequest, plan_slot
from .request import Slot
from .stats import ModelStats

# What a slot can ask of a model beyond its length, rate and size.
NEEDS = ("first_frame", "last_frame", "reference_images", "extend", "remix", "audio")
# Each conform change costs as much as a quarter of the take's price: enough that a native take wins a
# near tie, not so much that it outweighs a model twice the price.
FIT_PENALTY = 0.25
PRIOR_SUCCESS = 0.9
PRIOR_JOBS = 2
By = Literal["score", "price", "fit", "success", "latency"]
ORDERS: tuple[str, ...] = get_args(By)
# Stand-ins for inputs a sketched slot names but does not have yet (check_files=False: never read).
_SKETCH = Path("sketch")


def parse_needs(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """`first_frame,audio` -> ("first_frame", "audio"); a last frame brings a first frame with it."""
    if not text:
        return ()
    words = text.split(",") if isinstance(text, str) else list(text)
    needs = [w.strip().replace("-", "_") for w in words if w.strip()]
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        raise BadInput(f"Unknown need '{unknown[0]}'.", f"Choose from: {', '.join(NEEDS)}.")
    if "last_frame" in needs and "first_frame" not in needs:
        needs.insert(0, "first_frame")  # the planner takes a last frame only with a first
    return tuple(n for n in NEEDS if n in needs)


def sketch_slot(
    frames: int, rate: Fraction | str | int, size: Size | str, bit_depth: int = 10, prompt: str = "a shot"
) -> Slot:
    """A slot from numbers alone (no placeholder yet): what `--frames --fps --size` describe."""
    from pydantic import ValidationError

    try:
        return Slot(frames=frames, rate=rate, size=size, bit_depth=bit_depth, prompt=prompt)
    except ValidationError as e:
        problem = e.errors()[0]
        raise BadInput(
            f"The slot's {problem['loc'][0]} is invalid: {problem['msg']}.",
            "Give --frames N (1 or more), --fps like 24 or 24000/1001, --size WxH.",
        ) from None


def _fps(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{float(rate):.3f}"


@dataclass(frozen=True)
class Fit:
    """What conform would do to the planned take to make it the slot: nothing, for a native fit."""

    strategy: str  # conform's rate strategy: "same", "speed", "nearest"
    scale: Fraction  # the picture enlarged (> 1) or reduced (< 1)
    cropped: bool
    held: int  # copies of the last frame added (a take a frame short after a rate change)
    changes: tuple[str, ...]  # each conform change in a few words

    @property
    def native(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {
            "native": self.native,
            "strategy": self.strategy,
            "scale": round(float(self.scale), 4),
            "cropped": self.cropped,
            "held_frames": self.held,
            "changes": list(self.changes),
        }


def fit_of(planned: PlannedRequest, slot: Slot, model: Model) -> Fit:
    """What conform would change (core/conform/plan.py decides; nothing here second-guesses it)."""
    from .conform.plan import Choices, plan_for_take
    from .conform.target import Target
    from .engine import generated_seconds

    req = planned.request
    size = req.size or slot.size
    rate = Fraction(req.fps) if req.fps is not None else slot.rate
    frames = req.frames if req.frames is not None else math.floor(generated_seconds(req) * rate)
    target = Target(frames=slot.frames, rate=slot.rate, size=slot.size)
    plan = plan_for_take(
        rate, size.width, size.height, frames, target, audio=model.audio != "none", choices=Choices(short="hold")
    )
    changes = []
    if plan.strategy == "speed":
        changes.append(f"speed {_fps(rate)}→{_fps(slot.rate)}")
    elif plan.strategy != "same":
        changes.append(f"resample {_fps(rate)}→{_fps(slot.rate)}")
    if plan.hold_frames:
        changes.append(f"hold {plan.hold_frames}")
    if plan.scale > 1:
        changes.append(f"up ×{float(plan.scale):.2f}")
    if plan.cropped:
        changes.append("crop")
    return Fit(plan.strategy, plan.scale, plan.cropped, plan.hold_frames, tuple(changes))


@dataclass(frozen=True)
class Choice:
    """One model that can fill the slot: its plan, price, fit and record."""

    model: Model
    planned: PlannedRequest
    price: float | None  # USD for one take; None when the catalog gives no price
    fit: Fit
    stats: ModelStats | None
    expected_success: float
    score: float | None  # None when the price is unknown: ranked last
    warnings: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> float | None:
        return self.stats.median_s if self.stats else None

    @property
    def _slot_size(self) -> Size | None:
        slot = self.planned.slot
        return slot.size if slot is not None else None

    def plan_words(self) -> str:
        r = self.planned.request
        length = f"{r.frames}fr" if r.frames is not None else f"{r.seconds}s"
        fps = f"@{_fps(Fraction(r.fps))}" if r.fps is not None else ""
        return f"{length} {r.size or self._slot_size}{fps}"

    def as_dict(self) -> dict[str, Any]:
        r = self.planned.request
        s = self.stats
        return {
            "model": self.model.id,
            "name": self.model.name,
            "vendor": self.model.vendor,
            "state": self.model.state(),
            "price_usd": self.price,
            "score": None if self.score is None else round(self.score, 4),
            "plan": {
                "seconds": r.seconds,
                "frames": r.frames,
                "fps": None if r.fps is None else str(r.fps),
                "size": str(r.size or self._slot_size),
                "words": self.plan_words(),
            },
            "fit": self.fit.as_dict(),
            "record": {
                "jobs": s.jobs,
                "delivered": s.delivered,
                "failed": s.failed,
                "success_rate": s.success_rate,
                "median_s": s.median_s,
            }
            if s
            else None,
            "expected_success": round(self.expected_success, 4),
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class Refusal:
    """A model that cannot fill the slot, in the planner's own words."""

    model: Model
    problem: str
    fix: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model.id, "name": self.model.name, "problem": self.problem, "fix": self.fix}


@dataclass(frozen=True)
class Ranking:
    slot: Slot
    needs: tuple[str, ...]
    by: str
    choices: list[Choice]
    refused: list[Refusal]

    def as_dict(self) -> dict[str, Any]:
        s = self.slot
        return {
            "slot": {"frames": s.frames, "fps": str(s.rate), "size": str(s.size), "seconds": float(s.seconds)},
            "needs": list(self.needs),
            "by": self.by,
            "models": [c.as_dict() for c in self.choices],
            "refused": [r.as_dict() for r in self.refused],
        }


def expected_success(stats: ModelStats | None) -> float:
    """The editor's success rate with this model, pulled towards PRIOR_SUCCESS by PRIOR_JOBS jobs."""
    delivered, failed = (stats.delivered, stats.failed) if stats else (0, 0)
    return (delivered + PRIOR_SUCCESS * PRIOR_JOBS) / (delivered + failed + PRIOR_JOBS)


def is_slate(model: Model) -> bool:
    """The built-in draft: a local slate with the prompt on it, not a generation; free and fits anything."""
    return all(r.protocol == "draft" for r in model.routes)


def _sketch_inputs(slot: Slot, needs: tuple[str, ...]) -> tuple[Slot, dict[str, Any]]:
    frames: dict[str, Path] = {n: _SKETCH for n in ("first_frame", "last_frame") if n in needs}
    extra: dict[str, Any] = {}
    if "reference_images" in needs:
        extra["reference_images"] = (_SKETCH,)
    if "extend" in needs:
        extra["extend_video"] = "a take"
    if "remix" in needs:
        extra["remix_of"] = "a take"
    if "audio" in needs:
        extra["audio"] = True
    return (slot.model_copy(update=frames) if frames else slot), extra


def _sort_key(by: str) -> Callable[[Choice], tuple[float | int | str, ...]]:
    inf = math.inf

    def score(c: Choice) -> float:
        return inf if c.score is None else c.score

    def latency(c: Choice) -> float:
        return inf if c.median_s is None else c.median_s

    def tail(c: Choice) -> tuple[float, int, float, str]:
        return score(c), len(c.fit.changes), latency(c), c.model.id

    return {
        "score": tail,
        "price": lambda c: (inf if c.price is None else c.price, *tail(c)),
        "fit": lambda c: (len(c.fit.changes), *tail(c)),
        "success": lambda c: (-c.expected_success, *tail(c)),
        "latency": lambda c: (latency(c), *tail(c)),
    }[by]


def rank(
    slot: Slot,
    models: Iterable[Model],
    stats: Mapping[str, ModelStats] | None = None,
    needs: Sequence[str] = (),
    by: By = "score",
    today: date | None = None,
) -> Ranking:
    """Every model not retired by `today`, planned for `slot` with `needs`: those that can fill it ranked
    `by` one of ORDERS, the others apart with the planner's reason. The draft slate is left out."""
    from .engine import estimate

    if by not in ORDERS:
        raise BadInput(f"Unknown order '{by}'.", f"Choose one of: {', '.join(ORDERS)}.")
    needs = parse_needs(needs)
    stats = stats or {}
    sketched, extra = _sketch_inputs(slot, needs)
    choices, refused = [], []
    for model in models:
        if model.state(today) == "retired" or is_slate(model):
            continue
        try:
            planned = plan_slot(sketched, model, check_files=False, **extra)
        except UserError as e:
            refused.append(Refusal(model, e.problem, e.fix))
            continue
        price = estimate(model, planned.request) if model.price_known else None
        fit = fit_of(planned, slot, model)
        record = stats.get(model.id)
        success = expected_success(record)
        score = None if price is None else price * (1 + FIT_PENALTY * len(fit.changes)) / success
        choices.append(Choice(model, planned, price, fit, record, success, score, list(planned.warnings)))
    choices.sort(key=_sort_key(by))
    refused.sort(key=lambda r: r.model.id)
    return Ranking(slot, needs, by, choices, refused)


def load_ranking(
    slot: Slot, needs: str | Sequence[str] | None = None, by: By = "score", since: datetime | None = None
) -> Ranking:
    """`rank` over the catalog in use, with the editor's record from the journal in the data folder
    (jobs created since `since`, or all)."""
    from .catalog import default_catalog
    from .journal import Journal
    from .stats import model_stats

    journal = Journal.open_default()
    try:
        record = {s.model: s for s in model_stats(journal, since, by_model=True)}
    finally:
        journal.close()
    return rank(slot, default_catalog().models.values(), record, parse_needs(needs), by)


def ranking_json(
    frames: int,
    fps: str | int,
    size: str,
    needs: str | Sequence[str] | None = None,
    by: By = "score",
    bit_depth: int = 10,
) -> dict[str, Any]:
    """The ranking for a slot described by numbers, as JSON-able data: what `promptreel models --frames
    --fps --size --json` prints, and what the panel's model picker shows."""
    return load_ranking(sketch_slot(frames, fps, size, bit_depth), needs, by).as_dict()
