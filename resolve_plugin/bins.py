"""Generated clips into media-pool bins: `promptreel/<model>` by default, tagged with their provenance."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from promptreel.core.errors import BadInput
from promptreel.core.request import Slot

from .clipmaker import NS, ClipMaker, MadeClip, clip_color, provenance
from .errors import ResolveRefused
from .gateway import Clip, Gateway

DEFAULT_BIN = "promptreel/{model}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def bin_path(template: str, model: str) -> list[str]:
    """'promptreel/{model}' -> ['promptreel', 'veo-3.1']. '/' nests bins; control characters go."""
    try:
        text = template.format(model=model)
    except (KeyError, IndexError, ValueError):
        raise BadInput(f"The bin name '{template}' has a placeholder other than {{model}}.",
                       "Use plain text and {model}, e.g. 'promptreel/{model}'.") from None
    parts = [_CONTROL.sub("", p).strip()[:80] for p in text.split("/")]
    parts = [p for p in parts if p]
    if not parts:
        raise BadInput(f"The bin name '{template}' is empty once cleaned.",
                       "Give a bin name such as 'promptreel/{model}'.")
    return parts


def import_tagged(gw: Gateway, made: MadeClip, template: str = DEFAULT_BIN, role: str = "take") -> Clip:
    """Import one made clip into its bin and tag it; every tag is read back."""
    target = gw.ensure_bin(bin_path(template, made.model))
    (clip,) = gw.import_media([made.path], target.id)
    metadata, third = provenance(made, role)
    tagged = gw.tag_clip(clip.id, metadata=metadata, third_party=third, color=clip_color(made.model))
    if tagged.failed:
        raise ResolveRefused(f"Resolve did not keep {', '.join(tagged.failed)} on clip '{tagged.name}'.",
                             "Check that the clip is not locked, then generate again.")
    return tagged


def generate_to_bin(gw: Gateway, make_clip: ClipMaker, slot: Slot, variants: int = 1,
                    template: str = DEFAULT_BIN) -> list[Clip]:
    """`variants` takes of one slot, each imported and tagged."""
    return [import_tagged(gw, make_clip(slot), template) for _ in range(variants)]


def create_draft(gw: Gateway, make_draft: ClipMaker, slot: Slot, template: str = "promptreel/drafts") -> Clip:
    """A draft slate of the slot's length at the project's rate and size, with the prompt in its metadata.
    `make_draft` is the draft model's renderer."""
    made = make_draft(slot)
    clip = import_tagged(gw, made, template, role="draft")
    if clip.third_party.get(f"{NS}prompt") != slot.prompt:
        raise ResolveRefused("Resolve did not keep the draft's prompt.", "Try again.")
    return clip


def generate_to_folder(make_clip: ClipMaker, slot: Slot, folder: Path, variants: int = 1) -> list[Path]:
    """File mode (free 21.1+): takes land in a folder the editor imports. Names come from the job,
    never from a provider; each file is copied under a temporary name, then renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for _ in range(variants):
        made = make_clip(slot)
        safe_job = re.sub(r"[^A-Za-z0-9._-]", "_", made.job_id)[:64] or "job"
        target = folder / f"{made.model}-{safe_job}{made.path.suffix}"
        if target.exists():
            raise BadInput(f"{target} already exists.", "Choose an empty folder, or move the earlier takes.")
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(made.path, tmp)
        os.replace(tmp, target)
        out.append(target)
    return out
