"""Planning: validate a request against the catalog, and turn a slot into a request.

Pure functions: no I/O beyond checking that input images exist (and, for a local draft long
enough to matter, reading the settings and the free disk). A request the model
cannot serve is refused here, before any money is spent, naming the allowed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Model, Size
from .errors import BadInput, UnsupportedRequest, UserError
from .frames import rate_label
from .request import GenerationRequest, Shot, Slot

if TYPE_CHECKING:
    from .settings import Settings


@dataclass(frozen=True)
class PlannedRequest:
    """A request the model can serve, the slot it is for, and anything the editor should know."""

    request: GenerationRequest
    slot: Slot | None = None
    warnings: list[str] = field(default_factory=list)
    # The take's frame (at request.fps) the slot starts at: its shot of a multi-shot take. None: conform picks.
    in_point: int | None = None

    @property
    def generated_seconds(self) -> Fraction:
        r = self.request
        if r.frames is not None and r.fps is not None:
            return Fraction(r.frames) / r.fps
        assert r.seconds is not None, "a checked request has a length"
        return Fraction(r.seconds)


def _aspect_distance(a: Size, b: Size) -> float:
    # Ratio distance in log space: 16:9 vs 9:16 is as far as 9:16 vs 16:9. Only ranks candidates.
    return abs(math.log((a.width * b.height) / (a.height * b.width)))


# A generated size "covers" a target when filling the target frame needs at most this much
# upscaling: 1920x1080 covers a 2048x858 scope slot (x1.067) instead of paying for 4K.
UPSCALE_TOLERANCE = Fraction(115, 100)


def fill_scale(source: Size, target: Size) -> Fraction:
    """Scale factor that makes `source` cover `target` (Resolve's "scale full frame with crop")."""
    return max(Fraction(target.width, source.width), Fraction(target.height, source.height))


def nearest_sizes(model: Model, target: Size, with_image: bool) -> list[Size]:
    """The model's sizes at the aspect nearest the target, best first: the smallest that
    covers the target (within UPSCALE_TOLERANCE), then larger ones, then smaller ones."""
    sizes = model.all_sizes(with_image=with_image)
    best = min(_aspect_distance(s, target) for s in sizes)
    same_aspect = [s for s in sizes if _aspect_distance(s, target) - best < 1e-9]
    covering = sorted(
        (s for s in same_aspect if fill_scale(s, target) <= UPSCALE_TOLERANCE), key=lambda s: s.width * s.height
    )
    smaller = sorted((s for s in same_aspect if s not in covering), key=lambda s: -s.width * s.height)
    return covering + smaller


def nearest_fps(model: Model, rate: Fraction) -> int:
    return min(model.fps, key=lambda f: (abs(Fraction(f) - rate), -f))


def lifecycle_warnings(model: Model, today: date | None = None) -> list[str]:
    """Refuse a model its vendor has ended (naming what replaces it); say what the editor should know
    of one that is deprecated, or of a route that shut down after this catalog was written."""
    from .catalog import Catalog, default_catalog

    try:
        catalog = default_catalog()
    except UserError:  # the replacements are only named from it; the model itself is refused either way
        catalog = Catalog(models={})
    catalog.refuse_if_retired(model, today)
    warnings = []
    if model.lifecycle.state(today) == "deprecated":
        when = f" and shuts down on {model.lifecycle.shutdown_on}" if model.lifecycle.shutdown_on else ""
        warnings.append(f"{model.name} is deprecated{when}. {model.lifecycle.note}".strip())
    now = model.usable_routes(today)
    for r in model.routes:
        # A route the catalog still lists as live whose date has passed: retired today, without a release.
        if r.status != "retired" and not r.usable(today):
            instead = f"it goes through {now[0].label()} instead" if now else "no route is left"
            warnings.append(f"{model.name} via {r.label()} shut down on {r.shutdown_on}; {instead}.")
    return warnings


def check_request(
    req: GenerationRequest, model: Model, settings: Settings | None = None, check_files: bool = True
) -> list[str]:
    """Refuse what the model cannot make; return warnings for what it can but the editor should know.

    `settings` (loaded when needed and not given) say whether a long local draft may render.
    `check_files` False leaves input images unread: a request sketched to compare models names none yet."""
    warnings = lifecycle_warnings(model)
    if len(req.prompt) > model.prompt_max_chars:
        raise UnsupportedRequest(
            f"The prompt is {len(req.prompt)} characters; {model.name} takes at most {model.prompt_max_chars}.",
            "Shorten the prompt.",
        )
    _check_inputs(req, model, check_files)
    if req.negative_prompt and not model.negative_prompt:
        warnings.append(f"{model.name} has no negative prompt; it will not be sent.")
    if req.seed is not None and not model.seed:
        warnings.append(f"{model.name} takes no seed; takes will differ even with the same seed.")
    if req.shots and (len(req.shots) > model.max_shots or sum(s.seconds for s in req.shots) != req.seconds):
        raise UnsupportedRequest(
            f"{model.name} cannot make {len(req.shots)} shots of {'+'.join(str(s.seconds) for s in req.shots)} s "
            f"in a {req.seconds} s take.",
            f"It makes at most {model.max_shots} shot(s) a take, their seconds adding up to the take's.",
        )
    if req.audio and model.audio == "none":
        raise UnsupportedRequest(f"{model.name} makes no audio.", "Turn audio off or choose a model with audio.")
    _check_size_and_length(req, model)
    if any(r.protocol == "draft" for r in model.usable_routes()):
        from .providers.draft import check_draft

        warnings.extend(check_draft(req, settings))
    return warnings


def _check_inputs(req: GenerationRequest, model: Model, check_files: bool) -> None:
    """The images and videos given are ones the model takes, all it needs, and readable."""
    given = {
        "first_frame": req.first_frame is not None,
        "last_frame": req.last_frame is not None,
        "reference_images": bool(req.reference_images),
        "extend": req.extend_video is not None,
        "remix": req.remix_of is not None,
    }
    for name, present in given.items():
        if present and name not in model.inputs:
            accepted = ", ".join(model.inputs) or "no image or video inputs"
            raise UnsupportedRequest(
                f"{model.name} does not accept a {name.replace('_', ' ')} input.",
                f"It accepts: {accepted}. Drop that input or choose another model.",
            )
    for name in model.requires:
        if not given[name]:
            raise UnsupportedRequest(
                f"{model.name} needs a {name.replace('_', ' ')} input.",
                f"Give one with --{name.replace('_', '-')} PATH.",
            )
    if req.last_frame is not None and req.first_frame is None and not model.last_frame_alone:
        raise UnsupportedRequest("A last frame needs a first frame too.", "Give --first-frame as well.")
    if len(req.reference_images) > model.max_reference_images:
        raise UnsupportedRequest(
            f"{model.name} takes at most {model.max_reference_images} reference images; "
            f"got {len(req.reference_images)}.",
            "Give fewer reference images.",
        )
    for path in (req.first_frame, req.last_frame, *req.reference_images):
        if check_files and path is not None and not _readable(path):
            raise BadInput(f"Input image {path} is missing or unreadable.", "Check the path.")


def _check_size_and_length(req: GenerationRequest, model: Model) -> None:
    """A size the model makes, and a length it makes: any, or one of its whole-second durations at its rates."""
    size = req.size
    if size is not None and not model.any_size:
        offered = model.all_sizes(with_image=req.first_frame is not None)
        if size not in offered:
            raise UnsupportedRequest(
                f"{model.name} cannot make {size}.", f"Allowed sizes: {', '.join(str(s) for s in offered)}."
            )
    if model.any_duration:
        if (req.frames is None or req.fps is None) and req.seconds is None:
            raise UnsupportedRequest("The request has no length.", "Give --seconds, or --frames with --fps.")
        return
    if req.frames is not None:
        raise UnsupportedRequest(
            f"{model.name} makes whole-second lengths, not exact frame counts.",
            "Give --seconds, or fill a slot: conform trims to the exact frame count.",
        )
    allowed = model.allowed_durations(size)
    if req.seconds is None or req.seconds not in allowed:
        at = f" at {size}" if size is not None and model.durations_by_resolution else ""
        raise UnsupportedRequest(
            f"{model.name} cannot make {req.seconds} s{at}.",
            f"Allowed durations{at}: {', '.join(str(d) for d in allowed)} s.",
        )
    if req.fps is not None and req.fps not in model.fps:
        raise UnsupportedRequest(
            f"{model.name} cannot make {rate_label(req.fps)} fps.",
            f"It makes {', '.join(str(f) for f in model.fps)} fps; conform changes the rate afterwards.",
        )


def cast_request(req: GenerationRequest, model: Model) -> tuple[GenerationRequest, list[str]]:
    """`req` with the `@names` of its prompt (and its shots') resolved from the cast (core/cast.py): the words
    written out, the members' images as reference images where the model takes them, their names in its tags.
    Raises for a name not in the cast, before anything is spent."""
    from .cast import cast_for, resolve

    casting = cast_for(req.prompt, model, req.reference_images)
    if not casting.tags:
        return req, []
    shots = tuple(s.model_copy(update={"prompt": resolve(s.prompt)[0]}) for s in req.shots)
    return req.model_copy(
        update={
            "prompt": casting.prompt,
            "reference_images": casting.reference_images,
            "shots": shots,
            "tags": {**req.tags, **casting.tags},
        }
    ), casting.warnings


def reword(planned: PlannedRequest, slot: Slot) -> PlannedRequest:
    """The plan of `slot` from the plan of a slot alike in all but its words (same model, length, size, inputs
    and cast names): that plan's request with `slot`'s own words, as plan_slot would make it, without
    planning again (a 10,000-placeholder timeline plans each shape once)."""
    from .cast import resolve

    tags = {k: v for k, v in planned.request.tags.items() if k != "shot"}
    if slot.name:
        tags["shot"] = slot.name
    return PlannedRequest(
        planned.request.model_copy(
            update={
                "prompt": resolve(slot.prompt)[0],
                "tags": tags,
                "seed": slot.seed,
                "negative_prompt": slot.negative_prompt,
            }
        ),
        slot,
        planned.warnings,
    )


def _readable(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


def plan_slot(
    slot: Slot,
    model: Model,
    handles: int = 0,
    size: Size | None = None,
    settings: Settings | None = None,
    check_files: bool = True,
    **extra: Any,
) -> PlannedRequest:
    """The request that covers `slot` (plus `handles` frames each side) on `model`, checked
    (`settings` and `check_files` as for check_request).

    Shortest allowed generation that covers the slot; size nearest the slot's aspect
    (or `size` if the editor chose one); fps nearest the timeline rate.
    """
    need_frames = slot.frames + slot.drop_last + 2 * handles
    need = Fraction(need_frames) / slot.rate
    with_image = slot.first_frame is not None
    common = dict(
        prompt=slot.prompt,
        negative_prompt=slot.negative_prompt,
        model=model.id,
        seed=slot.seed,
        first_frame=slot.first_frame,
        last_frame=slot.last_frame,
        remix_of=slot.remix_of,
        tags={"shot": slot.name} if slot.name else {},
    )
    common.update(extra)
    if model.any_duration:
        req, cast_warnings = cast_request(
            GenerationRequest(frames=need_frames, fps=slot.rate, size=size or slot.size, **common), model
        )
        return PlannedRequest(req, slot, check_request(req, model, settings, check_files) + cast_warnings)

    candidates = [size] if size is not None else nearest_sizes(model, slot.size, with_image)
    for cand in candidates:
        allowed = model.allowed_durations(cand)
        covering = [d for d in allowed if d >= need]
        if not covering and slot.remix_of and allowed:
            covering = [max(allowed)]  # an edit is as long as its source: the length asked is not the limit
        if covering:
            req, cast_warnings = cast_request(
                GenerationRequest(seconds=min(covering), size=cand, fps=nearest_fps(model, slot.rate), **common), model
            )
            return PlannedRequest(req, slot, check_request(req, model, settings, check_files) + cast_warnings)
    longest = max((max(model.allowed_durations(c), default=0) for c in candidates), default=0)
    sizes = ", ".join(str(c) for c in candidates)
    raise UnsupportedRequest(
        f"The slot is {float(need):.2f} s ({need_frames} frames at {rate_label(slot.rate)}"
        f"{f', with {handles} handle frames each side' if handles else ''}); {model.name} makes at most "
        f"{longest} s at {sizes}.",
        "Shorten the slot, split it into shots, or choose a model that makes longer clips.",
    )


def plan_shots(slots: Sequence[Slot], model: Model, settings: Settings | None = None) -> list[PlannedRequest]:
    """One multi-shot generation for consecutive slots, as one plan per slot: the same request (so the
    engine makes one job), each with the frame its own shot starts at in the take.

    Each shot is the whole seconds that cover its slot at the model's rate without a speed change or
    borrowing a frame of the next shot; the last shot is lengthened to the model's shortest take."""
    first = slots[0]
    if len(slots) > model.max_shots:
        raise UnsupportedRequest(
            f"{len(slots)} shots in one multi-shot take; {model.name} makes at most {model.max_shots}.",
            "Group fewer consecutive placeholders.",
        )
    if any((s.rate, s.size) != (first.rate, first.size) for s in slots):
        raise UnsupportedRequest(
            "The shots of one multi-shot take must share a frame rate and size.",
            "Group placeholders of one track only.",
        )
    fps = nearest_fps(model, first.rate)
    size = nearest_sizes(model, first.size, with_image=False)[0]
    # Source frames a slot takes: one each at a rate within a speed change, more when resampled to a lower rate.
    seconds = [math.ceil(Fraction(max(s.frames, math.ceil(s.frames * fps / s.rate)), fps)) for s in slots]
    covering = [d for d in model.allowed_durations(size) if d >= sum(seconds)]
    if not covering:
        raise UnsupportedRequest(
            f"The {len(slots)} shots need {sum(seconds)} s in one take ({' + '.join(map(str, seconds))}); "
            f"{model.name} makes at most {max(model.allowed_durations(size))} s.",
            "Group fewer or shorter placeholders, or fill them one by one.",
        )
    seconds[-1] += min(covering) - sum(seconds)
    names = [s.name for s in slots if s.name]
    req = GenerationRequest(
        prompt=" / ".join(s.prompt for s in slots),
        negative_prompt=first.negative_prompt,
        model=model.id,
        seed=first.seed,
        seconds=min(covering),
        size=size,
        fps=fps,
        shots=tuple(Shot(prompt=s.prompt, seconds=n) for s, n in zip(slots, seconds)),
        tags={"shot": " + ".join(names)} if names else {},
    )
    req, cast_warnings = cast_request(req, model)
    warnings = check_request(req, model, settings) + cast_warnings
    starts = [sum(seconds[:i]) * fps for i in range(len(slots))]
    return [PlannedRequest(req, s, warnings, in_point=start) for s, start in zip(slots, starts)]


def group_shots(
    planned: Sequence[PlannedRequest], models: dict[str, Model], settings: Settings | None = None
) -> list[PlannedRequest]:
    """Runs of consecutive slots of one multi-shot `group` on one model that makes multi-shot takes become
    one generation each (plan_shots, at most the model's shots a take); every other plan stays as it is."""
    out = list(planned)
    i = 0
    while i < len(out):
        slot, model = out[i].slot, models.get(out[i].request.model)
        j = i + 1
        if slot is not None and slot.group and model is not None and model.max_shots > 1:
            run = [slot]
            while j < len(out) and j - i < model.max_shots and out[j].request.model == model.id:
                following = out[j].slot
                if following is None or following.group != slot.group:
                    break
                run.append(following)
                j += 1
            if j - i > 1:
                out[i:j] = plan_shots(run, model, settings)
        i = j
    return out
