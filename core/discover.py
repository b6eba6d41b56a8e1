"""Discovery: a video model listed by fal or Replicate, read from its published input schema and turned into
a catalog entry and an input map a user can add without a release (`promptreel models add`). Pure: the
listings themselves are fetched by core/discover_fetch.py, which records the wire shapes read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

# Property names, in the order tried, for each unified value. A property named none of these is never
# guessed at: it is left at the vendor's default and reported.
NAMES = {
    "negative_prompt": ("negative_prompt",),
    "seed": ("seed",),
    "duration": ("duration", "seconds", "duration_seconds", "video_length"),
    "aspect": ("aspect_ratio", "video_size", "image_size"),
    "resolution": ("resolution",),
    "first_frame": (
        "image_url",
        "first_frame_url",
        "start_image_url",
        "image",
        "start_image",
        "first_frame_image",
        "first_frame",
        "input_image",
        "input_reference",
    ),
    "last_frame": ("last_frame_url", "end_image_url", "tail_image_url", "last_frame", "end_image", "last_frame_image"),
    "reference_images": ("reference_image_urls", "reference_images", "image_urls"),
    "audio": ("generate_audio", "enable_audio", "with_audio"),
    "fps": ("fps", "frames_per_second", "frame_rate"),
}
RATIO = re.compile(r"^(\d+):(\d+)$")
# fal's named frame shapes (its image_size / video_size enums), as the aspect each one is.
NAMED_ASPECTS = {
    "landscape_16_9": "16:9",
    "portrait_16_9": "9:16",
    "landscape_4_3": "4:3",
    "portrait_4_3": "3:4",
    "square_hd": "1:1",
    "square": "1:1",
}


@dataclass
class Discovered:
    route: str
    model_id: str
    name: str
    category: str = ""
    description: str = ""
    page: str = ""  # the model's page: the entry's source
    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    """What a schema lets promptreel send, as a catalog entry and an input map, and what it could not place."""

    inputs: dict[str, Any]  # aggregator input-map fields (see core/data/aggregator_inputs.toml)
    entry: dict[str, Any]  # catalog model fields
    unmapped: list[str]  # "name (type): why" for each property promptreel will not set
    assumed: list[str]  # facts the schema does not state and the entry had to fill in
    blocking: list[str]  # required properties promptreel cannot set: the model cannot be added


# --- schemas ----------------------------------------------------------------------------------------


def _resolve(node: object, root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`node` with $ref, allOf and nullable anyOf folded in (enough for fal's and Replicate's input schemas)."""
    if not isinstance(node, dict) or depth > 8:
        return node if isinstance(node, dict) else {}
    out = {k: v for k, v in node.items() if k not in ("$ref", "allOf", "anyOf")}
    if "$ref" in node:
        target = root
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        out = {**_resolve(target, root, depth + 1), **out}
    for sub in node.get("allOf", []):
        out = {**_resolve(sub, root, depth + 1), **out}
    options = [o for o in node.get("anyOf", []) if isinstance(o, dict) and o.get("type") != "null"]
    if len(options) == 1:
        out = {**_resolve(options[0], root, depth + 1), **out}
    elif options and "type" not in out:
        out["type"] = "/".join(str(_resolve(o, root, depth + 1).get("type", "?")) for o in options)
    return out


def fal_input_schema(endpoint_id: str, openapi: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(properties, required) of the POST body of `endpoint_id` in fal's OpenAPI document."""
    paths = openapi.get("paths", {}) if isinstance(openapi, dict) else {}
    op = (paths.get(f"/{endpoint_id}") or {}).get("post")
    if op is None:  # the document names one submit path; take it whatever its spelling
        op = next(
            (p["post"] for k, p in paths.items() if isinstance(p, dict) and "post" in p and "/requests/" not in k), None
        )
    if op is None:
        return {}, []
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    schema = _resolve(body, openapi)
    return (
        {k: _resolve(v, openapi) for k, v in schema.get("properties", {}).items()},
        list(schema.get("required", [])),
    )


def replicate_input_schema(openapi: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    schema = _resolve(openapi.get("components", {}).get("schemas", {}).get("Input", {}), openapi)
    return (
        {k: _resolve(v, openapi) for k, v in schema.get("properties", {}).items()},
        list(schema.get("required", [])),
    )


def describe(prop: dict[str, Any]) -> str:
    """A property's type and bounds in a few characters: "enum 5|10", "integer 1-10", "string"."""
    if "enum" in prop:
        return "enum " + "|".join(str(v) for v in prop["enum"])
    kind = str(prop.get("type", "any"))
    if prop.get("type") == "array":
        kind = f"array of {_item_type(prop)}"
    if "minimum" in prop or "maximum" in prop:
        kind += f" {prop.get('minimum', '')}-{prop.get('maximum', '')}"
    return kind


def _item_type(prop: dict[str, Any]) -> str:
    items = prop.get("items", {})
    return str(items.get("type", "any")) if isinstance(items, dict) else "any"


# --- mapping ----------------------------------------------------------------------------------------


def _seconds(value: object) -> tuple[int, str] | None:
    """(seconds, duration_format) of one enum value: 5 -> int, "5" -> str, "5s" -> seconds_suffix."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, "int"
    if isinstance(value, float) and value.is_integer():
        return int(value), "int"
    if isinstance(value, str):
        m = re.fullmatch(r"(\d+)(s?)", value.strip())
        if m:
            return int(m.group(1)), "seconds_suffix" if m.group(2) else "str"
    return None


def _resolution_class(value: object) -> str | None:
    text = str(value).lower()
    if text in ("4k", "2160p", "uhd"):
        return "2160p"
    m = re.fullmatch(r"(\d{3,4})p", text)
    return f"{m.group(1)}p" if m else None


def size_for(aspect: str, short: int) -> tuple[int, int]:
    """(width, height) for an aspect label at a short side, even sides: ("9:16", 720) is 720x1280."""
    a, b = (int(x) for x in aspect.split(":"))
    long = int(Fraction(short * max(a, b), min(a, b))) // 2 * 2
    return (long, short) if a >= b else (short, long)


def map_schema(found: Discovered, today: date | None = None) -> Mapping:
    """A catalog entry and input map for `found`, from its property names, types, enums and bounds.
    A property it cannot place is listed, never guessed at."""
    m = _Mapper(found)
    m.prompt()
    m.length()
    m.frame_size()
    m.frame_rate()
    m.images()
    m.switches()
    return m.done()


class _Mapper:
    """One schema being mapped: what each unified value was matched to (`taken`), the catalog entry and
    input map built so far, and the properties left unmapped, the values assumed, the gaps that block."""

    def __init__(self, found: Discovered):
        self.props, self.required = found.properties, set(found.required)
        self.taken: dict[str, str] = {}  # unified value -> property name
        for what, names in NAMES.items():
            for n in names:
                if n in self.props and n not in self.taken.values():
                    self.taken[what] = n
                    break
        self.inputs: dict[str, Any] = {}
        self.entry: dict[str, Any] = {"name": found.name, "vendor": found.route, "family": "generic"}
        self.unmapped: list[str] = []
        self.assumed: list[str] = []
        self.blocking: list[str] = []
        self.used = {"prompt"}

    def drop(self, what: str, why: str) -> None:
        name = self.taken.pop(what)
        self.unmapped.append(f"{name} ({describe(self.props[name])}): {why}")

    def prompt(self) -> None:
        prompt = self.props.get("prompt")
        if prompt is None or "string" not in str(prompt.get("type", "string")):
            self.blocking.append("prompt (the schema has no text prompt)")
        if prompt and isinstance(prompt.get("maxLength"), int):
            self.entry["prompt_max_chars"] = prompt["maxLength"]

    def length(self) -> None:
        """An enum of whole seconds, or integer bounds; else the default length, else it blocks."""
        props, taken, entry, inputs = self.props, self.taken, self.entry, self.inputs
        if "duration" in taken:
            p = props[taken["duration"]]
            enum = p.get("enum", [])
            parsed = [s for s in map(_seconds, enum) if s is not None]
            if enum and len(parsed) == len(enum):
                entry["durations"] = sorted({s for s, _ in parsed})
                inputs.update(duration=taken["duration"], duration_format=parsed[0][1])
            elif p.get("type") == "integer" and "minimum" in p and "maximum" in p:
                entry["duration_range"] = {"min": max(1, int(p["minimum"])), "max": int(p["maximum"])}
                inputs.update(duration=taken["duration"], duration_format="int")
            else:
                self.drop("duration", "its values are not whole seconds promptreel can choose from")
        if "duration" not in taken:
            default = _seconds(props[taken["duration"]].get("default")) if "duration" in taken else None
            if "num_frames" in props:
                self.unmapped.append(
                    f"num_frames ({describe(props['num_frames'])}): a frame count at a rate the "
                    "schema does not state; promptreel sends whole seconds"
                )
                self.used.add("num_frames")
            if default:
                entry["durations"] = [default[0]]
            else:
                self.blocking.append("duration (the schema gives no length promptreel can choose or plan for)")

    def frame_size(self) -> None:
        """Aspect labels x resolution classes; what the schema does not set is planned as 16:9, 720p."""
        props, taken, inputs = self.props, self.taken, self.inputs
        aspects = []
        if "aspect" in taken:
            values: dict[str, str] = {}
            for v in props[taken["aspect"]].get("enum", []):
                a = v if isinstance(v, str) and RATIO.match(v) else NAMED_ASPECTS.get(v) if isinstance(v, str) else None
                if a and a not in values:
                    values[a] = v
            aspects = list(values)
            if aspects:
                inputs.update(aspect=taken["aspect"], aspect_values=values)
            else:
                self.drop("aspect", "no ratio values (W:H or fal's landscape_16_9 names) in its enum")
        if not aspects:
            aspects = ["16:9"]
            self.assumed.append("aspect: the schema sets none; planned as 16:9 (conform fits the real frame)")
        classes: dict[str, str] = {}
        if "resolution" in taken:
            for v in props[taken["resolution"]].get("enum", []):
                c = _resolution_class(v)
                if c and c not in classes:
                    classes[c] = v
            if classes:
                inputs.update(resolution=taken["resolution"], resolution_values=classes)
            else:
                self.drop("resolution", "no resolution classes (720p, 1080p, 4k) in its enum")
        shorts = sorted(int(c[:-1]) for c in classes) or [720]
        if not classes:
            self.assumed.append("resolution: the schema sets none; planned as 720p (conform fits the real frame)")
        self.entry["sizes"] = {a: ["{}x{}".format(*size_for(a, s)) for s in shorts] for a in aspects}

    def frame_rate(self) -> None:
        """Never sent (the input maps carry none); the default is what the model makes."""
        fps = None
        if "fps" in self.taken:
            p = self.props[self.taken["fps"]]
            default = p.get("default")
            if isinstance(default, (int, float)) and not isinstance(default, bool) and float(default).is_integer():
                fps = int(default)
            self.unmapped.append(
                f"{self.taken.pop('fps')} ({describe(p)}): not sent; the model's default"
                + (f" ({fps} fps) applies" if fps else " applies")
            )
        if fps is None:
            fps = 24
            self.assumed.append(
                "fps: the schema states none; planned as 24 (conform probes and converts the real rate)"
            )
        self.entry["fps"] = [fps]

    def images(self) -> None:
        """First and last frame (one image each), reference images (a list); a last frame needs a first."""
        props, taken, entry, inputs = self.props, self.taken, self.entry, self.inputs
        entry["inputs"] = []
        for what in ("first_frame", "last_frame", "reference_images"):
            if what not in taken:
                continue
            p = props[taken[what]]
            is_list = p.get("type") == "array"
            one_image = not is_list and "string" in str(p.get("type", "string"))
            if (what == "reference_images") != is_list or not (is_list or one_image):
                self.drop(
                    what,
                    "its type does not hold " + ("a list of images" if what == "reference_images" else "one image"),
                )
                continue
            inputs[what] = taken[what]
            entry["inputs"].append(what)
            if what == "reference_images":
                entry["max_reference_images"] = int(p.get("maxItems", 1))
                if "maxItems" not in p:
                    self.assumed.append(f"{taken[what]}: no maxItems; one reference image planned")
        if "last_frame" in entry["inputs"] and "first_frame" not in entry["inputs"]:
            entry["inputs"].remove("last_frame")
            inputs.pop("last_frame")
            self.drop("last_frame", "a last frame without a first-frame field")
        entry["requires"] = [
            w
            for w in ("first_frame", "last_frame")
            if w in taken and taken[w] in self.required and w in entry["inputs"]
        ]

    def switches(self) -> None:
        """Audio (a yes/no switch), seed (an integer), negative prompt (a string)."""
        props, taken, entry, inputs = self.props, self.taken, self.entry, self.inputs
        if "audio" in taken:
            if props[taken["audio"]].get("type") == "boolean":
                inputs["audio"] = taken["audio"]
                entry["audio"] = "optional"
            else:
                self.drop("audio", "not a yes/no switch")
        for what, flag in (("seed", "seed"), ("negative_prompt", "negative_prompt")):
            if what in taken:
                kind = str(props[taken[what]].get("type", ""))
                if (what == "seed" and "integer" in kind) or (what == "negative_prompt" and "string" in kind):
                    inputs[what] = taken[what]
                    entry[flag] = True
                else:
                    self.drop(what, f"its type ({kind}) does not hold a {what.replace('_', ' ')}")

    def done(self) -> Mapping:
        """The mapping, with every property not placed listed (and blocking when the schema requires it)."""
        self.used |= set(self.taken.values())
        for name in sorted(set(self.props) - self.used):
            required = name in self.required
            why = "required, and promptreel cannot set it" if required else "not set; the vendor's default applies"
            self.unmapped.append(f"{name} ({describe(self.props[name])}): {why}")
            if required:
                self.blocking.append(name)
        return Mapping(self.inputs, self.entry, self.unmapped, self.assumed, self.blocking)


def catalog_id(found: Discovered) -> str:
    """A catalog id for a discovered model: fal-ai/wan-25-preview/text-to-video -> wan-25-preview-text-to-video."""
    base = found.model_id.removeprefix("fal-ai/") if found.route == "fal" else found.model_id
    return re.sub(r"[^a-z0-9.]+", "-", base.lower()).strip("-")
