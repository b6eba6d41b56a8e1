"""Fill placeholders in Resolve frame-exact, prove it by reading back, and revert.

A foreign placeholder (generator, title, offline or marked clip) stays where it is, disabled; the
conformed clip goes on the first free unlocked video track above it at the same record frame. A
draft keeps its pool item: `ReplaceClip` swaps its media, so every use keeps its in/out points.
Each fill is checked by reading its track back over the slot (quirks 3, 4, 5: AppendToTimeline drops
overlaps silently, its return is no proof, mixed rates land short); a fill that does not verify is
undone and reported. Each verified fill is recorded for revert. Every scripting call is a round trip to
Resolve, so a fill reads the whole timeline once, keeps that read current as it places, and costs the
same per placeholder on a cut of any length (bench/resolve_calls.py). Placeholders that ask for the
identical generation make one job (clipmaker.make_many); a draft cut several times is replaced once,
under one record of every use.

An A/B or variants fill (`models`, `variants`) places the first take as above. On a foreign
placeholder every other take is added to the placed item as a take (Resolve's Take Selector), each
proven to last the slot exactly; one that does not, or a Resolve without AddTake, leaves that take
side by side in the bin as `shot — model`. A draft's other takes always go to the bin: its fill
replaces the pool item's media everywhere it is used (every use, every timeline), which a take
selector on one item cannot follow; the bin keeps them one promote away.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from promptreel.core.catalog import default_catalog
from promptreel.core.errors import BadInput, UserError
from promptreel.core.made import MadeClip
from promptreel.core.request import Slot
from promptreel.core.stills import frame_still
from promptreel.core.takes import record_takes, take_slots, worded_for

from . import edits, multishot
from .bins import DEFAULT_BIN, ToImport, import_many, import_tagged, take_name
from .clipmaker import NS, ClipMaker, make_many, provenance
from .edits import EditRecord, Placed, Replaced, ShotTakes, Use, using_journal
from .errors import NoPlaceholders, NoProject, NoTimeline, PlaceholderProblem, PlacementFailed, ResolveRefused
from .gateway import Clip, Gateway, Item, ProjectInfo, TimelineState, Track
from .placeholders import ResolvePlaceholder, check_fillable, find_placeholders, prompt_spec
from .target import ConformTarget, parse_timeline_rate, target_from_settings

log = logging.getLogger(__name__)

# The name of a video track a fill adds: revert removes the track again only while it still has this
# name and nothing on it (an editor who renames it or cuts onto it has made it theirs).
TRACK_NAME = "promptreel"


@dataclass
class ResolveFillReport:
    """What a fill in Resolve did: the edits made, what failed, the takes per placeholder (core/timeline's
    `FillReport` is the OTIO fill's)."""

    edits: list[EditRecord] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (placeholder or take label, what went wrong)
    takes: list[ShotTakes] = field(default_factory=list)  # per placeholder, for an A/B or variants fill


def conform_target(gw: Gateway, bit_depth: int | None = None) -> tuple[ProjectInfo, ConformTarget]:
    project = gw.project()
    if project.timeline is None:
        raise NoTimeline("The project has no current timeline.", "Open the timeline to fill in Resolve.")
    return project, target_from_settings(project.settings, bit_depth)


def slot_for(
    ph: ResolvePlaceholder,
    target: ConformTarget,
    first_frame: Path | None = None,
    last_frame: Path | None = None,
    model: str | None = None,
) -> Slot:
    """The placeholder's slot on `model`; a `gen: template=…` prompt is built for that model's family
    (unknown template, missing value: refused naming the placeholder, before anything is spent)."""
    frames = ph.draft_frames if ph.kind == "draft" else ph.item.duration
    spec = prompt_spec(ph)
    slot = target.slot(
        frames,
        spec.describe() if spec else ph.prompt,
        name=ph.item.name,
        first_frame=first_frame,
        last_frame=last_frame,
        model=model,
        spec=spec,
    )
    return _worded(ph, slot, [model or "draft"])


def _worded(ph: ResolvePlaceholder, slot: Slot, models: list[str]) -> Slot:
    """`slot` worded for the first of `models`, each of them checked; errors name the placeholder."""
    if slot.spec is None:
        return slot
    catalog = default_catalog()
    try:
        worded = [worded_for(slot, catalog.get(m)) for m in models]
    except UserError as e:
        raise PlaceholderProblem(f"The placeholder {ph.label}: {e.problem}", e.fix) from None
    return worded[0]


def neighbour_stills(
    gw: Gateway, state: TimelineState, ph: ResolvePlaceholder, folder: Path, rate: Fraction | None = None
) -> tuple[Path | None, Path | None]:
    """The frames just before and just after the slot, for models that take first/last frames: the shot shown
    there (the topmost enabled clip) read from its media at the source frame it shows (its in point, at the
    media's own rate; `rate` is the timeline's), or exported from Resolve where its media is no file here.
    None where nothing enabled is cut there (the head or tail of the timeline, or a gap)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path | None] = []
    for frame, name in ((ph.item.start - 1, "before"), (ph.item.end, "after")):
        shown = [
            it
            for t in state.tracks
            for it in t.items
            if it.enabled and it.kind == "clip" and it.start <= frame < it.end and it.id != ph.item.id
        ]
        if not shown:
            out.append(None)
            continue
        try:
            out.append(
                _media_still(state, max(shown, key=lambda it: it.track), frame, rate, folder)
                or gw.export_still(frame, folder / f"{ph.item.id}-{name}.png")
            )
        except (ResolveRefused, UserError):
            out.append(None)  # a missing neighbour frame is a hint lost, not a failed fill
    return out[0], out[1]


def _neighbours(
    gw: Gateway, state: TimelineState, ph: ResolvePlaceholder, folder: Path, rate: Fraction, model: str | None
) -> tuple[Path | None, Path | None]:
    """The neighbour stills `model` takes (both when the ClipMaker chooses the model): a first frame, and a last
    frame only with it (no route takes a last frame alone, as a fill's would be)."""
    inputs = default_catalog().get(model).inputs if model else ["first_frame", "last_frame"]
    if "first_frame" not in inputs:
        return None, None
    first, last = neighbour_stills(gw, state, ph, folder, rate)
    return first, last if first is not None and "last_frame" in inputs else None


def _media_still(state: TimelineState, item: Item, frame: int, rate: Fraction | None, folder: Path) -> Path | None:
    """Record frame `frame` of `item` read from its media file (None: no file here). At 100% speed Resolve plays
    a clip of another rate in real time: its source frame is its left offset (source frames, quirk 17) plus
    the record frames since its start, converted to the media's rate."""
    clip = state.clips.get(item.clip_id)
    if clip is None or not clip.path or not Path(clip.path).is_file():
        return None
    media_rate = parse_timeline_rate(clip.fps)[0] if clip.fps else rate
    if media_rate is None:
        return None
    elapsed = Fraction(frame - item.start)
    source = item.left_offset + math.floor(elapsed * media_rate / (rate or media_rate))
    return frame_still(Path(clip.path), source, media_rate, folder)


def chosen_placeholders(state: TimelineState, item_ids: list[str] | None = None) -> list[ResolvePlaceholder]:
    """The timeline's placeholders (those with `item_ids`, if given); refuses when there are none."""
    found = find_placeholders(state)
    if item_ids is not None:
        found = [p for p in found if p.item.id in set(item_ids)]
    if not found:
        raise NoPlaceholders(
            f"No placeholders on timeline '{state.name}'.",
            "Mark a clip, generator or title with a marker named 'gen: <prompt>', or name it 'GEN: <prompt>'.",
        )
    return found


def fill(
    gw: Gateway,
    make_clip: ClipMaker,
    item_ids: list[str] | None = None,
    bit_depth: int | None = None,
    bin_template: str = DEFAULT_BIN,
    workers: int = 4,
    stills_dir: Path | None = None,
    model: str | None = None,
    models: list[str] | None = None,
    variants: int = 1,
    multi_shot: bool = False,
) -> ResolveFillReport:
    """Fill the timeline's placeholders (or those with `item_ids`) as one batch: generation runs
    concurrently, placement in record order; each item ends either filled and verified, or as it was.
    With `stills_dir`, the frames before and after each slot go to the model as first/last frames;
    `model` goes on every slot (None: the ClipMaker's own choice). With `models` (an A/B) or
    `variants` > 1, each placeholder gets every take (see the module's docstring). With `multi_shot`, each run
    of placeholders back to back on one track is one multi-shot take (as a shared `promptreel.group` always is:
    resolve_plugin/multishot.py)."""
    project, target = conform_target(gw, bit_depth)
    # The one read of the whole timeline for this fill (every call is a round trip to Resolve); it is kept
    # current as clips are placed, and each placement is proven by reading back only its track's range.
    state = gw.timeline()
    found = chosen_placeholders(state, item_ids)
    for ph in found:
        check_fillable(state, ph)  # refuse before any money is spent
    found = one_per_draft(found)
    slots = [
        slot_for(
            ph,
            target,
            *(_neighbours(gw, state, ph, stills_dir, target.rate, model) if stills_dir else (None, None)),
            model=model,
        )
        for ph in found
    ]
    if models is not None or variants > 1:
        if multi_shot:
            raise BadInput(
                "A multi-shot fill makes one take per group, not A/B takes or variants.",
                "Fill with multi-shot and one model, or without multi-shot for takes.",
            )
        return _fill_with_takes(
            gw,
            project,
            state,
            found,
            slots,
            make_clip,
            models or ([model] if model else []),
            variants,
            bin_template,
            workers,
        )
    # One engine batch (shared route limits and budget); identical requests are made once (make_many), but the
    # shots of a multi-shot take go as they are, each its own shot.
    found, slots = multishot.prepare(state, found, slots, multi_shot)  # refuses a group its model cannot take
    made = (multishot.make if any(s.group for s in slots) else make_many)(make_clip, slots, workers)
    imported = _import_once(gw, [m for ph, m in zip(found, made, strict=True) if ph.kind == "foreign"], bin_template)
    report = ResolveFillReport()
    for ph, slot, clip in zip(found, slots, made, strict=True):  # placement in record order (find_placeholders')
        if not clip.ok:
            report.failed.append((ph.label, str(clip.error)))
            continue
        try:
            record = fill_one(gw, project, state, ph, clip, bin_template, clip=imported.get(clip.path))
        except UserError as e:
            report.failed.append((ph.label, str(e)))
            continue
        report.edits.append(record)
        _record_take(ph, slot, clip, record)
    return report


def one_per_draft(found: list[ResolvePlaceholder]) -> list[ResolvePlaceholder]:
    """A draft's fill replaces its pool item's media under every use at once: one placeholder per draft pool
    item (its first use in record order) stands for them all, so the item is replaced once, by one job."""
    seen: set[str] = set()
    out = []
    for ph in found:
        if ph.kind == "draft":
            if ph.clip_id in seen:
                continue
            seen.add(ph.clip_id)
        out.append(ph)
    return out


def _import_once(gw: Gateway, made: list[MadeClip], bin_template: str) -> dict[Path, Clip | UserError]:
    """Every made clip imported and tagged in one bridge round trip, each file once however many placeholders
    share it (one job placed twice is one pool item cut twice). By file."""
    unique = list({m.path: m for m in made if m.ok}.values())
    try:
        clips: list[Clip | UserError] = import_many(gw, [ToImport(m) for m in unique], bin_template)
    except UserError as e:  # the whole op refused: each of its placeholders fails with it
        clips = [e] * len(unique)
    return dict(zip((m.path for m in unique), clips, strict=True))


def _record_take(ph: ResolvePlaceholder, slot: Slot, made: MadeClip, record: EditRecord) -> None:
    """Every fill is also its shot's take (kind "fill"), so the panel can promote it to the final model later."""
    clip_id = record.placed.clip_id if record.placed else record.replaced.clip_id
    with using_journal(None) as j:
        record_takes(j, ph.item.name or ph.label, [made.placed_at(resolve_clip=clip_id)], "fill")


def fill_one(
    gw: Gateway,
    project: ProjectInfo,
    state: TimelineState,
    ph: ResolvePlaceholder,
    made: MadeClip,
    bin_template: str = DEFAULT_BIN,
    name: str | None = None,
    save: bool = True,
    clip: Clip | UserError | None = None,
) -> EditRecord:
    """Place one made clip; `name` names it in the bin; with `save` False the caller journals the record.
    `state` is the fill's read of the timeline, updated here with what was placed. `clip`: `made` already
    imported and tagged, or why it could not be (a foreign placeholder's fill imports it otherwise)."""
    if isinstance(clip, UserError):
        raise clip
    if ph.kind == "draft":
        return _fill_draft(gw, project, state, ph, made, save)
    return _fill_foreign(gw, project, state, ph, made, bin_template, name, save, clip)


def _fill_with_takes(
    gw: Gateway,
    project: ProjectInfo,
    state: TimelineState,
    found: list[ResolvePlaceholder],
    slots: list[Slot],
    make_clip: ClipMaker,
    models: list[str],
    variants: int,
    bin_template: str,
    workers: int,
) -> ResolveFillReport:
    """Every take of every placeholder made as one batch, then placed placeholder by placeholder."""
    for ph, slot in zip(found, slots, strict=True):
        _worded(ph, slot, models)  # each model's wording checked, naming the placeholder, before spending
    groups = [take_slots(slot, models, variants) for slot in slots]  # refuses unknown models before spending
    made = iter(make_many(make_clip, [s for g in groups for s in g], workers))
    kind = "ab" if len(models) > 1 else "variants"
    report = ResolveFillReport()
    for ph, group in zip(found, groups, strict=True):
        report.takes.append(
            _place_takes(
                gw, project, state, ph, group, [next(made) for _ in group], bin_template, variants, kind, report
            )
        )
    return report


def _place_takes(  # noqa: C901 - places, imports and records each take; the steps share one timeline state
    gw: Gateway,
    project: ProjectInfo,
    state: TimelineState,
    ph: ResolvePlaceholder,
    slots: list[Slot],
    outcomes: list[MadeClip],
    bin_template: str,
    variants: int,
    kind: str,
    report: ResolveFillReport,
) -> ShotTakes:
    """The first made take filled as any fill; the others into the placed item's take selector (foreign)
    or side by side in the bin (drafts, or where a take selector refuses them). Every take that goes
    into the pool is imported and tagged in one bridge round trip. All are recorded as one group of
    takes, so any of them can be promoted; the fill's record keeps where each went."""
    shot = ph.item.name or ph.label
    out = ShotTakes(placeholder=ph.label)
    names = [take_name(shot, slot, variants) for slot in slots]
    made_at = [i for i, m in enumerate(outcomes) if m.ok]
    # A draft's first take replaces its media (ReplaceClip): only the others are imported.
    to_import = made_at[1:] if ph.kind == "draft" else made_at
    try:
        clips: list[Clip | UserError] = import_many(
            gw, [ToImport(outcomes[i], name=names[i]) for i in to_import], bin_template
        )
    except UserError as e:  # the whole op refused: each take fails with it, and is still recorded below
        clips = [e] * len(to_import)
    imported = dict(zip(to_import, clips, strict=True))
    record: EditRecord | None = None
    recorded: list[MadeClip] = []
    where: list[str] = []  # per recorded take: "placed", "selector", "bin" or "" (none)
    extra: list[tuple[int, Clip]] = []  # (index in recorded, its clip in the bin)
    try:
        for i, (made, name) in enumerate(zip(outcomes, names, strict=True)):
            if not made.ok:
                report.failed.append((name, str(made.error)))
                recorded.append(made)
                where.append("")
                continue
            clip = imported.get(i)
            try:
                if i == made_at[0]:
                    out.placed = name
                    if isinstance(clip, UserError):
                        raise clip
                    record = fill_one(gw, project, state, ph, made, bin_template, name=name, save=False, clip=clip)
                    placed_clip = record.placed.clip_id if record.placed else record.replaced.clip_id
                    recorded.append(made.placed_at(resolve_clip=placed_clip))
                    where.append("placed")
                    continue
                if isinstance(clip, UserError):
                    raise clip
            except UserError as e:
                report.failed.append((ph.label if name == out.placed else name, str(e)))
                recorded.append(replace(made, error=str(e)))
                where.append("")
                continue
            extra.append((len(recorded), clip))
            recorded.append(made.placed_at(resolve_clip=clip.id))
            where.append("bin")
        if record is None:
            out.placed = ""
            out.note = "Nothing was placed; the takes that were made are side by side in the bin." if extra else ""
        elif record.placed is not None and extra:
            try:
                _add_to_selector(gw, ph, record, extra, recorded, where, report, out)
            except UserError as e:
                out.note = f"The take selector could not be set up ({e.problem}): the other takes are in the bin."
        elif extra:
            out.note = (
                "A draft is replaced in place wherever it is used, which a take selector on one clip cannot "
                "follow: the other takes are side by side in the bin as 'shot — model'."
            )
    finally:
        for j, (rec, w, name) in enumerate(zip(recorded, where, names, strict=False)):
            if w == "selector":
                out.selector.append(name)
            elif w == "bin":
                out.in_bin.append(name)
            if w:
                recorded[j] = rec.placed_at(resolve_take=w)
        try:
            with using_journal(None) as j:
                out.group = record_takes(j, shot, recorded, kind)
        finally:
            if record is not None:  # whatever happened to its takes, the placed fill stays revertible
                record.takes = out
                edits.add(record)
                report.edits.append(record)
    return out


def _add_to_selector(
    gw: Gateway,
    ph: ResolvePlaceholder,
    record: EditRecord,
    extra: list[tuple[int, Clip]],
    recorded: list[MadeClip],
    where: list[str],
    report: ResolveFillReport,
    out: ShotTakes,
) -> None:
    """AddTake each extra clip to the placed item, proven in the bridge op; what does not stand stays in the bin."""
    placed = record.placed
    frames = placed.duration
    added = gw.add_takes(placed.item_id, [(clip.id, 0, frames) for _, clip in extra], frames)
    shown = added.shown
    if not added.available:
        out.note = (
            "This Resolve has no take selector for scripts (AddTake): the other takes are side by side "
            "in the bin as 'shot — model'."
        )
        return
    for (i, clip), result in zip(extra, added.takes, strict=True):
        if result.ok:
            where[i] = "selector"
            placed.takes.append(clip.id)
            recorded[i] = recorded[i].placed_at(resolve_item=placed.item_id)
            continue
        if result.reason == "refused":
            out.note = "Resolve refused some takes for the take selector: they are side by side in the bin."
            continue
        why = (
            f"'{clip.name}' {result.reason}, so it is not in the take selector"
            + ("" if result.removed else " (Resolve would not remove it: delete that take by hand)")
            + "; it is in the bin."
        )
        report.failed.append((clip.name, why))
        recorded[i] = replace(recorded[i], error=why)
    if (shown.start, shown.duration, shown.clip_id) != (placed.start, frames, placed.clip_id):
        log.error("the filled item shows %s after its takes were added", shown)
        report.failed.append(
            (
                ph.label,
                f"After its takes were added, {ph.label} shows {shown.duration} frames "
                f"at {shown.start}; select the first take in its Take Selector, or revert the fill.",
            )
        )


def _record(
    project: ProjectInfo, state: TimelineState, ph: ResolvePlaceholder, made: MadeClip, kind: str
) -> EditRecord:
    return EditRecord(
        kind=kind,
        project_id=project.id,
        timeline_id=state.id,
        timeline_name=state.name,
        job_id=made.provenance.job_id,
        placeholder_id=ph.item.id,
        placeholder_name=ph.item.name,
        placeholder_track=ph.item.track,
        placeholder_start=ph.item.start,
        placeholder_duration=ph.item.duration,
    )


def free_track(state: TimelineState, above: int, start: int, end: int) -> int | None:
    """The first unlocked video track above `above` with nothing over [start, end) (disabled items count:
    they still occupy the track, and AppendToTimeline drops overlaps, quirk 3)."""
    for track in state.tracks:
        if track.index > above and not track.locked and not any(it.overlaps(start, end) for it in track.items):
            return track.index
    return None


def _fill_foreign(
    gw: Gateway,
    project: ProjectInfo,
    state: TimelineState,
    ph: ResolvePlaceholder,
    made: MadeClip,
    bin_template: str,
    name: str | None = None,
    save: bool = True,
    clip: Clip | None = None,
) -> EditRecord:
    start, duration = ph.item.start, ph.item.duration
    clip = clip or import_tagged(gw, made, bin_template, name=name)
    if clip.frames != str(duration):
        raise PlacementFailed(
            f"The clip for {ph.label} has {clip.frames} frames; the slot has {duration}.",
            "It was imported into the bin but not placed; conform it again.",
        )
    track = free_track(state, ph.item.track, start, start + duration)  # the fill's read, kept current
    added = track is None
    if added:
        track = gw.add_track(TRACK_NAME)
        state.tracks.append(Track(index=track, name=TRACK_NAME))
    on_track = state.track(track)
    # Quirk 2: the only way to place a clip; source frames [0, duration), endFrame exclusive; quirk 20:
    # recordFrame absolute. The echoed ids are not proof of anything (quirk 4): the op reads the track
    # back over the slot, starting where the fill's read says the clip lands.
    placed = gw.place(
        clip.id,
        0,
        duration,
        track,
        start,
        timeline_id=state.id,
        disable=[ph.item.id],
        hint=sum(1 for it in on_track.items if it.end <= start),
    )
    landed = {it.id for it in placed.range if it.clip_id == clip.id} | {i for i in placed.returned if i}
    ok = [it for it in placed.range if it.clip_id == clip.id and it.start == start and it.duration == duration]
    if len(ok) != 1 or landed != {ok[0].id} or not placed.disabled.get(ph.item.id):
        left = undo_placement(gw, sorted(landed), ph.item.id)
        seen = (
            ", ".join(f"V{track} at {it.start} for {it.duration}" for it in placed.range if it.clip_id == clip.id)
            or "nothing"
        )
        if left:
            raise PlacementFailed(
                f"The fill for {ph.label} did not land as placed (found {seen}), and Resolve would not remove it.",
                f"Delete the clip '{clip.name}' on the timeline by hand (close any open dialog first).",
            )
        raise PlacementFailed(
            f"The fill for {ph.label} did not land as placed: expected V{track} at {start} for {duration} frames, "
            f"found {seen}. It has been removed and the placeholder re-enabled.",
            "Check for clips edited onto that range meanwhile, then fill again.",
        )
    item = ok[0].model_copy(update={"name": clip.name, "track": track})
    on_track.items = sorted([*on_track.items, item], key=lambda it: it.start)
    (state.item(ph.item.id) or ph.item).enabled = False
    record = _record(project, state, ph, made, "foreign")
    record.placed = Placed(
        item_id=item.id, clip_id=clip.id, track=track, start=start, duration=duration, added_track=added
    )
    if save:
        edits.add(record)
    return record


def undo_placement(gw: Gateway, placed_ids: list[str], placeholder_id: str) -> list[str]:
    """Remove what was placed and re-enable the placeholder; returns the ids Resolve would not remove."""
    left: list[str] = []
    if placed_ids:
        try:
            gone = gw.delete_items(placed_ids)  # opens the Edit page first (quirk 6) and reads back
        except UserError:
            gone = []
        left = sorted(set(placed_ids) - set(gone))
        if left:
            log.error("could not remove placed items %s", left)
    gw.set_enabled([placeholder_id], True)
    return left


def _fill_draft(
    gw: Gateway, project: ProjectInfo, state: TimelineState, ph: ResolvePlaceholder, made: MadeClip, save: bool = True
) -> EditRecord:
    """One record for the draft pool item and every use of it on the timeline: it is replaced once."""
    uses, old = _replace_media(gw, state, ph.clip_id, made, ph.label)
    record = _record(project, state, ph, made, "draft")
    record.uses = uses
    return _keep_replaced(record, ph.clip_id, old, made, save)


def _replace_media(
    gw: Gateway, state: TimelineState, clip_id: str, made: MadeClip, label: str
) -> tuple[list[Use], Clip]:
    """ReplaceClip the pool item's media with `made`, proven: same frames and rate, every use on the timeline
    (as `state` has them) where it was, each read back by id in the same round trip, the provenance written
    again. Anything else puts the old media back and refuses. Returns the uses and the clip as it was."""
    uses = [
        Use(item_id=it.id, track=it.track, start=it.start, duration=it.duration, left_offset=it.left_offset)
        for t in state.tracks
        for it in t.items
        if it.clip_id == clip_id
    ]
    metadata, third = provenance(made, role="take")
    # Quirk 7: ReplaceClip wipes metadata; the op writes it again and reports what did not stick.
    new = gw.replace_clip(clip_id, made.path, metadata=metadata, third_party=third, uses=[u.item_id for u in uses])
    old = new.before
    kept = [(it.id, it.start, it.duration, it.left_offset, it.clip_id) for it in new.uses]
    if (
        new.frames != old.frames
        or new.fps != old.fps
        or new.failed
        or kept != [(u.item_id, u.start, u.duration, u.left_offset, clip_id) for u in uses]
    ):
        _restore_draft(gw, clip_id, old.path, old.metadata, old.third_party, new.metadata)
        raise PlacementFailed(
            f"Replacing {label} did not keep its length, rate or uses "
            f"({new.frames} frames at {new.fps} for {old.frames} at {old.fps}). It has been restored.",
            "Conform the clip to its exact length and rate, then try again.",
        )
    return uses, old


def _keep_replaced(record: EditRecord, clip_id: str, old: Clip, made: MadeClip, save: bool = True) -> EditRecord:
    record.replaced = Replaced(
        clip_id=clip_id,
        old_path=old.path,
        new_path=str(made.path),
        old_metadata=old.metadata,
        old_third_party=old.third_party,
    )
    if save:
        edits.add(record)
    return record


def promote(gw: Gateway, make_clip: ClipMaker, clip_id: str, slot: Slot) -> tuple[EditRecord, MadeClip]:
    """Render `slot` (the chosen draft's or take's, on the final model) and put it under the pool item
    `clip_id` in place: ReplaceClip, with the same proof and revert as a draft fill. Every use of the
    clip in every timeline keeps its in and out points."""
    project = gw.project()
    old = gw.clip(clip_id)
    if old.third_party.get(f"{NS}role") not in ("draft", "take"):
        raise PlacementFailed(
            f"'{old.name}' is not a promptreel draft or take.",
            "Promote a clip promptreel generated (its bin is promptreel/...).",
        )
    if old.frames != str(slot.frames):
        raise PlacementFailed(
            f"'{old.name}' has {old.frames} frames; the final would have {slot.frames}.",
            "Promote the take from the list of takes it belongs to.",
        )
    (made,) = make_many(make_clip, [slot])
    if not made.ok:
        raise PlacementFailed(str(made.error), f"'{old.name}' is unchanged; fix the cause and promote again.")
    state = gw.timeline()
    uses, old = _replace_media(gw, state, clip_id, made, f"'{old.name}'")
    record = EditRecord(
        kind="promote",
        project_id=project.id,
        timeline_id=state.id,
        timeline_name=state.name,
        job_id=made.provenance.job_id,
        placeholder_id=clip_id,
        placeholder_name=old.name,
        placeholder_track=0,
        placeholder_start=0,
        placeholder_duration=slot.frames,
        uses=uses,
    )
    return _keep_replaced(record, clip_id, old, made), made


def _restore_draft(
    gw: Gateway, clip_id: str, path: str, metadata: dict[str, str], third: dict[str, str], current: dict[str, str]
):
    # Fields the take added are blanked: ReplaceClip does not clear them for us reliably.
    restored_meta = {k: metadata.get(k, "") for k in set(metadata) | set(current)}
    return gw.replace_clip(clip_id, path, metadata=restored_meta, third_party=third)


def _drop_added_track(gw: Gateway, index: int) -> None:
    """Remove the track a fill added once it is empty again; any other track, or one in use, stays.
    `index` is where the fill's clip was just before revert (tracks below may have come and gone)."""
    track = gw.timeline().track(index)
    if track is not None and track.name == TRACK_NAME and not track.items and not track.locked:
        if not gw.delete_track(index, TRACK_NAME):
            log.warning("could not remove the empty track V%d that a fill added", index)


def revert(gw: Gateway, edit_id: str) -> EditRecord:  # noqa: C901 - reworked for the timeline domain's one fill result
    """Undo one recorded fill exactly, and prove it by reading back."""
    record = edits.load(edit_id)
    if record.reverted:
        return record
    if record.project_id and gw.project().id != record.project_id:
        raise NoProject(f"The fill {edit_id} was made in another project.", "Open that project and revert again.")
    current = gw.clip(record.replaced.clip_id) if record.replaced is not None else None
    if current is not None and not _same_file(current.path, record.replaced.new_path):
        raise _changed_since(record, current)  # before anything changes
    if record.placed is not None:
        state = gw.timeline()
        # A placed clip is on one timeline; replaced media belongs to the project's pool (every timeline).
        if state.id != record.timeline_id:
            raise NoTimeline(
                f"The fill {edit_id} was made on timeline '{record.timeline_name}', which is not current.",
                f"Open '{record.timeline_name}' in Resolve and revert again.",
            )
        placed = record.placed
        if record.kind == "edit":  # the clip stays: only the take the edit added goes
            shown = gw.remove_takes(placed.item_id, placed.takes, keep_clip_id=placed.clip_id)
            if shown.left:
                raise PlacementFailed(
                    f"Resolve kept the edit's take on '{record.placeholder_name}'.",
                    "Close any open dialog in Resolve, unlock the track, and revert again.",
                )
            return edits.mark_reverted(record)
        present = state.item(placed.item_id)
        item_id = placed.item_id
        if present is not None and placed.takes:
            # The fill's steps undone in reverse: its takes first (DeleteTakeByIndex, then FinalizeTake back to
            # the placed clip), so a delete Resolve refuses below still leaves no more than a plain fill.
            shown = gw.remove_takes(item_id, placed.takes, keep_clip_id=placed.clip_id)
            item_id = shown.id or item_id
            if shown.left:
                log.warning("Resolve kept takes %s on the fill of %s; deleting the item", shown.left, item_id)
        if present is not None:
            gone = gw.delete_items([item_id])
            if item_id not in gone:
                raise PlacementFailed(
                    f"Resolve would not remove the fill of '{record.placeholder_name}'.",
                    "Close any open dialog in Resolve, unlock the track, and revert again.",
                )
        enabled = gw.set_enabled([record.placeholder_id], True)
        if not enabled.get(record.placeholder_id):
            raise PlacementFailed(
                f"Resolve would not re-enable the placeholder '{record.placeholder_name}'.",
                "Unlock its track and revert again.",
            )
        if present is not None:
            _drop_added_track(gw, present.track)
    if record.replaced is not None:
        r = record.replaced
        restored = _restore_draft(gw, r.clip_id, r.old_path, r.old_metadata, r.old_third_party, current.metadata)
        if restored.path != r.old_path or restored.failed:
            raise PlacementFailed(
                f"Resolve did not restore the draft '{record.placeholder_name}'.",
                "Check that the draft file still exists, then revert again.",
            )
    return edits.mark_reverted(record)


def revert_all(gw: Gateway, edit_ids: list[str]) -> list[EditRecord]:
    """Undo a whole fill, its placements newest first: a track the fill added goes with the last clip on it."""
    records = sorted((edits.load(i) for i in edit_ids), key=lambda r: r.created)
    return [revert(gw, r.id) for r in reversed(records)]


def _same_file(a: str, b: str) -> bool:
    return bool(a) and os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _changed_since(record: EditRecord, current: Clip) -> PlacementFailed:
    """The refusal of a revert whose pool item no longer holds the media its fill put there: a later fill or
    promote replaced it again (revert that first: its record holds this fill's media as the one to restore),
    or the editor relinked it (put back by hand). Names the clip, what it holds, and the way out."""
    r = record.replaced
    later = next(
        (
            o
            for o in reversed(edits.all_records())
            if o.replaced is not None
            and not o.reverted
            and o.id != record.id
            and o.replaced.clip_id == r.clip_id
            and _same_file(current.path, o.replaced.new_path)
        ),
        None,
    )
    problem = (
        f"The clip '{current.name or record.placeholder_name}' no longer holds what fill {record.id} put there "
        f"({Path(r.new_path).name}); it now holds {Path(current.path).name or 'nothing'}. Nothing was changed."
    )
    if later is not None:
        return PlacementFailed(problem, f"Revert fill {later.id} first (it replaced the clip since), then this one.")
    return PlacementFailed(problem, f"Relink the clip to {r.new_path} to revert this fill, or keep it as it is.")
