"""The model catalog: load the shipped TOML, merge the user's overrides, answer capability questions."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import BadInput, UnknownModel
from .tomlfile import read_user_file, shipped

Input = Literal["first_frame", "last_frame", "reference_images", "extend", "remix"]
# How core/prompts assembles a prompt from shot fields; "generic" when an entry names none.
Family = Literal["veo", "sora", "runway", "kling", "ltx", "draft", "generic"]


class Size(BaseModel):
    model_config = ConfigDict(frozen=True)
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> "Size":
        try:
            w, h = text.lower().split("x")
            size = cls(width=int(w), height=int(h))
        except (ValueError, ValidationError):
            raise BadInput(f"'{text}' is not a frame size.", "Write it as WIDTHxHEIGHT, e.g. 1920x1080.") from None
        if size.width <= 0 or size.height <= 0 or size.width > 16384 or size.height > 16384:
            raise BadInput(f"Frame size {text} is out of range.", "Use a size between 1x1 and 16384x16384.")
        return size

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def resolution_class(self) -> str:
        """'720p', '1080p', '1024p', '2160p': the short side, as vendors price it."""
        return f"{min(self.width, self.height)}p"


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: str
    model_id: str
    concurrency: int = Field(2, ge=1)
    rpm: int = Field(0, ge=0, description="requests per minute; 0 = no limit")
    status: Literal["available", "deprecated", "retired"] = "available"
    until: date | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.protocol}:{self.model_id}"

    def usable(self, today: date | None = None) -> bool:
        today = today or date.today()
        return not (self.status == "retired" and (self.until is None or self.until <= today))


class Lifecycle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "deprecated", "retired"] = "available"
    since: date | None = None
    until: date | None = None
    note: str = ""


class DurationRange(BaseModel):
    min: int = Field(ge=1)
    max: int = Field(ge=1)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    vendor: str
    family: Family = "generic"
    durations: list[int] = []
    duration_range: DurationRange | None = None
    any_duration: bool = False
    durations_by_resolution: dict[str, list[int]] = {}
    sizes: dict[str, list[str]]
    image_only_sizes: list[str] = []
    any_size: bool = False
    fps: list[int]
    any_fps: bool = False
    audio: Literal["none", "native", "optional"] = "none"
    inputs: list[Input] = []
    requires: list[Input] = []
    max_reference_images: int = 0
    seed: bool = False
    negative_prompt: bool = False
    prompt_max_chars: int = 2000
    price: dict[str, float]
    lifecycle: Lifecycle = Lifecycle()
    routes: list[Route] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> "Model":
        if not (self.durations or self.duration_range or self.any_duration):
            raise ValueError("give durations, duration_range or any_duration")
        for sizes in self.sizes.values():
            for s in sizes:
                Size.parse(s)
        return self

    def allowed_durations(self, size: Size | None = None) -> list[int]:
        """Whole-second lengths the model makes (at this size, where that narrows it)."""
        if self.durations:
            allowed = list(self.durations)
        elif self.duration_range:
            allowed = list(range(self.duration_range.min, self.duration_range.max + 1))
        else:
            allowed = []
        if size is not None and size.resolution_class in self.durations_by_resolution:
            narrowed = set(self.durations_by_resolution[size.resolution_class])
            allowed = [d for d in allowed if d in narrowed]
        return sorted(allowed)

    def all_sizes(self, with_image: bool = True) -> list[Size]:
        out = []
        for sizes in self.sizes.values():
            for s in sizes:
                if with_image or s not in self.image_only_sizes:
                    out.append(Size.parse(s))
        return out

    def price_per_second(self, size: Size | None) -> float:
        if "any" in self.price:
            return self.price["any"]
        if size is not None and size.resolution_class in self.price:
            return self.price[size.resolution_class]
        return max(self.price.values())  # unknown class: estimate high, so budgets stay safe

    def usable_routes(self, today: date | None = None) -> list[Route]:
        return [r for r in self.routes if r.usable(today)]

    def durations_label(self) -> str:
        if self.any_duration:
            return "any"
        if self.duration_range and not self.durations:
            return f"{self.duration_range.min}-{self.duration_range.max}s"
        return ",".join(str(d) for d in self.durations) + "s"


class Catalog(BaseModel):
    models: dict[str, Model]

    def get(self, model_id: str) -> Model:
        try:
            return self.models[model_id]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise UnknownModel(
                f"Unknown model '{model_id}'.", f"Choose one of: {known} (see `promptreel models`)."
            ) from None


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_catalog(user_file: Path | None = None) -> Catalog:
    """The shipped catalog, with the user's file (if any) merged over it."""
    models = shipped("catalog.toml").get("models", {})
    if user_file is not None:
        user = read_user_file(Path(user_file), "Catalog file", "Fix catalog_file in settings or create the file.")
        models = _merge(models, user.get("models", {}))
    try:
        return Catalog(models={mid: Model(id=mid, **spec) for mid, spec in models.items()})
    except ValidationError as e:
        where = f" (after merging {user_file})" if user_file else ""
        raise BadInput(f"The model catalog is invalid{where}: {e}", "Fix the entry named above.") from None
    except TypeError as e:
        raise BadInput(f"The model catalog is invalid: {e}", "Each model needs a table of fields.") from None


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    from .settings import load_settings

    return load_catalog(load_settings().catalog_file)
