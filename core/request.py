"""What crosses from the editor to the engine: a generation request, and the slot it fills."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from .catalog import Size
from .frames import parse_rate, rate_str
from .prompts.compose import PromptSpec

# A frame rate: parsed exactly from "24000/1001", "23.976" or 24; serialised as "24000/1001".
Rate = Annotated[Fraction, BeforeValidator(parse_rate), PlainSerializer(rate_str, return_type=str)]
FrameSize = Annotated[
    Size, BeforeValidator(lambda v: Size.parse(v) if isinstance(v, str) else v), PlainSerializer(str, return_type=str)
]


class Shot(BaseModel):
    """One shot of a multi-shot generation: its own prompt and whole seconds of the one take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    seconds: int = Field(ge=1)


class GenerationRequest(BaseModel):
    """One generation, in the editor's terms. The planner fills `seconds` / `size` / `fps` for the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1)
    negative_prompt: str | None = None
    model: str = "draft"
    seconds: int | None = Field(None, ge=1, description="generation length in whole seconds")
    frames: int | None = Field(None, ge=1, description="exact frame count (models with any_duration)")
    fps: Rate | None = None
    aspect: str | None = None
    size: FrameSize | None = None
    seed: int | None = None
    audio: bool | None = None
    first_frame: Path | None = None
    last_frame: Path | None = None
    reference_images: tuple[Path, ...] = ()
    extend_video: str | None = Field(None, description="a previous job id, or a path to a video")
    remix_of: str | None = Field(
        None,
        description="a previous job id (or the provider's video id), or a path to a video, to remake with this prompt",
    )
    variants: int = Field(1, ge=1, le=8)
    # Multi-shot (Kling 3.0): one take cut into these shots in order, their seconds summing to `seconds`.
    shots: tuple[Shot, ...] = ()
    tags: dict[str, str] = {}

    def canonical(self) -> dict[str, Any]:
        """Everything that changes the generated media, in a stable form (tags and variants excluded)."""
        data = self.model_dump(mode="json", exclude={"tags", "variants"})
        for key in ("first_frame", "last_frame", "extend_video", "remix_of"):
            if data[key] and Path(data[key]).is_file():
                data[key] = {"sha256": file_sha256(Path(data[key]))}
        data["reference_images"] = [{"sha256": file_sha256(Path(p))} for p in self.reference_images]
        if data["remix_of"] is None:
            del data["remix_of"]  # added later: requests without it keep the cache keys they had
        if not data["shots"]:
            del data["shots"]  # likewise
        return data

    def cache_key(self) -> str:
        """Hash of the canonical request: identical requests share one output."""
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Slot(BaseModel):
    """What a placeholder asks for: exact frames at the timeline rate, frame size, bit depth, prompt, hints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    frames: int = Field(ge=1)
    rate: Rate
    size: FrameSize
    bit_depth: Literal[8, 10, 12] = 10
    prompt: str = Field(min_length=1)
    name: str = ""
    model: str | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    first_frame: Path | None = None
    last_frame: Path | None = None
    # A video file to edit with the prompt (video-to-video, `promptreel edit`): the request's remix_of.
    remix_of: str | None = None
    # Frames of the take left out after the slot's last (at the take's rate): the slot is the end of the take
    # without them (`extend --head`: the model's copy of the clip's first frame, which the clip itself shows).
    drop_last: int = Field(0, ge=0)
    # Which take of this slot (core/takes.py): distinct takes are distinct jobs and cache entries,
    # even on a model that takes no seed.
    variant: int = Field(0, ge=0)
    # Consecutive slots with one group name on a model that makes multi-shot takes (Kling 3.0) are made as
    # one take, a shot each (core/plan.py `group_shots`). Empty: a take of its own.
    group: str = ""
    # The structured prompt (template, shot fields) `prompt` was built from for `model`, kept so another
    # model (an A/B's, a promotion's) gets its own family's wording (core/takes.py `worded_for`). None: free text.
    spec: PromptSpec | None = None

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate
