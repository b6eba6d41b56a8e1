"""Fetching what fal and Replicate list: the models with their input schemas, and fal's prices.

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

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx  # imported where used: `promptreel --help` does not load it

from .discover import Discovered, fal_input_schema, replicate_input_schema
from .errors import BadInput, UserError

FAL_API = "https://api.fal.ai/v1"
FAL_CATEGORIES = ("text-to-video", "image-to-video")
REPLICATE_API = "https://api.replicate.com/v1"
REPLICATE_COLLECTION = "text-to-video"


# --- fetching ---------------------------------------------------------------------------------------


def _client(route: str) -> httpx.Client:
    import httpx

    from .keys import require_keys

    names = {"fal": ("FAL_KEY",), "replicate": ("REPLICATE_API_TOKEN",)}[route]
    keys = require_keys(names, f"Discovering models on {route}")
    auth = f"Key {keys['FAL_KEY']}" if route == "fal" else f"Bearer {keys['REPLICATE_API_TOKEN']}"
    return httpx.Client(timeout=30.0, headers={"Authorization": auth})


def _get_json(client: httpx.Client, method: str, url: str, vendor: str, **kw: Any) -> dict[str, Any] | None:
    """The JSON answer, None on 404; a one-line refusal on anything else."""
    import httpx

    try:
        r = client.request(method, url, **kw)
    except httpx.HTTPError as e:
        raise UserError(
            f"Could not reach {vendor} at {url.split('?')[0]} ({type(e).__name__}).",
            "Check the network, or the base URL in settings.",
        ) from None
    if r.status_code == 404:
        return None
    if r.status_code in (401, 403):
        raise UserError(f"{vendor} refused the key ({r.status_code}).", "Check the key with `promptreel keys list`.")
    if r.status_code >= 400:
        raise UserError(f"{vendor} answered {r.status_code} to {url.split('?')[0]}.", "Try again later.")
    try:
        body = r.json()
    except ValueError:
        raise UserError(
            f"{vendor} answered {url.split('?')[0]} with something that is not JSON.", "Try again later."
        ) from None
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
        queries = (
            [{"endpoint_id": endpoint_id}]
            if endpoint_id
            else [{"category": c, "status": "active"} for c in FAL_CATEGORIES]
        )
        for query in queries:
            params = {**query, "expand": "openapi-3.0", "limit": 50, **({"q": search} if search else {})}
            cursor = None
            for _ in range(100):  # pages; fal lists about a thousand endpoints in all
                body = (
                    _get_json(
                        client,
                        "GET",
                        f"{base}/models",
                        "fal",
                        params={**params, **({"cursor": cursor} if cursor else {})},
                    )
                    or {}
                )
                for item in body.get("models", []):
                    eid = item.get("endpoint_id")
                    meta = item.get("metadata") or {}
                    if not eid or eid in out:
                        continue
                    props, required = fal_input_schema(eid, item.get("openapi") or {})
                    out[eid] = Discovered(
                        "fal",
                        eid,
                        meta.get("display_name") or eid,
                        meta.get("category", ""),
                        meta.get("description", ""),
                        f"https://fal.ai/models/{eid}",
                        props,
                        required,
                    )
                cursor = body.get("next_cursor")
                if not body.get("has_more") or not cursor:
                    break
    return [d for d in out.values() if "video" in d.category or endpoint_id]


def _replicate_model(item: dict[str, Any], client: httpx.Client, base: str) -> Discovered | None:
    owner, name = item.get("owner"), item.get("name")
    if not owner or not name:
        return None
    version = item.get("latest_version") or {}
    schema = version.get("openapi_schema")
    if not schema:  # listings may leave the schema out: ask the model itself
        full = _get_json(client, "GET", f"{base}/models/{owner}/{name}", "Replicate") or {}
        schema = (full.get("latest_version") or {}).get("openapi_schema") or {}
    props, required = replicate_input_schema(schema)
    return Discovered(
        "replicate",
        f"{owner}/{name}",
        f"{owner}/{name}",
        "video",
        item.get("description") or "",
        item.get("url") or f"https://replicate.com/{owner}/{name}",
        props,
        required,
    )


def discover_replicate(search: str | None = None, model_id: str | None = None) -> list[Discovered]:
    base = _base("replicate")
    out = []
    with _client("replicate") as client:
        if model_id:
            owner, _, name = model_id.partition("/")
            item = _get_json(client, "GET", f"{base}/models/{owner}/{name}", "Replicate")
            items = [item] if item else []
        elif search:
            body = (
                _get_json(
                    client,
                    "QUERY",
                    f"{base}/models",
                    "Replicate",
                    content=search,
                    headers={"Content-Type": "text/plain"},
                )
                or {}
            )
            items = body.get("results", [])
        else:
            items = (_get_json(client, "GET", f"{base}/collections/{REPLICATE_COLLECTION}", "Replicate") or {}).get(
                "models", []
            )
        for item in items:
            if isinstance(item, dict) and (found := _replicate_model(item, client, base)) is not None:
                out.append(found)
    return out


def discover(route: str, search: str | None = None, model_id: str | None = None) -> list[Discovered]:
    if route == "fal":
        return discover_fal(search, model_id)
    if route == "replicate":
        return discover_replicate(search, model_id)
    raise BadInput(
        f"Discovery reads fal's and Replicate's schemas; '{route}' has none.", "Use --route fal or --route replicate."
    )


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
        est = (
            _get_json(
                client,
                "POST",
                f"{base}/models/pricing/estimate",
                "fal",
                json={"estimate_type": "unit_price", "endpoints": {endpoint_id: {"unit_quantity": 1}}},
            )
            or {}
        )
    cost = est.get("total_cost", price.get("unit_price"))
    if not isinstance(cost, (int, float)) or est.get("currency", price.get("currency", "USD")) != "USD":
        return {}, "price unknown: fal's estimate was not in USD"
    return (
        {c: round(float(cost), 4) for c in classes},
        f"price from fal's pricing API (USD {cost} per second, your account's rate, {date.today()})",
    )
