"""What filling a slot made: the clip, or why there is none, with a typed record of where it came from.

One type from core (core/slots.py makes them) through the timeline fill (core/timeline/) to Resolve
(resolve_plugin/). The record becomes a dict only where it is stored (`Provenance.as_dict`): a
timeline's metadata, the journal's takes table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .request import Slot


@dataclass(frozen=True)
class Provenance:
    """Where a clip came from: the job, its model and route, what it cost; for a take that was downloaded,
    the original's marks (core/provenance.py `Marks`) and what was kept beside the conformed clip."""

    prompt: str = ""  # as sent to the model
    model: str = ""
    route: str = ""
    seed: int | None = None
    job_id: str = ""
    cost: float = 0.0
    cached: bool = False
    created: str = ""
    ai_generated: bool = True  # False for the draft model's slates
    cast: tuple[str, ...] = ()  # the cast members its prompt named (`@maria`), core/cast.py
    references: tuple[dict[str, str], ...] = ()  # the reference images sent: path and SHA-256 each
    # The original's marks: set once the take is downloaded.
    disclosure: str | None = None
    prompt_sha256: str | None = None
    original_job_id: str | None = None  # the job that made the original (a cache hit names the job it reused)
    original_sha256: str | None = None
    # What was kept beside the conformed clip (core/slots.py `keep_provenance`), or why nothing was.
    original: str | None = None
    sidecar: str | None = None
    c2pa: str | None = None
    signed: str | None = None
    provenance_error: str | None = None
    refinement: str | None = None  # the change a refinement made (core/refine.py)
    # Where it was put and what for: Resolve's clip, take and item ids; the clip an extend or edit is of
    # (`extends`, `extension_edge`; `edit_of`, `instruction`, `handles`).
    placed: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The record as stored: only the facts there are (no marks before a download, no kept files
        before a conform)."""
        out: dict[str, Any] = {
            "prompt": self.prompt,
            "model": self.model,
            "route": self.route,
            "seed": self.seed,
            "job_id": self.job_id,
            "cost": self.cost,
            "cached": self.cached,
            "created": self.created,
            "ai_generated": self.ai_generated,
        }
        if self.cast:
            out["cast"] = list(self.cast)
        if self.references:
            out["references"] = [dict(r) for r in self.references]
        if self.original_sha256 is not None:
            out.update(
                disclosure=self.disclosure,
                prompt_sha256=self.prompt_sha256,
                original_job_id=self.original_job_id,
                original_sha256=self.original_sha256,
            )
        if self.sidecar is not None:
            out.update(original=self.original, sidecar=self.sidecar, c2pa=self.c2pa, signed=self.signed)
        if self.provenance_error is not None:
            out["provenance_error"] = self.provenance_error
        if self.refinement is not None:
            out["refinement"] = self.refinement
        return {**out, **self.placed}


@dataclass(frozen=True)
class MadeClip:
    """One slot's outcome: the conformed clip (exactly the slot) and its provenance, or why there is none."""

    slot: Slot
    path: Path | None
    provenance: Provenance
    error: str | None = None
    start_frame: int = 0  # the media's first frame number (its start timecode) at slot.rate

    @property
    def ok(self) -> bool:
        return self.path is not None and self.error is None

    @property
    def media(self) -> Path:
        """The clip's file, for a clip that was made (`ok`)."""
        if self.path is None:
            raise ValueError(f"no clip was made for {self.slot.name or self.slot.prompt[:40]!r}: {self.error}")
        return self.path

    def placed_at(self, **where: Any) -> MadeClip:
        """This clip with where it was put, and what for, added to its provenance (`Provenance.placed`)."""
        return replace(self, provenance=replace(self.provenance, placed={**self.provenance.placed, **where}))

    @classmethod
    def failed(cls, slot: Slot, reason: str, provenance: Provenance | None = None) -> MadeClip:
        """No clip for `slot`, and why (what was spent on it, when `provenance` says)."""
        return cls(slot, None, provenance or Provenance(prompt=slot.prompt, model=slot.model or ""), reason)
