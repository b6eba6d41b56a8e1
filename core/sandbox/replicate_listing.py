"""Replicate's model listing as the sandbox serves it: `GET /v1/collections/{slug}`, `QUERY /v1/models`
(search, text/plain body), `GET /v1/models/{owner}/{name}` — shapes as replicate-python 1.0.7 reads them
(replicate/collection.py, model.py, version.py). Each model carries `latest_version.openapi_schema` in Cog's
form: components.schemas.Input with `x-order`, enums as allOf [$ref] to a schema of their own, files as
strings of format uri.

Listed: the official models the Replicate fake runs (from its validation tables), plus Wan 2.5 T2V (its
frame size is a `size` enum of "1280*720" strings promptreel does not map) and Kling v2.1 (image-to-video,
`start_image` required).
"""

from __future__ import annotations

import hashlib
from typing import Any

EXTRA: dict[str, dict[str, str | tuple[object, ...]]] = {  # as replicate.SCHEMAS
    "wan-video/wan-2.5-t2v": {
        "prompt": "str",
        "negative_prompt": "str",
        "size": ("1280*720", "720*1280", "1920*1080", "1080*1920"),
        "duration": (5, 10),
        "seed": "int",
        "audio": "str",
        "enable_prompt_expansion": "bool",
    },
    "kwaivgi/kling-v2.1": {
        "prompt": "str",
        "start_image": "str",
        "mode": ("standard", "pro"),
        "duration": (5, 10),
        "negative_prompt": "str",
    },
}
REQUIRED = {"kwaivgi/kling-v2.1": ["prompt", "start_image"]}
FILES = {"image", "last_frame", "start_image", "audio", "input_reference"}
KINDS = {"str": "string", "int": "integer", "bool": "boolean", "list": "array"}


def openapi_schema(rules: dict[str, Any], required: list[str]) -> dict[str, Any]:
    props, enums = {}, {}
    for order, (name, rule) in enumerate(rules.items()):
        if isinstance(rule, tuple):
            enums[name] = {
                "type": "integer" if isinstance(rule[0], int) else "string",
                "title": name,
                "enum": list(rule),
                "description": "An enumeration.",
            }
            props[name] = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "default": rule[0], "x-order": order}
        else:
            props[name] = {"type": KINDS[rule], "title": name.replace("_", " ").title(), "x-order": order}
            if name in FILES:
                props[name]["format"] = "uri"
            if rule == "list":
                props[name]["items"] = {"type": "string", "format": "uri"}
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {
            "/predictions": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Input": {"type": "object", "title": "Input", "required": required, "properties": props},
                "Output": {"type": "string", "title": "Output", "format": "uri"},
                **enums,
            }
        },
    }


def model(key: str, rules: dict[str, Any]) -> dict[str, Any]:
    owner, name = key.split("/")
    return {
        "url": f"https://replicate.com/{key}",
        "owner": owner,
        "name": name,
        "description": f"{key} video model",
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 1000,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": {
            "id": hashlib.sha256(key.encode()).hexdigest(),
            "created_at": "2026-11-01T00:00:00Z",
            "cog_version": "0.16.8",
            "openapi_schema": openapi_schema(rules, REQUIRED.get(key, ["prompt"])),
        },
    }
