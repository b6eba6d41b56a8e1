"""fal's Platform API as the sandbox serves it: the model listing with each endpoint's OpenAPI 3.0 schema,
and pricing. Shapes as fal documents them (fal.ai/docs/platform-apis/v1/models, .../models/pricing,
.../models/pricing/estimate, read 2026-12-06; see core/discover.py): `GET /v1/models` answers
{"models": [{"endpoint_id", "metadata": {...}, "openapi": {...}}], "next_cursor", "has_more"}, one page per
call (`limit`, `cursor`), filtered by `category`, `status`, `q`, `endpoint_id`; each `openapi` is the
endpoint's own document (a POST on "/{endpoint_id}" whose body is a $ref into components.schemas, nullable
fields as anyOf [..., {"type": "null"}], `x-fal-order-properties`).

Listed: the apps the fal fake already runs (Veo 3.1, from their validation rules), and apps whose
schemas follow fal's pages for them: Wan 2.5 preview text- and image-to-video (per second),
MiniMax Hailuo-02 standard (billed per video: no per-second price; 25 fps, 768p, lengths "6"/"10") and
PixVerse v5 transition (two required images under names promptreel does not map). The fake runs the
discovered apps too, validating each body against the listed schema.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from .loopback import Call, Reply


def prop(
    kind: str,
    *,
    enum: Iterable[object] | None = None,
    default: object = None,
    nullable: bool = False,
    title: str = "",
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title or "", "type": kind, **extra}
    if enum is not None:
        out["enum"] = list(enum)
    if default is not None:
        out["default"] = default
    if nullable:
        out = {"title": out.pop("title"), "anyOf": [out, {"type": "null"}]}
    return out


WAN_COMMON = {
    "prompt": prop("string", maxLength=800, description="The text prompt describing the video."),
    "negative_prompt": prop("string", default="", description="What to avoid."),
    "resolution": prop("string", enum=("480p", "720p", "1080p"), default="1080p"),
    "duration": prop("string", enum=("5", "10"), default="5", description="Duration in seconds."),
    "audio_url": prop("string", nullable=True, description="Background music (WAV or MP3, 3-30 s) to sync with."),
    "seed": prop("integer", nullable=True, description="Random seed for reproducibility."),
    "enable_prompt_expansion": prop("boolean", default=True),
    "enable_safety_checker": prop("boolean", default=True),
}
# endpoint id -> (display name, category, input properties, required, what the app makes: fps, short side, aspect)
APPS = {
    "fal-ai/wan-25-preview/text-to-video": (
        "Wan 2.5 Text to Video",
        "text-to-video",
        {**WAN_COMMON, "aspect_ratio": prop("string", enum=("16:9", "9:16", "1:1"), default="16:9")},
        ["prompt"],
        {"fps": 24},
    ),
    "fal-ai/wan-25-preview/image-to-video": (
        "Wan 2.5 Image to Video",
        "image-to-video",
        {**WAN_COMMON, "image_url": prop("string", description="The image to start from.")},
        ["prompt", "image_url"],
        {"fps": 24},
    ),
    "fal-ai/minimax/hailuo-02/standard/text-to-video": (
        "MiniMax Hailuo-02 Standard",
        "text-to-video",
        {
            "prompt": prop("string", maxLength=2000),
            "duration": prop("string", enum=("6", "10"), default="6"),
            "prompt_optimizer": prop("boolean", default=True),
        },
        ["prompt"],
        {"fps": 25, "short": 768},
    ),
    "fal-ai/pixverse/v5/transition": (
        "PixVerse v5 Transition",
        "image-to-video",
        {
            "prompt": prop("string"),
            "first_image_url": prop("string"),
            "last_image_url": prop("string"),
            "duration": prop("string", enum=("5", "8"), default="5"),
            "aspect_ratio": prop("string", enum=("16:9", "4:3", "1:1", "3:4", "9:16"), default="16:9"),
            "resolution": prop("string", enum=("360p", "540p", "720p", "1080p"), default="720p"),
        },
        ["prompt", "first_image_url", "last_image_url"],
        {"fps": 24},
    ),
}
# endpoint id -> (unit price in USD, unit), as GET /v1/models/pricing reports it
PRICES = {
    "fal-ai/wan-25-preview/text-to-video": (0.05, "second"),
    "fal-ai/wan-25-preview/image-to-video": (0.05, "second"),
    "fal-ai/minimax/hailuo-02/standard/text-to-video": (0.27, "video"),
    "fal-ai/pixverse/v5/transition": (0.2, "video"),
    "fal-ai/veo3.1": (0.4, "second"),
}


def from_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI properties for one of the fal fake's validation tables (tuple = enum, a type = that type)."""
    kinds = {str: "string", int: "integer", bool: "boolean", float: "number", list: "array"}
    out = {}
    for name, rule in rules.items():
        if isinstance(rule, tuple):
            out[name] = prop("integer" if isinstance(rule[0], int) else "string", enum=rule, default=rule[0])
        else:
            out[name] = prop(kinds[rule], nullable=name == "seed")
    return out


def openapi(endpoint_id: str, name: str, category: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The endpoint's OpenAPI 3.0 document in fal's shape."""
    schema_name = "".join(part.title() for part in endpoint_id.replace("-", "/").replace(".", "/").split("/")) + "Input"
    return {
        "openapi": "3.0.4",
        "info": {
            "title": "Queue OpenAPI for " + endpoint_id,
            "version": "1.0.0",
            "x-fal-metadata": {
                "endpointId": endpoint_id,
                "category": category,
                "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
            },
        },
        "components": {
            "securitySchemes": {"apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}},
            "schemas": {
                schema_name: {
                    "title": name.replace(" ", "") + "Input",
                    "type": "object",
                    "properties": props,
                    "required": required,
                    "x-fal-order-properties": list(props),
                }
            },
        },
        "paths": {
            f"/{endpoint_id}/requests/{{request_id}}/status": {
                "get": {"responses": {"200": {"description": "The request status."}}}
            },
            f"/{endpoint_id}": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
                    },
                    "responses": {"200": {"description": "The request status."}},
                }
            },
        },
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
    }


def listing(known_rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Every listed endpoint as GET /v1/models returns it with expand=openapi-3.0."""
    entries = {"fal-ai/veo3.1": ("Veo 3.1", "text-to-video", from_rules(known_rules["fal-ai/veo3.1"]), ["prompt"])}
    entries.update({eid: app[:4] for eid, app in APPS.items()})
    return [
        {
            "endpoint_id": eid,
            "metadata": {
                "display_name": name,
                "category": category,
                "description": name,
                "status": "active",
                "tags": [],
                "updated_at": "2026-11-20T00:00:00Z",
                "model_url": f"https://fal.run/{eid}",
                "date": "2026-09-01T00:00:00Z",
                "highlighted": False,
                "pinned": False,
            },
            "openapi": openapi(eid, name, category, props, required),
        }
        for eid, (name, category, props, required) in entries.items()
    ]


def serve_models(call: Call, known_rules: dict[str, Any]) -> Reply:
    q = {k: v for k, v in call.query.items()}
    items = listing(known_rules)
    if "endpoint_id" in q:
        items = [m for m in items if m["endpoint_id"] in q["endpoint_id"]]
    if "category" in q:
        items = [m for m in items if m["metadata"]["category"] == q["category"][0]]
    if "status" in q:
        items = [m for m in items if m["metadata"]["status"] == q["status"][0]]
    if "q" in q:
        words = q["q"][0].lower()
        items = [m for m in items if words in (m["endpoint_id"] + " " + m["metadata"]["display_name"]).lower()]
    if "openapi-3.0" not in q.get("expand", []):
        items = [{k: v for k, v in m.items() if k != "openapi"} for m in items]
    # "Actual maximum depends on query type and expansion parameters": with schemas inline, pages are short.
    limit = min(int((q.get("limit") or ["20"])[0]), 2 if "openapi-3.0" in q.get("expand", []) else 50)
    start = int(base64.b64decode(q["cursor"][0]).decode()) if "cursor" in q else 0
    page, rest = items[start : start + limit], items[start + limit :]
    cursor = base64.b64encode(str(start + limit).encode()).decode() if rest else None
    return Reply(200, {"models": page, "next_cursor": cursor, "has_more": bool(rest)})


def serve_pricing(call: Call) -> Reply:
    ids = [i for v in call.query.get("endpoint_id", []) for i in v.split(",")]
    if not ids:
        return Reply(400, {"detail": "endpoint_id is required"})
    prices = [
        {"endpoint_id": i, "unit_price": PRICES[i][0], "unit": PRICES[i][1], "currency": "USD"}
        for i in ids
        if i in PRICES
    ]
    return Reply(200, {"prices": prices, "next_cursor": None, "has_more": False})


def serve_estimate(call: Call) -> Reply:
    body = call.json()
    if (
        not isinstance(body, dict)
        or body.get("estimate_type") not in ("unit_price", "historical_api_price")
        or not isinstance(body.get("endpoints"), dict)
    ):
        return Reply(
            422,
            {"detail": [{"loc": ["body"], "msg": "estimate_type and endpoints are required", "type": "value_error"}]},
        )
    qty = "unit_quantity" if body["estimate_type"] == "unit_price" else "call_quantity"
    total = 0.0
    for eid, ask in body["endpoints"].items():
        if eid not in PRICES or not isinstance(ask, dict) or not isinstance(ask.get(qty), (int, float)):
            return Reply(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "endpoints", eid],
                            "msg": f"{qty} is required for a known endpoint",
                            "type": "value_error",
                        }
                    ]
                },
            )
        total += PRICES[eid][0] * ask[qty]
    return Reply(200, {"estimate_type": body["estimate_type"], "total_cost": round(total, 6), "currency": "USD"})


def check_body(endpoint_id: str, body: dict[str, Any]) -> str | None:
    """The first way `body` breaks the listed app's schema (fal answers 422), or None."""
    _, _, props, required, _ = APPS[endpoint_id]
    for key, value in body.items():
        p = props.get(key)
        if p is None:
            return f"{key}: Extra inputs are not permitted"
        kinds = [o.get("type") for o in p.get("anyOf", [p])]
        enum = next((o["enum"] for o in p.get("anyOf", [p]) if "enum" in o), None)
        ok = (value is None and "null" in kinds) or any(
            (k == "string" and isinstance(value, str))
            or (k == "boolean" and isinstance(value, bool))
            or (k == "integer" and isinstance(value, int) and not isinstance(value, bool))
            or (k == "number" and isinstance(value, (int, float)) and not isinstance(value, bool))
            for k in kinds
        )
        if not ok or (enum is not None and value not in enum):
            return f"{key}: Input should be valid: {value!r}"
        if isinstance(value, str) and isinstance(p.get("maxLength"), int) and len(value) > p["maxLength"]:
            return f"{key}: String should have at most {p['maxLength']} characters"
    for key in required:
        if key not in body:
            return f"{key}: Field required"
    return None


def made(endpoint_id: str, body: dict[str, Any]) -> tuple[int, int, str, int]:
    """(fps, short side, aspect, seconds) the listed app makes for `body`."""
    _, _, props, _, makes = APPS[endpoint_id]

    def given(name: str) -> Any:  # the body's value, else the app's default: any JSON value
        return body.get(name, props.get(name, {}).get("default"))

    resolution = given("resolution")
    short = makes.get("short") or ({"1080p": 1080, "480p": 480, "360p": 360, "540p": 540}.get(resolution, 720))
    return makes["fps"], short, given("aspect_ratio") or "16:9", int(str(given("duration") or 5).rstrip("s"))
