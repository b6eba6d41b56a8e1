"""The model catalog: load the shipped TOML, merge the user's overrides, answer capability questions."""

from __future__ import annotations

import os
from collections.abc import Iterable, Set as AbstractSet
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .catalog_file import CatalogFile, UpdateRefused, installed_file, shipped_version
from .errors import BadInput, UnknownModel, UnsupportedRequest, UserError
from .tomlfile import read_user_file, shipped

Input = Literal["first_frame", "last_frame", "reference_images", "extend", "remix"]
# How core/prompts assembles a prompt from shot fields; "generic" when an entry names none.
Family = Literal["veo", "sora", "runway", "kling", "ltx", "grok", "minimax", "luma", "wan", "draft", "generic"]


class Size(BaseModel):
    model_config = ConfigDict(frozen=True)
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Size:
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


Status = Literal["available", "deprecated", "retired"]


class Dated(BaseModel):
    """Lifecycle facts, as a vendor states them, with where and when they were read.

    A date that has passed acts by itself: past `shutdown_on` a model or route is retired that day,
    past `deprecated_on` it is deprecated, without a catalog release."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    status: Status = "available"
    # `since` / `until` are the names catalog files used before dates were split by meaning.
    deprecated_on: date | None = Field(None, validation_alias=AliasChoices("deprecated_on", "since"))
    shutdown_on: date | None = Field(None, validation_alias=AliasChoices("shutdown_on", "until"))
    source: str = ""  # URL of the vendor's page (or SDK source) the facts were read from
    checked_on: date | None = None
    note: str = ""

    def state(self, today: date | None = None) -> Status:
        today = today or date.today()
        if self.shutdown_on is not None and self.shutdown_on <= today:
            return "retired"
        if self.status == "retired" and self.shutdown_on is None:
            return "retired"
        if self.status != "available" or (self.deprecated_on is not None and self.deprecated_on <= today):
            return "deprecated"  # includes "retired" with a shutdown date still to come
        return "available"


class Route(Dated):
    protocol: str
    model_id: str
    concurrency: int = Field(2, ge=1)
    rpm: int = Field(0, ge=0, description="requests per minute; 0 = no limit")

    @property
    def key(self) -> str:
        return f"{self.protocol}:{self.model_id}"

    def usable(self, today: date | None = None) -> bool:
        return self.state(today) != "retired"

    def label(self) -> str:
        return f"{self.protocol} ({self.model_id})"


class Lifecycle(Dated):
    replacement: list[str] = []  # model ids the vendor names (or, where it names none, the nearest by capability)


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
    max_shots: int = Field(1, ge=1)  # shots one multi-shot take may hold (Kling 3.0: 6); 1: no multi-shot
    # The longest source a video-to-video edit (remix of a video file) takes; None: the longest generation.
    edit_max_seconds: float | None = Field(None, gt=0)
    # Takes a last frame with no first frame (a clip that ends on a picture: `extend --head`).
    last_frame_alone: bool = False
    seed: bool = False
    negative_prompt: bool = False
    prompt_max_chars: int = 2000
    price: dict[str, float]
    lifecycle: Lifecycle = Lifecycle()
    routes: list[Route] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Model:
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
        if not self.price:
            return 0.0  # price unknown (a discovered model): `price_known` says so, and budgets refuse to guess
        return max(self.price.values())  # unknown class: estimate high, so budgets stay safe

    @property
    def price_known(self) -> bool:
        return bool(self.price)

    def state(self, today: date | None = None) -> Status:
        """The model's lifecycle today: its own dates, and retired when every route is."""
        own = self.lifecycle.state(today)
        if own != "retired" and not any(r.usable(today) for r in self.routes):
            return "retired"
        return own

    def usable_routes(self, today: date | None = None) -> list[Route]:
        """Routes that still serve the model today, in order of preference (none once the model is retired)."""
        if self.lifecycle.state(today) == "retired":
            return []
        return [r for r in self.routes if r.usable(today)]

    def shutdown_on(self) -> date | None:
        """The day the model stops being served: its own date, else the last of its routes'."""
        if self.lifecycle.shutdown_on is not None:
            return self.lifecycle.shutdown_on
        dates = [r.shutdown_on for r in self.routes if r.shutdown_on is not None]
        return max(dates) if dates and len(dates) == len(self.routes) else None

    def capabilities(self) -> str:
        """A short phrase of what the model can do, for naming alternatives."""
        parts = [
            f"{self.durations_label()}",
            "/".join(
                sorted(
                    {Size.parse(s).resolution_class for ss in self.sizes.values() for s in ss},
                    key=lambda c: int(c[:-1]),
                )
            ),
        ]
        parts += [i.replace("_", " ") for i in self.inputs]
        if self.audio != "none":
            parts.append("audio")
        return ", ".join(p for p in parts if p)

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

    def replacement_text(self, model: Model) -> str:
        """What to use instead of `model`: its replacements, each with what it can do, so a user can choose."""
        ids = model.lifecycle.replacement
        if not ids:
            return "Choose another model (see `promptreel models`)."
        named = [
            f"{r} ({self.models[r].capabilities()})" if r in self.models else r
            for r in ids
            if r not in self.models or self.models[r].usable_routes()
        ]
        return ("Use " + " or ".join(named) + "." if named else "") + " See `promptreel models` for the others."

    def refuse_if_retired(self, model: Model, today: date | None = None) -> None:
        """Refuse a model its vendor has ended, before anything is spent, naming what replaces it."""
        if model.state(today) != "retired":
            return
        if model.lifecycle.state(today) == "retired":
            when = model.lifecycle.shutdown_on
            ended = f"was shut down on {when}" if when else "is retired"
        else:
            ended = "has no route left that serves it"
        words = f" {model.lifecycle.note}" if model.lifecycle.note else ""
        raise UnsupportedRequest(f"{model.name} ({model.id}) {ended}.{words}", self.replacement_text(model))

    def ending(
        self, model_ids: Iterable[str], today: date | None = None, within_days: int = 30
    ) -> list[tuple[str, str]]:
        """(model id, sentence) for each of `model_ids` that is retired, or whose model or one of whose
        routes shuts down within `within_days`: what `promptreel doctor` warns about."""
        today = today or date.today()
        horizon = date.fromordinal(today.toordinal() + within_days)
        out = []
        for mid in sorted(set(model_ids)):
            model = self.models.get(mid)
            if model is None:
                continue
            if model.state(today) == "retired":
                out.append((mid, f"{mid} is retired. {self.replacement_text(model)}"))
                continue
            when = model.lifecycle.shutdown_on
            if when is not None and when <= horizon:
                out.append((mid, f"{mid} shuts down on {when}. {self.replacement_text(model)}"))
                continue
            for r in model.usable_routes(today):
                if r.shutdown_on is not None and r.shutdown_on <= horizon:
                    out.append((mid, f"{mid} via {r.label()} shuts down on {r.shutdown_on}."))
        return out

    def route_gone(self, model_id: str, route: Route, words: str, skip: AbstractSet[str] = frozenset()) -> str | None:
        """The vendor answered that `route`'s model is gone: record the route as retired (so no later run
        asks it again) and return what to tell the user, plainly, the first time only; None after that.
        `skip` names route keys already out of this run."""
        try:
            if not record_retired(route.key, words):
                return None
            again = "promptreel will not use that route again"
        except (OSError, UserError) as e:  # an unwritable data folder must not end the run: skip it for this one
            again = f"it is skipped for this run (not recorded: {e})"
        model = self.models.get(model_id)
        name = model.name if model else model_id
        told = f"{name} via {route.label()} is gone ({words}); {again}"
        rest = [r for r in (model.usable_routes() if model else []) if r.key != route.key and r.key not in skip]
        if rest:
            return f"{told}, and tries {rest[0].label()} next."
        return f"{told}, and {name} has no other route. " + (self.replacement_text(model) if model else "")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# Routes whose vendor answered "model gone", kept in the data folder: the catalog is read with them
# retired, so a route that died after the release is skipped from then on without asking again.
RETIRED_ROUTES = "retired_routes.toml"


def retired_routes_path() -> Path:
    from .settings import home

    return home() / RETIRED_ROUTES


def retired_routes() -> dict[str, dict[str, Any]]:
    """route key -> {"retired_on": date, "words": the vendor's answer}."""
    path = retired_routes_path()
    if not path.is_file():
        return {}
    data = read_user_file(path, "Retired-routes file")
    return {k: v for k, v in data.get("routes", {}).items() if isinstance(v, dict)}


def record_retired(route_key: str, words: str, today: date | None = None) -> bool:
    """Remember that `route_key`'s vendor said the model is gone (in `words`, already scrubbed of keys).
    Returns True the first time, so the caller tells the user once."""
    import tomli_w

    from .keys import redact

    routes = retired_routes()
    if route_key in routes:
        return False
    routes[route_key] = {"retired_on": today or date.today(), "words": redact(" ".join(words.split()))[:400]}
    path = retired_routes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(
        "# Routes whose vendor answered that the model is gone (written by promptreel).\n"
        "# Delete an entry to try that route again.\n" + tomli_w.dumps({"routes": routes}),
        "utf-8",
    )
    os.replace(temp, path)
    default_catalog.cache_clear()
    return True


def _apply_retired(models: dict[str, Any], retired: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The catalog's routes, with those a vendor has ended marked retired (date and the vendor's words)."""
    out = {}
    for mid, spec in models.items():
        routes = []
        for r in spec.get("routes", []) if isinstance(spec, dict) else []:
            gone = retired.get(f"{r.get('protocol')}:{r.get('model_id')}") if isinstance(r, dict) else None
            if gone:
                r = {
                    **r,
                    "status": "retired",
                    "shutdown_on": gone.get("retired_on"),
                    "checked_on": gone.get("retired_on"),
                    "source": "the route's own answer",
                    "note": f"answered: {gone.get('words', '')}",
                }
                r.pop("until", None)
            routes.append(r)
        out[mid] = {**spec, "routes": routes} if isinstance(spec, dict) and "routes" in spec else spec
    return out


def build_catalog(models: dict[str, Any]) -> Catalog:
    """The catalog of these model tables (id -> fields); pydantic's ValidationError (a TypeError for an entry
    that is not a table) when one does not validate."""
    return Catalog(models={mid: Model(id=mid, **spec) for mid, spec in models.items()})


# --- the catalog's base: the shipped snapshot, or a signed update installed over it (core/catalog_update.py)


def validated(update: CatalogFile, name: str = "the update") -> CatalogFile:
    """`update`, once every model in it validates as the loader builds it; refused otherwise."""
    try:
        build_catalog(update.models)
    except (ValidationError, ValueError, TypeError, AttributeError) as e:
        first = str(e).splitlines()
        detail = " ".join(first[:3]) if first else type(e).__name__
        raise UpdateRefused(
            f"Catalog update {name} fails validation: {detail}.",
            "Ask its publisher for a fixed file; the installed catalog is unchanged.",
        ) from None
    return update


def installed_update() -> CatalogFile | None:
    """The last good update, or None. It was verified when installed; a copy that no longer parses is ignored
    (the shipped snapshot serves) rather than stopping every command."""
    update = installed_file()
    try:
        return validated(update) if update is not None else None
    except UserError:
        return None


def base_models() -> dict[str, Any]:
    """The catalog's base: the installed update when it is newer than the shipped snapshot, else the snapshot
    (a release that ships a newer catalog wins over an older update)."""
    update = installed_update()
    if update is not None and update.catalog_version > shipped_version():
        return update.models
    models: dict[str, Any] = shipped("catalog.toml").get("models", {})
    return models


def current_version() -> int:
    update = installed_update()
    return max(update.catalog_version if update else 0, shipped_version())


def load_catalog(user_file: Path | None = None, with_retired: bool = True) -> Catalog:
    """The shipped catalog, with the user's file (if any) merged over it and, unless `with_retired`
    is False, the routes vendors have answered "model gone" for marked retired."""
    models = base_models()  # the shipped snapshot, or the signed update installed over it
    if user_file is not None:
        user = read_user_file(Path(user_file), "Catalog file", "Fix catalog_file in settings or create the file.")
        models = _merge(models, user.get("models", {}))
        for mid, spec in user.get("models", {}).items():
            if isinstance(spec, dict) and isinstance(spec.get("lifecycle"), dict):
                # A user's lifecycle is a statement of its own (a studio's proxy still serving a model
                # its vendor ended): it replaces the shipped one, dates and all, like a routes list.
                models[mid]["lifecycle"] = spec["lifecycle"]
    if with_retired:
        models = _apply_retired(models, retired_routes())
    try:
        return build_catalog(models)
    except ValidationError as e:
        where = f" (after merging {user_file})" if user_file else ""
        raise BadInput(f"The model catalog is invalid{where}: {e}", "Fix the entry named above.") from None
    except TypeError as e:
        raise BadInput(f"The model catalog is invalid: {e}", "Each model needs a table of fields.") from None


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    from .settings import load_settings

    return load_catalog(load_settings().catalog_file)
