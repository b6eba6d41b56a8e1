"""Discovery: video models listed by fal and Replicate, read from their published schemas, turned into
catalog entries (a model and its input mapping) a user can add without a release.

Wire facts (read 2026-12-06):
- fal Platform API, https://api.fal.ai/v1 (fal.ai/docs/platform-apis/v1/models, .../models/pricing,
  .../models/pricing/estimate; `Authorization: Key`): `GET /models?category=&status=active&expand=openapi-3.0[&q=]`
  answers {"models": [{"endpoint_id", "metadata": {"display_name", "category", "description", "status", ...},
  "openapi": {...}}], "next_cursor", "has_more"}. Each `openapi` is the endpoint's OpenAPI 3.0 document: a POST
  on "/{endpoint_id}" whose requestBody schema is a $ref into components.schemas (properties with type, enum,
  minimum/maximum, default; nullable fields as anyOf [{type}, {type: null}]; `x-fal-order-properties`).
  `GET /models/pricing?endpoint_id=` answers {"prices": [{"endpoint_id", "unit_price", "unit", "currency"}]};
  `POST /models/pricing/estimate` with {"estimate_type": "unit_price", "endpoints": {id: {"unit_quantity": n}}}
  answers {"estimate_type", "total_cost", "currency"} (account discounts applied).
- Replicate (replicate-python 1.0.7: replicate/collection.py, model.py, version.py): `GET /v1/collections/{slug}`
  answers {"name", "slug", "description", "models": [model]}; `QUERY /v1/models` with a text/plain body searches
  ({"results": [model], "next"}); a model is {"owner", "name", "description", "url", "latest_version":
  {"id", "openapi_schema"}}, whose openapi_schema.components.schemas.Input holds the properties (enums as
  allOf [$ref] to a schema of their own, `x-order`). Replicate has no pricing API: prices stay unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from .errors import BadInput, UserError

FAL_API = "https://api.fal.ai/v1"
FAL_CATEGORIES = ("text-to-video", "image-to-video")
REPLICATE_API = "https://api.replicate.com/v1"
REPLICATE_COLLECTION = "text-to-video"

# Property names, in the order tried, for each unified value.
NAMES = {
    "negative_prompt": ("negative_prompt",),
    "seed": ("seed",),
    "duration": ("duration", "seconds", "duration_seconds", "video_length"),
    "aspect": ("aspect_ratio",),
    "resolution": ("resolution",),
    "first_frame": ("image_url", "first_frame_url", "start_image_url", "image", "start_image", "first_frame_image",
                    "first_frame", "input_image", "input_reference"),
    "last_frame": ("last_frame_url", "end_image_url", "tail_image_url", "last_frame", "end_image", "last_frame_image"),
    "reference_images": ("reference_image_urls", "reference_images", "image_urls"),
    "audio": ("generate_audio", "enable_audio", "with_audio"),
    "fps": ("fps", "frames_per_second", "frame_rate"),
}
# Fields that only steer the vendor's service, never the picture's length, size or content we plan for:
# left at the vendor's default and reported as such.
RATIO = re.compile(r"^(\d+):(\d+)$")


@dataclass
class Discovered:
    route: str
    model_id: str
    name: str
    category: str = ""
    description: str = ""
    page: str = ""  # the model's page: the entry's source
    properties: dict = field(default_factory=dict)
    required: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    """What a schema lets promptreel send, as a catalog entry and an input map, and what it could not place."""

    inputs: dict  # aggregator input-map fields (see core/data/aggregator_inputs.toml)
    entry: dict  # catalog model fields
    unmapped: list[str]  # "name (type): why" for each property promptreel will not set
    assumed: list[str]  # facts the schema does not state and the entry had to fill in
    blocking: list[str]  # required properties promptreel cannot set: the model cannot be added


# --- schemas ----------------------------------------------------------------------------------------

def _resolve(node, root: dict, depth: int = 0):
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


def fal_input_schema(endpoint_id: str, openapi: dict) -> tuple[dict, list[str]]:
    """(properties, required) of the POST body of `endpoint_id` in fal's OpenAPI document."""
    paths = openapi.get("paths", {}) if isinstance(openapi, dict) else {}
    op = (paths.get(f"/{endpoint_id}") or {}).get("post")
    if op is None:  # the document names one submit path; take it whatever its spelling
        op = next((p["post"] for k, p in paths.items() if isinstance(p, dict) and "post" in p
                   and "/requests/" not in k), None)
    if op is None:
        return {}, []
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    schema = _resolve(body, openapi)
    return ({k: _resolve(v, openapi) for k, v in schema.get("properties", {}).items()}, list(schema.get("required", [])))


def replicate_input_schema(openapi: dict) -> tuple[dict, list[str]]:
    schema = _resolve(openapi.get("components", {}).get("schemas", {}).get("Input", {}), openapi)
    return ({k: _resolve(v, openapi) for k, v in schema.get("properties", {}).items()}, list(schema.get("required", [])))


def describe(prop: dict) -> str:
    """A property's type and bounds in a few characters: "enum 5|10", "integer 1-10", "string"."""
    if "enum" in prop:
        return "enum " + "|".join(str(v) for v in prop["enum"])
    kind = str(prop.get("type", "any"))
    if prop.get("type") == "array":
        kind = f"array of {_item_type(prop)}"
    if "minimum" in prop or "maximum" in prop:
        kind += f" {prop.get('minimum', '')}-{prop.get('maximum', '')}"
    return kind


def _item_type(prop: dict) -> str:
    items = prop.get("items", {})
    return str(items.get("type", "any")) if isinstance(items, dict) else "any"


# --- mapping ----------------------------------------------------------------------------------------

def _seconds(value) -> tuple[int, str] | None:
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


def _resolution_class(value) -> str | None:
    text = str(value).lower()
    if text in ("4k", "2160p", "uhd"):
        return "2160p"
    m = re.fullmatch(r"(\d{3,4})p", text)
    return f"{m.group(1)}p" if m else None


def size_for(aspect: str, short: int) -> str:
    """WxH for an aspect label at a short side, even sides: ("9:16", 720) is 720x1280."""
    a, b = (int(x) for x in aspect.split(":"))
    long = int(Fraction(short * max(a, b), min(a, b))) // 2 * 2
    return f"{long}x{short}" if a >= b else f"{short}x{long}"


def map_schema(found: Discovered, today: date | None = None) -> Mapping:
    """A catalog entry and input map for `found`, from its property names, types, enums and bounds.
    A property it cannot place is listed, never guessed at."""
    props, required = found.properties, set(found.required)
    taken: dict[str, str] = {}  # unified value -> property name
    for what, names in NAMES.items():
        for n in names:
            if n in props and n not in taken.values():
                taken[what] = n
                break
    inputs: dict = {}
    entry: dict = {"name": found.name, "vendor": found.route, "family": "generic"}
    unmapped: list[str] = []
    assumed: list[str] = []
    used = {"prompt"}

    def drop(what: str, why: str) -> None:
        name = taken.pop(what)
        unmapped.append(f"{name} ({describe(props[name])}): {why}")

    prompt = props.get("prompt")
    blocking = [] if prompt is not None and "string" in str(prompt.get("type", "string")) else [
        "prompt (the schema has no text prompt)"]
    if prompt and isinstance(prompt.get("maxLength"), int):
        entry["prompt_max_chars"] = prompt["maxLength"]

    # Length: an enum of whole seconds, or integer bounds.
    if "duration" in taken:
        p = props[taken["duration"]]
        parsed = [_seconds(v) for v in p.get("enum", [])]
        if p.get("enum") and all(parsed):
            entry["durations"] = sorted({s for s, _ in parsed})
            inputs.update(duration=taken["duration"], duration_format=parsed[0][1])
        elif p.get("type") == "integer" and "minimum" in p and "maximum" in p:
            entry["duration_range"] = {"min": max(1, int(p["minimum"])), "max": int(p["maximum"])}
            inputs.update(duration=taken["duration"], duration_format="int")
        else:
            drop("duration", "its values are not whole seconds promptreel can choose from")
    if "duration" not in taken:
        default = _seconds(props[taken["duration"]].get("default")) if "duration" in taken else None
        if "num_frames" in props:
            unmapped.append(f"num_frames ({describe(props['num_frames'])}): a frame count at a rate the schema does "
                            "not state; promptreel sends whole seconds")
            used.add("num_frames")
        if default:
            entry["durations"] = [default[0]]
        else:
            blocking.append("duration (the schema gives no length promptreel can choose or plan for)")

    # Frame size: aspect labels x resolution classes.
    aspects = []
    if "aspect" in taken:
        aspects = [v for v in props[taken["aspect"]].get("enum", []) if isinstance(v, str) and RATIO.match(v)]
        if aspects:
            inputs.update(aspect=taken["aspect"], aspect_values={a: a for a in aspects})
        else:
            drop("aspect", "no ratio values (W:H) in its enum")
    if not aspects:
        aspects = ["16:9"]
        assumed.append("aspect: the schema sets none; planned as 16:9 (conform fits the real frame)")
    classes: dict[str, str] = {}
    if "resolution" in taken:
        for v in props[taken["resolution"]].get("enum", []):
            c = _resolution_class(v)
            if c and c not in classes:
                classes[c] = v
        if classes:
            inputs.update(resolution=taken["resolution"], resolution_values=classes)
        else:
            drop("resolution", "no resolution classes (720p, 1080p, 4k) in its enum")
    shorts = sorted(int(c[:-1]) for c in classes) or [720]
    if not classes:
        assumed.append("resolution: the schema sets none; planned as 720p (conform fits the real frame)")
    entry["sizes"] = {a: [size_for(a, s) for s in shorts] for a in aspects}

    # Frame rate: never sent (the input maps carry none); the default is what the model makes.
    fps = None
    if "fps" in taken:
        p = props[taken["fps"]]
        default = p.get("default")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and float(default).is_integer():
            fps = int(default)
        unmapped.append(f"{taken.pop('fps')} ({describe(p)}): not sent; the model's default"
                        + (f" ({fps} fps) applies" if fps else " applies"))
    if fps is None:
        fps = 24
        assumed.append("fps: the schema states none; planned as 24 (conform probes and converts the real rate)")
    entry["fps"] = [fps]

    # Images, audio, seed, negative prompt.
    entry["inputs"] = []
    for what in ("first_frame", "last_frame", "reference_images"):
        if what not in taken:
            continue
        p = props[taken[what]]
        is_list = p.get("type") == "array"
        if (what == "reference_images") != is_list or (not is_list and "string" not in str(p.get("type", "string"))):
            drop(what, "its type does not hold " + ("a list of images" if what == "reference_images" else "one image"))
            continue
        inputs[what] = taken[what]
        entry["inputs"].append(what)
        if what == "reference_images":
            entry["max_reference_images"] = int(p.get("maxItems", 1))
            if "maxItems" not in p:
                assumed.append(f"{taken[what]}: no maxItems; one reference image planned")
    if "last_frame" in entry["inputs"] and "first_frame" not in entry["inputs"]:
        entry["inputs"].remove("last_frame")
        inputs.pop("last_frame")
        drop("last_frame", "a last frame without a first-frame field")
    entry["requires"] = [w for w in ("first_frame", "last_frame") if w in taken and taken[w] in required
                         and w in entry["inputs"]]
    if "audio" in taken:
        if props[taken["audio"]].get("type") == "boolean":
            inputs["audio"] = taken["audio"]
            entry["audio"] = "optional"
        else:
            drop("audio", "not a yes/no switch")
    for what, flag in (("seed", "seed"), ("negative_prompt", "negative_prompt")):
        if what in taken:
            kind = str(props[taken[what]].get("type", ""))
            if (what == "seed" and "integer" in kind) or (what == "negative_prompt" and "string" in kind):
                inputs[what] = taken[what]
                entry[flag] = True
            else:
                drop(what, f"its type ({kind}) does not hold a {what.replace('_', ' ')}")

    used |= set(taken.values())
    for name in sorted(set(props) - used):
        why = "required, and promptreel cannot set it" if name in required else "not set; the vendor's default applies"
        unmapped.append(f"{name} ({describe(props[name])}): {why}")
        if name in required:
            blocking.append(name)
    return Mapping(inputs, entry, unmapped, assumed, blocking)


def catalog_id(found: Discovered) -> str:
    """A catalog id for a discovered model: fal-ai/wan-25-preview/text-to-video -> wan-25-preview-text-to-video."""
    base = found.model_id.removeprefix("fal-ai/") if found.route == "fal" else found.model_id
    return re.sub(r"[^a-z0-9.]+", "-", base.lower()).strip("-")


# --- fetching ---------------------------------------------------------------------------------------

def _client(route: str):
    import httpx

    from .keys import require_keys

    names = {"fal": ("FAL_KEY",), "replicate": ("REPLICATE_API_TOKEN",)}[route]
    keys = require_keys(names, f"Discovering models on {route}")
    auth = f"Key {keys['FAL_KEY']}" if route == "fal" else f"Bearer {keys['REPLICATE_API_TOKEN']}"
    return httpx.Client(timeout=30.0, headers={"Authorization": auth})


def _get_json(client, method: str, url: str, vendor: str, **kw) -> dict | None:
    """The JSON answer, None on 404; a one-line refusal on anything else."""
    import httpx

    try:
        r = client.request(method, url, **kw)
    except httpx.HTTPError as e:
        raise UserError(f"Could not reach {vendor} at {url.split('?')[0]} ({type(e).__name__}).",
                        "Check the network, or the base URL in settings.") from None
    if r.status_code == 404:
        return None
    if r.status_code in (401, 403):
        raise UserError(f"{vendor} refused the key ({r.status_code}).", "Check the key with `promptreel keys list`.")
    if r.status_code >= 400:
        raise UserError(f"{vendor} answered {r.status_code} to {url.split('?')[0]}.", "Try again later.")
    try:
        body = r.json()
    except ValueError:
        raise UserError(f"{vendor} answered {url.split('?')[0]} with something that is not JSON.", "Try again later.") from None
    return body if isinstance(body, dict) else {}


def _base(route: str) -> str:
    from .settings import base_url_for

    if route == "fal":
        return (base_url_for("fal_api") or FAL_API).rstrip("/")
    base = (base_url_for("replicate") or REPLICATE_API).rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def discover_fal(search: str | None = None, endpoint_id: str | None = None) -> list[Discovered]:
    out: dict[str, Discovered] = {}
    base = _base("fal")
    with _client("fal") as client:
        queries = [{"endpoint_id": endpoint_id}] if endpoint_id else [{"category": c, "status": "active"}
                                                                      for c in FAL_CATEGORIES]
        for query in queries:
            params = {**query, "expand": "openapi-3.0", "limit": 50, **({"q": search} if search else {})}
            cursor = None
            for _ in range(100):  # pages; fal lists about a thousand endpoints in all
                body = _get_json(client, "GET", f"{base}/models", "fal",
                                 params={**params, **({"cursor": cursor} if cursor else {})}) or {}
                for item in body.get("models", []):
                    eid = item.get("endpoint_id")
                    meta = item.get("metadata") or {}
                    if not eid or eid in out:
                        continue
                    props, required = fal_input_schema(eid, item.get("openapi") or {})
                    out[eid] = Discovered("fal", eid, meta.get("display_name") or eid, meta.get("category", ""),
                                          meta.get("description", ""), f"https://fal.ai/models/{eid}", props, required)
                cursor = body.get("next_cursor")
                if not body.get("has_more") or not cursor:
                    break
    return [d for d in out.values() if "video" in d.category or endpoint_id]


def _replicate_model(item: dict, client, base: str) -> Discovered | None:
    owner, name = item.get("owner"), item.get("name")
    if not owner or not name:
        return None
    version = item.get("latest_version") or {}
    schema = version.get("openapi_schema")
    if not schema:  # listings may leave the schema out: ask the model itself
        full = _get_json(client, "GET", f"{base}/models/{owner}/{name}", "Replicate") or {}
        schema = (full.get("latest_version") or {}).get("openapi_schema") or {}
    props, required = replicate_input_schema(schema)
    return Discovered("replicate", f"{owner}/{name}", f"{owner}/{name}", "video", item.get("description") or "", item.get("url") or f"https://replicate.com/{owner}/{name}",
                      props, required)


def discover_replicate(search: str | None = None, model_id: str | None = None) -> list[Discovered]:
    base = _base("replicate")
    out = []
    with _client("replicate") as client:
        if model_id:
            owner, _, name = model_id.partition("/")
            item = _get_json(client, "GET", f"{base}/models/{owner}/{name}", "Replicate")
            items = [item] if item else []
        elif search:
            body = _get_json(client, "QUERY", f"{base}/models", "Replicate", content=search,
                             headers={"Content-Type": "text/plain"}) or {}
            items = body.get("results", [])
        else:
            items = (_get_json(client, "GET", f"{base}/collections/{REPLICATE_COLLECTION}", "Replicate") or {}).get("models", [])
        for item in items:
            if isinstance(item, dict) and (found := _replicate_model(item, client, base)) is not None:
                out.append(found)
    return out


def discover(route: str, search: str | None = None, model_id: str | None = None) -> list[Discovered]:
    if route == "fal":
        return discover_fal(search, model_id)
    if route == "replicate":
        return discover_replicate(search, model_id)
    raise BadInput(f"Discovery reads fal's and Replicate's schemas; '{route}' has none.", "Use --route fal or --route replicate.")


# --- price ------------------------------------------------------------------------------------------

SECOND_UNITS = {"second", "seconds", "video_second", "video_seconds", "sec", "s"}


def fal_price(endpoint_id: str, classes: list[str]) -> tuple[dict[str, float], str]:
    """(price per second by resolution class, or {} when unknown; a note saying where it came from)."""
    base = _base("fal")
    with _client("fal") as client:
        listed = _get_json(client, "GET", f"{base}/models/pricing", "fal", params={"endpoint_id": endpoint_id}) or {}
        price = next((p for p in listed.get("prices", []) if p.get("endpoint_id") == endpoint_id), None)
        if price is None:
            return {}, "price unknown: fal's pricing API lists none for this endpoint"
        unit = str(price.get("unit", "")).lower()
        if unit not in SECOND_UNITS:
            return {}, f"price unknown per second: fal bills this endpoint per {unit or 'unit'}"
        est = _get_json(client, "POST", f"{base}/models/pricing/estimate", "fal",
                        json={"estimate_type": "unit_price", "endpoints": {endpoint_id: {"unit_quantity": 1}}}) or {}
    cost = est.get("total_cost", price.get("unit_price"))
    if not isinstance(cost, (int, float)) or est.get("currency", price.get("currency", "USD")) != "USD":
        return {}, "price unknown: fal's estimate was not in USD"
    return ({c: round(float(cost), 4) for c in classes},
            f"price from fal's pricing API (USD {cost} per second, your account's rate, {date.today()})")
