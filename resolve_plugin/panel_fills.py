"""The panel's API for the timeline (connected mode): estimate, fill, extend, edit, revert and promote,
each refused before any spend when over budget or asked wrongly."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promptreel.core import takes
from promptreel.core.errors import BadInput, UserError

from . import filemode, panel_cuts as cuts, panel_multishot, panel_requests as req, panel_settings
from .costs import CostEstimate, estimate as price
from .fill import (
    chosen_placeholders,
    conform_target,
    fill as fill_timeline,
    one_per_draft,
    promote as promote_clip,
    revert as revert_edit,
    slot_for,
)
from .panel_context import PanelContext


def routes(panel: PanelContext) -> dict[tuple[str, str], Callable[[dict], dict]]:
    """`estimate` answers in both modes (file mode: an export's); the rest need Resolve."""
    both: dict[tuple[str, str], Callable[[dict], dict]] = {("POST", "/api/estimate"): partial(estimate, panel)}
    if panel.mode == "file":
        return both
    return {
        **both,
        ("POST", "/api/fill"): partial(fill, panel),
        ("POST", "/api/revert"): partial(revert, panel),
        ("POST", "/api/revert-fill"): partial(panel_multishot.revert_fill, panel),
        ("POST", "/api/promote"): partial(promote, panel),
        ("POST", "/api/extend"): partial(extend, panel),
        ("POST", "/api/edit"): partial(edit, panel),
    }


def cost_of(panel: PanelContext, body: dict) -> CostEstimate:
    """What a request would cost: a generation's takes, the chosen placeholders' fills, or (file mode)
    an export's."""
    s = panel_settings.load()
    if panel.mode == "file":
        return filemode.estimate_export(
            panel.watcher().path(str(body.get("name") or "")), s, multi_shot=panel_multishot.asks(body)
        )
    gw = panel.gateway()
    _, target = conform_target(gw, s.bit_depth)
    if req.asks_generation(body):  # generate to bin: each model of an A/B, `variants` times
        slot = target.slot(req.frames(body), req.built(body, req.models(body, s.model)[0]).text)
        return req.total(
            [
                price([(f"generate on {m}", slot)], m, s.budget_usd, times=req.variants(body))
                for m in req.models(body, s.model)
            ],
            s.budget_usd,
        )
    if panel_multishot.asks(body):
        return panel_multishot.cost(panel, body)
    # A draft cut several times is filled once (one job, one ReplaceClip): listed once.
    found = one_per_draft(chosen_placeholders(gw.timeline(), body.get("item_ids")))
    # Each placeholder on each model of an A/B (`models`; else the chosen one), `variants` times.
    return req.total(
        [
            price([(p.label, slot_for(p, target, model=m)) for p in found], m, s.budget_usd, times=req.variants(body))
            for m in req.models(body, s.model)
        ],
        s.budget_usd,
    )


def estimate(panel: PanelContext, body: dict) -> dict:
    return cost_of(panel, body).summary()


def fill(panel: PanelContext, body: dict) -> dict:
    s = panel_settings.load()
    multi_shot = panel_multishot.asks(body)
    cost_of(panel, body).refuse_if_over("This fill")  # multi-shot: refuses A/B takes and variants too
    # With `models` (an A/B) or `variants` > 1, every placeholder gets takes (its Take Selector, or the bin);
    # with multi-shot, each group is one job, one edit per placement (`/api/revert-fill` reverts them all).
    report = fill_timeline(
        panel.gateway(),
        panel.maker(),
        item_ids=body.get("item_ids"),
        bit_depth=s.bit_depth,
        bin_template=s.bin,
        model=s.model,
        models=req.models(body, s.model) if "models" in body else None,
        variants=req.variants(body),
        multi_shot=multi_shot,
    )
    done = {
        "filled": [r.id for r in report.edits],
        "failed": [{"item": i, "error": e} for i, e in report.failed],
        "takes": [t.as_dict() for t in report.takes],
    }
    if multi_shot:
        done["jobs"] = len({r.job_id for r in report.edits})
    return done


def extend(panel: PanelContext, body: dict) -> dict:
    """Extend one clip (`item_id`) by `frames` at its `edge` (tail or head) on `model` (default: the settings')."""
    from .extend import extend as extend_clip

    s = panel_settings.load()
    record = extend_clip(
        panel.gateway(),
        panel.maker(),
        str(body.get("item_id", "")),
        cuts.whole(body, "frames", 0, "24"),
        model=str(body.get("model") or s.model),
        prompt=body.get("prompt") or None,
        bin_template=s.bin,
        bit_depth=s.bit_depth,
        edge=cuts.edge(body),
    )
    placed = record.placed
    assert placed is not None  # an extension's record is a placement
    return {"edit": record.id, "track": placed.track, "start": placed.start}


def edit(panel: PanelContext, body: dict) -> dict:
    """Edit one clip (`item_id`) with `instruction` on `model`, whole or `split`: the result becomes a take of it."""
    from .edit import edit as edit_clip

    s = panel_settings.load()
    record = edit_clip(
        panel.gateway(),
        panel.maker(),
        str(body.get("item_id", "")),
        str(body.get("instruction") or ""),
        model=str(body.get("model") or s.model),
        handles=cuts.whole(body, "handles", 0, "8"),
        bin_template=s.bin,
        bit_depth=s.bit_depth,
        split=cuts.split(body),
    )
    return {"edit": record.id}


def revert(panel: PanelContext, body: dict) -> dict:
    return {"reverted": revert_edit(panel.gateway(), str(body.get("edit_id", ""))).id}


def promote(panel: PanelContext, body: dict) -> dict:
    """Render a chosen take (`take_id`) or draft (`item_id`, on the timeline) again on the final model
    and replace it in place; revertible like any fill."""
    s = panel_settings.load()
    final = str(body.get("model") or s.model)
    if body.get("item_id"):  # a draft: its fill, on the final model
        (draft,) = chosen_placeholders(panel.gateway().timeline(), [str(body["item_id"])])
        if draft.kind != "draft":
            raise BadInput(f"{draft.label} is not a promptreel draft.", "Use Fill for other placeholders.")
        _, target = conform_target(panel.gateway(), s.bit_depth)
        price([(draft.label, slot_for(draft, target, model=final))], final, s.budget_usd).refuse_if_over("Promoting")
        report = fill_timeline(
            panel.gateway(),
            panel.maker(),
            item_ids=[draft.item.id],
            bit_depth=s.bit_depth,
            bin_template=s.bin,
            model=final,
        )
        if report.failed:
            raise UserError(report.failed[0][1], "The draft is unchanged.")
        return {"promoted": report.edits[0].id}
    take = takes.get_take(panel.journal(), str(body.get("take_id") or ""))
    clip_id = take.provenance.get("resolve_clip")
    if not clip_id:
        raise BadInput(f"Take {take.id} was not made into a Resolve bin.", "Promote a take from this panel's list.")
    slot = takes.promote_slot(take.slot, take, final)
    price([(f"{take.shot} — {take.model}", slot)], final, s.budget_usd).refuse_if_over("Promoting")
    record, made = promote_clip(panel.gateway(), panel.maker(), clip_id, slot)
    takes.record_takes(panel.journal(), take.shot, [made.placed_at(resolve_clip=clip_id)], "promote", source=take.id)
    return {"promoted": record.id}
