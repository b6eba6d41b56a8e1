"""Placeholders on a Resolve timeline: what says "generate this here".

- drafts: clips whose pool item carries `promptreel.role = draft` (promptreel's own slates);
- foreign placeholders: enabled items on video tracks (clips, generators, titles, offline clips)
  with a marker whose name or note starts with `gen:`, named `GEN: ...`, or whose pool item has a
  `promptreel.prompt` in third-party metadata.
A `gen: template=NAME key=value` marker names a saved template and its values (core/prompts/markers.py):
its prompt is built for each slot's model (`fill.slot_for`), as on the OTIO side.
Disabled items and promptreel's own takes are not placeholders (a filled placeholder is disabled).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ValidationError

from promptreel.core.errors import UserError
from promptreel.core.prompts.compose import PromptSpec, spec_from
from promptreel.core.prompts.markers import parse_gen_template

from .clipmaker import NS
from .errors import PlaceholderProblem
from .gateway import Item, TimelineState

_GEN_MARK = re.compile(r"^\s*gen:\s*(.*\S)", re.IGNORECASE | re.DOTALL)


class ResolvePlaceholder(BaseModel):
    """An item of Resolve's live timeline to fill (as the bridge reports it); core/timeline's `Placeholder` is
    the same for an OTIO file."""

    kind: Literal["draft", "foreign"]
    item: Item
    prompt: str
    clip_id: str = ""
    draft_frames: int = 0  # a draft's full media length: a fill replaces all of it
    spec_json: str = ""  # a draft's structured prompt (`promptreel.spec`), worded again for the model that fills it

    @property
    def label(self) -> str:
        return f"'{self.item.name}' on V{self.item.track} at frame {self.item.start}"


def _prompt(item: Item, third_party: dict[str, str]) -> str | None:
    for marker in item.markers:
        for text in (marker.name, marker.note):
            m = _GEN_MARK.match(text or "")
            if m:
                return m.group(1)
    m = re.match(r"^\s*GEN:\s*(.*\S)", item.name, re.DOTALL)
    if m:
        return m.group(1)
    return third_party.get(f"{NS}prompt") or None


def find_placeholders(state: TimelineState) -> list[ResolvePlaceholder]:
    """Every placeholder on the timeline, in record order (then bottom track first)."""
    found = []
    for track in state.tracks:
        for item in track.items:
            if item.kind == "transition" or not item.enabled:
                continue
            clip = state.clips.get(item.clip_id) if item.clip_id else None
            third = clip.third_party if clip else {}
            if third.get(f"{NS}role") == "take":
                continue
            prompt = _prompt(item, third)
            if not prompt:
                continue
            if third.get(f"{NS}role") == "draft" and clip is not None:
                found.append(
                    ResolvePlaceholder(
                        kind="draft",
                        item=item,
                        prompt=prompt,
                        clip_id=clip.id,
                        draft_frames=int(clip.frames or 0),
                        spec_json=third.get(f"{NS}spec", ""),
                    )
                )
            else:
                found.append(ResolvePlaceholder(kind="foreign", item=item, prompt=prompt, clip_id=item.clip_id))
    return sorted(found, key=lambda p: (p.item.start, p.item.track))


def prompt_spec(ph: ResolvePlaceholder) -> PromptSpec | None:
    """The structured prompt of a `gen: template=NAME key=value` placeholder, or the one a panel draft
    was made from (built per model when its slot is made, as on the OTIO side); None for free text.
    Refuses a malformed one, naming the item."""
    if ph.spec_json:
        try:
            return PromptSpec.model_validate_json(ph.spec_json)
        except ValidationError:
            raise PlaceholderProblem(
                f"The draft {ph.label} has unreadable `promptreel.spec` metadata.",
                "Clear that field in the clip's metadata, or create the draft again.",
            ) from None
    try:
        parsed = parse_gen_template(ph.prompt)
        return None if parsed is None else spec_from("", parsed[0], parsed[1], "its `gen: template=…`")
    except UserError as e:
        raise PlaceholderProblem(f"The placeholder {ph.label}: {e.problem}", e.fix) from None


def check_fillable(state: TimelineState, ph: ResolvePlaceholder) -> None:
    """Refuse, before anything is generated, a placeholder that cannot be filled as it is."""
    prompt_spec(ph)
    track = state.track(ph.item.track)
    if track is not None and track.locked:
        raise PlaceholderProblem(
            f"The placeholder {ph.label} is on a locked track.", f"Unlock V{ph.item.track} in Resolve and fill again."
        )
    if ph.kind == "foreign" and track is not None:
        for other in track.items:
            if other.kind == "transition" and any(
                other.start <= edge <= other.end for edge in (ph.item.start, ph.item.end)
            ):
                raise PlaceholderProblem(
                    f"A transition covers an edge of the placeholder {ph.label}.",
                    "Remove the transition (add it back after the fill): the fill must match the cut exactly.",
                )
    if ph.kind == "draft" and ph.draft_frames < 1:
        raise PlaceholderProblem(f"The draft {ph.label} reports no frame count.", "Re-import the draft clip.")
