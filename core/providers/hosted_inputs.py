"""The `input` object for a model hosted on an aggregator (Replicate, fal), from a data table.

Each hosted model has its own input schema; `core/data/aggregator_inputs.toml` names the
field each unified value goes to. One mapper serves every model, so a new hosted model
is a table entry, not code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..tomlfile import shipped
from .httpkit import aspect_of, data_uri, read_image, require

Mode = Literal["text", "first_frame", "first_last", "references"]
UPLOAD_PREFIX = "upload:"  # stands in the input for an image still to be uploaded


class ModeFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = ""
    first_frame: str | None = None
    last_frame: str | None = None
    reference_images: str | None = None


class InputMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duration: str | None = None
    duration_format: Literal["int", "str", "seconds_suffix"] = "int"
    aspect: str | None = None
    aspect_values: dict[str, str] = {}
    resolution: str | None = None
    resolution_values: dict[str, str] = {}
    first_frame: str | None = None
    last_frame: str | None = None
    reference_images: str | None = None
    audio: str | None = None
    negative_prompt: str | None = None
    seed: str | None = None
    modes: dict[str, ModeFields] = {}
    resolution_paths: dict[str, str] = {}  # fal: a sub-path per resolution class (Kling's std / pro apps)


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, InputMap]]:
    raw = shipped("aggregator_inputs.toml")
    return {route: {mid: InputMap(**spec) for mid, spec in models.items()} for route, models in raw.items()}


def input_map(route: str, model_id: str) -> InputMap:
    from pydantic import ValidationError

    from ..catalog_user import user_input_maps
    from ..errors import BadInput

    # A model added with `promptreel models add` carries its map in the user's catalog file.
    mine = user_input_maps().get(route, {})
    if isinstance(mine, dict) and model_id in mine:
        try:
            return InputMap(**mine[model_id])
        except (ValidationError, TypeError) as e:
            raise BadInput(
                f"The input map of {model_id} on {route} in your catalog file is invalid: {e}",
                "Fix it, or add the model again with `promptreel models add --replace`.",
            ) from None
    try:
        return _table()[route][model_id]
    except KeyError:
        known = ", ".join(sorted(_table().get(route, {})))
        raise UnsupportedRequest(
            f"promptreel does not know the input schema of {model_id} on {route}.",
            f"Use one of: {known}, or add the model to aggregator_inputs.toml.",
        ) from None


def _pick(values: dict[str, str], key: str, what: str, model_id: str) -> str:
    if not values:
        return key
    if key not in values:
        raise UnsupportedRequest(f"{model_id} has no {what} {key}.", f"Choose one of: {', '.join(values)}.")
    return values[key]


def build_input(  # noqa: C901 - one branch per input an input map can name
    route: str,
    model_id: str,
    request: GenerationRequest,
    vendor: str,
    image_limit: int | None = None,
    uploads: dict[str, tuple[str, bytes, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(sub-path, input object) for `request` on `model_id`. Refuses what the schema cannot carry.

    Images go inline as data URIs. With `uploads` (a dict to fill), an image whose data URI passes
    `image_limit` is not refused: it is put in `uploads` under a placeholder ("upload:0") that stands
    in the input until the caller has uploaded it and knows its URL."""
    m = input_map(route, model_id)
    mode: Mode = "text"
    if request.first_frame:
        mode = "first_last" if request.last_frame else "first_frame"
    elif request.reference_images and "references" in m.modes:
        mode = "references"
    elif request.last_frame:
        raise UnsupportedRequest(
            f"{model_id} on {vendor} takes a last frame only with a first frame.", "Add a first-frame image."
        )
    fields = m.modes.get(mode, ModeFields())
    first_field = fields.first_frame or m.first_frame
    last_field = fields.last_frame or m.last_frame
    references_field = fields.reference_images or m.reference_images
    for given, field, what in (
        (request.first_frame, first_field, "a first frame"),
        (request.last_frame, last_field, "a last frame"),
        (request.reference_images, references_field, "reference images"),
        (request.extend_video, None, "a video to extend"),
        (request.remix_of, None, "a video to remix"),
        (request.shots, None, "multi-shot takes"),
    ):  # Kling's own route makes them
        if given and not field:
            raise UnsupportedRequest(
                f"{model_id} on {vendor} does not take {what}.",
                "Drop it, or choose another route or model (see `promptreel models`).",
            )

    size = require(request.size, "size", vendor)
    prefix = _pick(m.resolution_paths, size.resolution_class, "resolution", model_id) if m.resolution_paths else ""
    out: dict[str, Any] = {"prompt": request.prompt}
    if m.duration:
        seconds = require(request.seconds, "seconds", vendor)
        out[m.duration] = {"int": seconds, "str": str(seconds), "seconds_suffix": f"{seconds}s"}[m.duration_format]
    if m.aspect:
        out[m.aspect] = _pick(m.aspect_values, request.aspect or aspect_of(size), "aspect ratio", model_id)
    if m.resolution:
        out[m.resolution] = _pick(m.resolution_values, size.resolution_class, "resolution", model_id)
    if m.negative_prompt and request.negative_prompt:
        out[m.negative_prompt] = request.negative_prompt
    if m.seed and request.seed is not None:
        out[m.seed] = request.seed
    if m.audio and request.audio is not None:
        out[m.audio] = request.audio

    def image(path: Path, what: str) -> str:
        if uploads is None:
            return data_uri(path, what, image_limit, vendor)
        uri = data_uri(path, what)
        if image_limit is None or len(uri) <= image_limit:
            return uri
        key = f"{UPLOAD_PREFIX}{len(uploads)}"
        data, mime = read_image(path, what)
        uploads[key] = (Path(path).name, data, mime)
        return key

    # Each field is set when its input is given (refused above otherwise).
    if request.first_frame and first_field:
        out[first_field] = image(request.first_frame, "first frame")
    if request.last_frame and last_field:
        out[last_field] = image(request.last_frame, "last frame")
    if request.reference_images and references_field:
        out[references_field] = [image(p, "reference") for p in request.reference_images]
    return prefix + fields.path, out
