"""The panel's API for new footage: generate takes of a prompt (into the bin, or in file mode into
promptreel's media folder as takes) and create a draft slate."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promptreel.core import takes

from . import bins, filemode, panel_requests as req, panel_settings
from .costs import estimate
from .fill import conform_target
from .panel_context import PanelContext
from .panel_fills import cost_of


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    both: dict[tuple[str, str], Callable[[dict], dict]] = {("POST", "/api/generate"): partial(generate, panel)}
    if panel.mode == "file":
        return both
    return {**both, ("POST", "/api/draft"): partial(draft, panel)}


def generate(panel: PanelContext, body: dict) -> dict:
    """Takes of one prompt into the bin: on the chosen model (`variants` times), or with `models` given,
    an A/B: the same prompt on each model, side by side as `shot — model`."""
    if panel.mode == "file":
        return _generate_offline(panel, body)
    s = panel_settings.load()
    frames, variants = req.frames(body), req.variants(body)
    models = req.models(body, s.model)
    # Each model gets the prompt built for its family (a template or shot fields), refused before anything is spent.
    built = {m: req.built(body, m) for m in models}
    cost_of(panel, body).refuse_if_over("Generating")
    _, target = conform_target(panel.gateway(), s.bit_depth)
    first = built[models[0]]
    slot = target.slot(frames, first.text, negative_prompt=first.negative_prompt, spec=req.spec(body))
    made = bins.generate_takes(
        panel.gateway(),
        panel.maker(),
        slot,
        models,
        variants,
        template=s.bin,
        shot=str(body.get("shot") or ""),
        journal=panel.journal(),
        per_model={m: {"prompt": b.text, "negative_prompt": b.negative_prompt} for m, b in built.items()},
    )
    return {
        "clips": [c.name for c in made.clips],
        "group": made.group,
        "failed": [{"item": name, "error": why} for name, why in made.failed],
    }


def _generate_offline(panel: PanelContext, body: dict) -> dict:
    """File mode: no bin without Resolve, so the takes go to promptreel's media folder at the settings'
    frame size and the given rate, recorded as takes (the Takes list: compare, choose, provenance)."""
    from promptreel.core.conform.plan import Choices
    from promptreel.core.frames import parse_rate
    from promptreel.core.settings import output_dir
    from promptreel.core.slots import FillSettings, fill_slots_sync

    from .target import ConformTarget

    s = panel_settings.load()
    models, variants = req.models(body, s.model), req.variants(body)
    built = {m: req.built(body, m) for m in models}  # refused before anything is spent
    rate = parse_rate(str(body.get("rate") or "24"))
    target = ConformTarget(
        rate=rate, width=s.size.width, height=s.size.height, fit=filemode.conform_fit(s), bit_depth=s.bit_depth or 10
    )
    first = built[models[0]]
    shot = str(body.get("shot") or "").strip() or takes.shot_name(first.text)
    slot = target.slot(
        req.frames(body), first.text, name=shot, negative_prompt=first.negative_prompt, spec=req.spec(body)
    )
    req.total(
        [estimate([(f"generate on {m}", slot)], m, s.budget_usd, times=variants) for m in models], s.budget_usd
    ).refuse_if_over("Generating")
    slots = [
        x.model_copy(
            update={"prompt": built[x.model or ""].text, "negative_prompt": built[x.model or ""].negative_prompt}
        )
        for x in takes.take_slots(slot, models, variants)
    ]
    settings = FillSettings(
        output_dir=output_dir() / "takes",
        choices=Choices(fit=target.fit),
        codec=s.codec,
        budget=s.budget_usd,
        project=s.project,
    )
    clips = fill_slots_sync(slots, settings, on_event=getattr(panel.engine_jobs, "on_event", None))
    group = takes.record_takes(panel.journal(), shot, clips, "ab" if len(models) > 1 else "variants")
    return {
        "clips": [str(c.path) for c in clips if c.ok],
        "group": group,
        "failed": [{"item": f"{shot} — {c.slot.model}", "error": c.error} for c in clips if not c.ok],
    }


def draft(panel: PanelContext, body: dict) -> dict:
    """A draft slate of the typed length at the project's rate and size, into the drafts bin: the
    `draft` model (local, free) whatever the chosen model. It carries the prompt built for the chosen
    model, which is what Fill will send when it replaces the draft."""
    s = panel_settings.load()
    _, target = conform_target(panel.gateway(), s.bit_depth)
    built = req.built(body, s.model)
    slot = target.slot(
        req.frames(body), built.text, model="draft", negative_prompt=built.negative_prompt, spec=req.spec(body)
    )
    clip = bins.create_draft(panel.gateway(), panel.maker(), slot)
    return {"clip": clip.name, "clip_id": clip.id}
