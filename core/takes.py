"""Takes: several results for one shot, recorded together, one of them chosen, and promoted to a final model.

- A/B: one slot on two or more models at once (`take_slots(slot, ["veo-3.1-fast", "kling-2.1"])`).
- Variants: one slot several times on a model, each take with its own seed where the model takes one.
- Promote: the chosen take rendered again on the final model, with the same prompt, negative prompt,
  seed (where the final model takes seeds) and the same frames, rate and size (`promote_slot`).

The slots go through `core.slots.fill_slots` like any others (one engine batch: journaled, limited,
cached), and `record_takes` writes what came back to the `takes` table of the journal database.

    slots = take_slots(slot, ["veo-3.1-fast", "ltx-2.3-fast"], variants=2)
    clips = await fill_slots(slots, FillSettings(output_dir=media))
    group = record_takes(journal, "SH010", clips, "ab")
    take = list_takes(journal, group=group)[0]
    choose(journal, take.id)
    final = promote_slot(take.slot, take, "veo-3.1")
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from .catalog import Catalog, Model, Size, default_catalog
from .errors import BadInput, UnsupportedRequest, UserError
from .frames import seconds_to_frames_ceil
from .journal import Journal, new_id, now_iso, whoami
from .keys import redact
from .made import MadeClip
from .prompts.compose import TemplateCache, compose
from .prompts.templates import TemplateStore
from .request import Slot

if TYPE_CHECKING:
    from .engine import JobResult
    from .plan import PlannedRequest
    from .store import Record

DEFAULT_SIZE = Size(width=1920, height=1080)

# "fill": the one take a plain fill of a placeholder made (so any fill can be promoted).
# "refine": a take made from another by a conversational change (core/refine.py); its `parent` is that take.
# "extend", "edit": frames made for a clip already cut (`promptreel extend`, `promptreel edit`); the clip is
# named in the provenance (`extends` with `extension_edge`, or `edit_of`).
Kind = Literal["ab", "variants", "promote", "fill", "refine", "extend", "edit"]
KINDS = ("ab", "variants", "promote", "fill", "refine", "extend", "edit")
MAX_VARIANTS = 8

# Every route's seed range holds this (Vertex takes a uint32, Runway and fal an int, ComfyUI a u64),
# with room left for the variants' offsets.
SEED_SPAN = 2**31 - 1 - MAX_VARIANTS


@dataclass(frozen=True)
class Take:
    """One result for a shot: which model and seed made it, the clip, and whether it is the keeper."""

    id: str
    group: str
    shot: str
    kind: str
    position: int  # order within its group
    model: str
    seed: int | None
    variant: int
    job_id: str | None
    path: Path | None  # the clip (conformed to the slot where it filled one)
    slot: Slot  # what it was made for: frames, rate, size, prompt, hints
    provenance: dict[str, Any]
    error: str | None
    chosen: bool
    source: str | None  # the take this one was promoted from
    created_at: str
    user: str | None = None  # who recorded it, on which seat
    host: str | None = None
    parent: str | None = None  # the take this one refines

    @property
    def ok(self) -> bool:
        return self.path is not None and self.error is None

    @property
    def prompt(self) -> str:
        return self.slot.prompt

    @property
    def clip(self) -> str | None:
        """The clip an extend or edit take was made for."""
        return self.provenance.get("extends") or self.provenance.get("edit_of")

    @property
    def kind_label(self) -> str:
        """The kind as the takes list says it: "extend head of 'A'", "edit of 'A'", "fill"."""
        if self.kind == "extend":
            return f"extend {self.provenance.get('extension_edge') or 'tail'} of {self.clip!r}"
        if self.kind == "edit":
            return f"edit of {self.clip!r}"
        return self.kind

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (the CLI's --json, the panel)."""
        return {
            "id": self.id,
            "group": self.group,
            "shot": self.shot,
            "kind": self.kind,
            "position": self.position,
            "model": self.model,
            "seed": self.seed,
            "variant": self.variant,
            "job_id": self.job_id,
            "path": str(self.path) if self.path else None,
            "prompt": self.prompt,
            "frames": self.slot.frames,
            "rate": self.slot.model_dump(mode="json")["rate"],
            "size": str(self.slot.size),
            "cost": self.provenance.get("cost"),
            "error": self.error,
            "chosen": self.chosen,
            "source": self.source,
            "parent": self.parent,
            "created_at": self.created_at,
            "clip": self.clip,
            "edge": self.provenance.get("extension_edge") if self.kind == "extend" else None,
            "user": self.user,
            "host": self.host,
            "refinement": self.provenance.get("refinement"),
            "cast": self.provenance.get("cast", []),
            "references": self.provenance.get("references", []),
            # The structured prompt the take was worded from (None: free text); scrubbed of any key
            # pasted into a field.
            "spec": self.slot.spec and json.loads(redact(self.slot.spec.model_dump_json())),
        }


# --- planning (pure) ----------------------------------------------------------------------------


def base_seed(slot: Slot) -> int:
    """A seed fixed by what the slot asks for: the same A/B asked again is the same jobs (served
    from the cache, never paid twice), and every model in it starts from the same number."""
    return seed_for(slot.model_dump_json(include={"prompt", "negative_prompt", "frames", "rate", "size", "name"}))


def shot_name(prompt: str, limit: int = 40) -> str:
    """A shot name from a prompt, for takes made outside a timeline: its first words, as a slug."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    name = ""
    for w in words:
        if len(name) + len(w) + 1 > limit:
            break
        name = f"{name}-{w}" if name else w
    return name or "shot"


def seed_for(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % SEED_SPAN


def check_models(models: Sequence[str], catalog: Catalog | None = None) -> list[Model]:
    """The catalog entries of the models of an A/B: every name known, none twice, at least one."""
    catalog = catalog or default_catalog()
    models = list(models)
    if not models:
        raise BadInput(
            "No model was named for the takes.", "Name at least one model, e.g. --models veo-3.1-fast,ltx-2.3-fast."
        )
    twice = sorted({m for m in models if models.count(m) > 1})
    if twice:
        raise BadInput(
            f"{', '.join(twice)} is named more than once.",
            "Name each model once; use --variants for several takes on one model.",
        )
    return [catalog.get(m) for m in models]


def take_slots(slot: Slot, models: Sequence[str], variants: int = 1, catalog: Catalog | None = None) -> list[Slot]:
    """One slot per model x variant, model by model. On a model that takes a seed each variant has its
    own (the slot's seed, else `base_seed`, plus the variant number); on one that does not, the seed is
    dropped. Each variant is a separate job and cache entry either way (`Slot.variant`). A slot with a
    structured prompt (`Slot.spec`) gets each model's own family's wording."""
    specs = check_models(models, catalog)
    if not 1 <= variants <= MAX_VARIANTS:
        raise BadInput(f"{variants} variants asked for.", f"Ask for 1 to {MAX_VARIANTS} variants.")
    start = slot.seed if slot.seed is not None else base_seed(slot)
    templates = TemplateCache()
    # A slot already on a model carries that model's wording: only the others are built (an OTIO A/B
    # of 10,000 placeholders reads no template again).
    worded = {spec.id: slot if spec.id == slot.model else worded_for(slot, spec, templates) for spec in specs}
    return [
        worded[spec.id].model_copy(update={"model": spec.id, "variant": v, "seed": (start + v) if spec.seed else None})
        for spec in specs
        for v in range(variants)
    ]


def worded_for(slot: Slot, model: Model, templates: TemplateStore | TemplateCache | None = None) -> Slot:
    """`slot` with its prompt and negative prompt built for `model`'s family from its structured prompt
    (`slot.spec`: a template or shot fields); as it is when it has none, or when free text was given
    (free text wins, sent as written). Raises a UserError for an unknown template or a missing value."""
    spec = slot.spec
    if spec is None or spec.prompt or not spec.structured:
        return slot
    built = compose(model, spec, templates)
    return slot.model_copy(update={"prompt": built.text, "negative_prompt": built.negative_prompt})


def promote_slot(slot: Slot, take: Take, final_model: str, catalog: Catalog | None = None) -> Slot:
    """`slot` on `final_model` with the take's prompt, negative prompt and seed (where the final model
    takes seeds): the keeper rendered again at full quality. A take made from a template or shot fields
    has its prompt built again for the final model's family (free text is kept as written). Refuses,
    before anything is spent, when the final model cannot make the slot."""
    from .plan import plan_slot

    catalog = catalog or default_catalog()
    spec = catalog.get(final_model)
    final = slot.model_copy(
        update={
            "model": spec.id,
            "variant": 0,
            "prompt": take.slot.prompt,
            "negative_prompt": take.slot.negative_prompt,
            "spec": take.slot.spec,
            "seed": take.seed if spec.seed else None,
        }
    )
    try:
        # A take built from a template or shot fields is worded again for the final model's family.
        final = worded_for(final, spec)
        plan_slot(final, spec)
    except UserError as e:
        raise UnsupportedRequest(
            f"Take {take.id} cannot be promoted to {spec.name}: {e.problem}", e.fix or "Choose another final model."
        ) from None
    return final


def job_clips(
    planned: Sequence[PlannedRequest], results: Sequence[JobResult], journal: Journal, name: str = ""
) -> list[MadeClip]:
    """The engine's raw results (`promptreel generate`: nothing conformed) as clips for `record_takes`,
    in the engine's order (each planned request, each of its variants). A take's slot is its clip as
    made: frames, rate and size read from the media, or from the request where there is none."""
    from .engine import variant_request
    from .slots import job_provenance

    catalog = default_catalog()
    clips, it = [], iter(results)
    for p in planned:
        for v in range(p.request.variants):
            job, req = next(it), variant_request(p.request, v)
            if job.info is not None:
                frames, rate, size = job.info.frames, job.info.rate, Size(width=job.info.width, height=job.info.height)
            else:
                rate = req.fps or Fraction(catalog.get(req.model).fps[0])
                frames = req.frames or seconds_to_frames_ceil(Fraction(req.seconds or 1), rate)
                size = req.size or DEFAULT_SIZE
            slot = Slot(
                frames=frames,
                rate=rate,
                size=size,
                prompt=req.prompt,
                name=name,
                model=req.model,
                seed=req.seed,
                negative_prompt=req.negative_prompt,
                first_frame=req.first_frame,
                last_frame=req.last_frame,
                variant=job.variant,
            )
            error = None if job.ok else (job.error or job.state.value)
            clips.append(MadeClip(slot, job.path if job.ok else None, job_provenance(req, job, journal), error))
    return clips


def take_tags(shot: str, kind: Kind) -> dict[str, str]:
    """What a generate's jobs carry so `resume` can record their takes if the generate is killed first."""
    return {"shot": shot, "take_kind": kind}


def record_resumed_takes(journal: Journal, results: Sequence[JobResult]) -> list[str]:
    """The takes of generates that were killed before recording them, now that `resume` collected their
    jobs: one group per killed batch, its shot and kind from the jobs' tags. Returns the groups recorded."""
    from .plan import PlannedRequest
    from .request import GenerationRequest

    recorded = {r["job_id"] for r in journal.execute("SELECT job_id FROM takes WHERE job_id IS NOT NULL")}
    batches: dict[str, list[tuple[PlannedRequest, JobResult]]] = {}
    for r in results:
        job = journal.get(r.job_id)
        tags = job.request.get("tags", {}) if job else {}
        if job is None or r.job_id in recorded or tags.get("take_kind") not in KINDS:
            continue
        batches.setdefault(job.batch_id, []).append((PlannedRequest(GenerationRequest.model_validate(job.request)), r))
    groups = []
    for found in batches.values():
        tags = found[0][0].request.tags
        planned, done = [p for p, _ in found], [r for _, r in found]
        groups.append(
            record_takes(
                journal, tags["shot"], job_clips(planned, done, journal, tags["shot"]), cast(Kind, tags["take_kind"])
            )
        )  # a tag this module wrote
    return groups


# --- the journal's takes table ------------------------------------------------------------------


def record_takes(
    journal: Journal,
    shot: str,
    clips: Sequence[MadeClip],
    kind: Kind,
    source: str | None = None,
    parent: str | None = None,
) -> str:
    """Record `clips` (core.slots's results, failures included) as the takes of one group; returns its id.
    `source` is the take a promotion started from, `parent` the take a refinement changed. A promoted
    take becomes the shot's chosen one."""
    if kind not in KINDS:
        raise BadInput(f"'{kind}' is not a kind of take.", f"Use one of: {', '.join(KINDS)}.")
    if not clips:
        raise BadInput("There are no takes to record.", "Generate at least one take first.")
    for earlier in (source, parent):
        if earlier is not None:
            get_take(journal, earlier)
    group = new_id("group")
    at = now_iso()
    ids = [new_id("take") for _ in clips]
    who = whoami()
    with journal.transaction():  # the group goes in whole or not at all
        for i, (take_id, clip) in enumerate(zip(ids, clips)):
            p = clip.provenance
            journal.execute(
                "INSERT INTO takes (id, group_id, shot, kind, position, model, seed, variant, job_id, path, slot,"
                " provenance, error, source, parent, created_at, user_name, host)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    take_id,
                    group,
                    shot,
                    kind,
                    i,
                    p.model or clip.slot.model or "draft",
                    p.seed,
                    clip.slot.variant,
                    p.job_id or None,
                    journal.stored_path(clip.path),
                    clip.slot.model_dump_json(),
                    json.dumps(p.as_dict(), sort_keys=True, default=str),
                    clip.error,
                    source,
                    parent,
                    at,
                    *who,
                ),
            )
    if kind == "promote" and clips[0].ok:
        choose(journal, ids[0])
    return group


def record_cut_take(shot: str, clip: MadeClip, kind: Literal["extend", "edit"]) -> Take:
    """Record the one take an extend or edit made, in the journal in use; returns it (the clip it is for is
    in `clip.provenance.placed`: `extends` and `extension_edge`, or `edit_of`)."""
    journal = Journal.open_default()
    try:
        return list_takes(journal, group=record_takes(journal, shot, [clip], kind))[0]
    finally:
        journal.close()


def _take(row: Record, journal: Journal) -> Take:
    return Take(
        id=row["id"],
        group=row["group_id"],
        shot=row["shot"],
        kind=row["kind"],
        position=row["position"],
        model=row["model"],
        seed=row["seed"],
        variant=row["variant"],
        job_id=row["job_id"],
        path=journal.media_path(row["path"]),
        slot=Slot.model_validate_json(row["slot"]),
        provenance=json.loads(row["provenance"]),
        error=row["error"],
        chosen=bool(row["chosen"]),
        source=row["source"],
        created_at=row["created_at"],
        user=row["user_name"],
        host=row["host"],
        parent=row["parent"],
    )


def list_takes(
    journal: Journal,
    shot: str | None = None,
    group: str | None = None,
    user: str | None = None,
    host: str | None = None,
) -> list[Take]:
    """Takes, oldest group first and in each group in the order they were asked for; only those recorded
    by `user` or on `host`, when given."""
    sql, where, args = "SELECT * FROM takes", [], []
    for column, value in (("shot", shot), ("group_id", group), ("user_name", user), ("host", host)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = journal.execute(sql + " ORDER BY created_at, group_id, position", args).fetchall()
    return [_take(r, journal) for r in rows]


def get_take(journal: Journal, take_id: str) -> Take:
    row = journal.execute("SELECT * FROM takes WHERE id = ?", (take_id,)).fetchone()
    if row is None:
        raise BadInput(f"There is no take {take_id}.", "Run `promptreel takes` to list take ids.")
    return _take(row, journal)


def making_seconds(journal: Journal, take: Take) -> float | None:
    """How long the provider took to make the take (submitted to media in hand); None when not known."""
    job = journal.get(take.job_id) if take.job_id else None
    if job is None or not job.sent_at or not job.media_at:
        return None
    return round((datetime.fromisoformat(job.media_at) - datetime.fromisoformat(job.sent_at)).total_seconds(), 1)


def choose(journal: Journal, take_id: str) -> Take:
    """Make `take_id` its shot's chosen take (one per shot). Refuses a take that has no clip."""
    take = get_take(journal, take_id)
    if not take.ok:
        raise BadInput(f"Take {take_id} has no clip ({take.error or 'not generated'}).", "Choose a take that was made.")
    journal.execute("UPDATE takes SET chosen = CASE WHEN id = ? THEN 1 ELSE 0 END WHERE shot = ?", (take_id, take.shot))
    return get_take(journal, take_id)


def chain(journal: Journal, take_id: str) -> list[Take]:
    """The refine chain `take_id` is in: its first take, then every refinement made from it and from
    those, and every promotion of any of them, oldest first (a take refined twice has two branches; both
    are listed)."""
    take = get_take(journal, take_id)
    seen = {take.id}
    while take.parent is not None and take.parent not in seen:  # up to the take the chain began from
        take = get_take(journal, take.parent)
        seen.add(take.id)
    out, frontier = [take], [take.id]
    while frontier:
        marks = ",".join("?" * len(frontier))
        rows = journal.execute(
            f"SELECT * FROM takes WHERE parent IN ({marks}) OR source IN ({marks}) ORDER BY created_at, position",
            frontier * 2,
        ).fetchall()
        found = [_take(r, journal) for r in rows if r["id"] not in {t.id for t in out}]
        out.extend(found)
        frontier = [t.id for t in found]
    return sorted(out, key=lambda t: (t.created_at, t.position))


def depth(take: Take, by_id: dict[str, Take]) -> int:
    """How many refinements (or promotions) `take` is from the first take of its chain (within `by_id`)."""
    n, seen = 0, set()
    while (up := take.parent or take.source) in by_id and up not in seen:
        seen.add(up)
        take, n = by_id[up], n + 1
    return n


def chain_groups(journal: Journal | None, take: Take) -> tuple[str, ...]:
    """The groups of `take` and of the takes it refines, nearest first: where a timeline plays its chain."""
    groups, seen = [take.group], {take.id}
    while journal is not None and take.parent is not None and take.parent not in seen:
        take = get_take(journal, take.parent)
        seen.add(take.id)
        groups.append(take.group)
    return tuple(groups)
