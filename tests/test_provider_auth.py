"""One HTTP layer: each route's client carries its auth, the auth signs only the route's hosts, and no
protocol adds credentials to a request by hand."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.engine import create_outcome_unknown
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, ProviderError
from promptreel.core.providers.httpkit import send, send_before_create
from promptreel.core.sandbox.loopback import LoopbackServer, Reply
from tests.auth_helpers import signed

PROVIDERS = Path(__file__).resolve().parents[1] / "core" / "providers"
HTTP_LAYER = {"auth.py", "httpkit.py"}
# Credentials merged into a call, a host check standing in for scoped auth, or a call around `send`.
BY_HAND = re.compile(
    r"auth_headers\(|\bowns\(|headers\s*=\s*\{\s*\*\*|self\.client\.(get|post|put|patch|delete|request|stream)\("
)

KEY = "sk-test-key-0123456789"
# route -> (model, credentials): every HTTP route promptreel ships, with a key its auth must carry.
ROUTES = {
    "openai": ("sora-2", {"OPENAI_API_KEY": KEY}),
    "gemini": ("veo-3.1-generate-preview", {"GEMINI_API_KEY": KEY}),
    "vertex": ("veo-3.1-generate-001", {"access_token": KEY}),
    "runway": ("gen4_turbo", {"RUNWAYML_API_SECRET": KEY}),
    "kling": ("kling-v2-1", {"KLING_API_KEY": KEY}),
    "ltx": ("ltx-2-3-pro", {"LTX_API_KEY": KEY}),
    "replicate": ("google/veo-3.1", {"REPLICATE_API_TOKEN": KEY}),
    "fal": ("fal-ai/veo3.1", {"FAL_KEY": KEY}),
    "xai": ("grok-imagine-video", {"XAI_API_KEY": KEY}),
    "minimax": ("MiniMax-Hailuo-02", {"MINIMAX_API_KEY": KEY}),
    "luma": ("ray-2", {"LUMA_AGENTS_API_KEY": KEY}),
}


def test_no_protocol_merges_credentials_by_hand():
    found = []
    for path in sorted(PROVIDERS.glob("*.py")):
        if path.name in HTTP_LAYER:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if BY_HAND.search(line):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert found == [], "credentials belong in the route's auth (core/providers/auth.py):\n" + "\n".join(found)


def make(route: str, client: httpx.AsyncClient | None = None, base_url: str | None = None):
    model, creds = ROUTES[route]
    kw = {"project": "p"} if route == "vertex" else {}
    return protocol_class(route, model)(
        client or httpx.AsyncClient(), Route(protocol=route, model_id=model), creds, base_url=base_url, **kw
    )


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_route_signs_its_own_host_and_no_other(route):
    proto = make(route)
    assert proto.client.auth is proto.auth and str(proto.client.base_url).rstrip("/") == proto.base_url
    own = signed(proto, proto.base_url + "/anything")
    assert any(KEY in value for value in own.values()), own
    assert not any(KEY in value for value in signed(proto, "https://cdn.example.net/out.mp4").values())
    url, headers = proto.media_request(type("M", (), {"url": proto.base_url + "/out.mp4"})())
    assert not any(KEY in value for value in headers.values())  # media headers are plain: the auth signs


async def test_route_client_shares_the_pools_settings_and_signs_only_its_host():
    with LoopbackServer() as api, LoopbackServer() as cdn:
        api.route("GET", "/v1/videos/v1")(lambda c: Reply(200, {"id": "v1"}))
        cdn.route("GET", "/x")(lambda c: Reply(200, b"x"))
        async with httpx.AsyncClient(timeout=3.0, headers={"X-Probe": "1"}) as pool:
            proto = make("openai", pool, api.url + "/v1")
            assert proto.client.timeout == pool.timeout
            assert (await proto.client.get("/videos/v1")).json() == {"id": "v1"}  # relative to the base URL
            await proto.client.get(cdn.url + "/x")  # an absolute URL elsewhere, through the same client
        assert api.calls[0].headers["authorization"] == f"Bearer {KEY}" and api.calls[0].headers["x-probe"] == "1"
        assert "authorization" not in cdn.calls[0].headers and cdn.calls[0].headers["x-probe"] == "1"


def _dropping_server(times: int) -> tuple[str, threading.Thread, socket.socket]:
    """A server that reads a request and closes the connection without answering, `times` times."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def serve():
        for _ in range(times):
            conn, _ = sock.accept()
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", thread, sock


async def test_a_failed_upload_before_a_create_is_not_an_unknown_outcome():
    url, thread, sock = _dropping_server(2)
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            with pytest.raises(ProviderError) as plain:
                await send(client, "POST", url + "/files", vendor="Replicate", content=b"x")
            failed = await send_before_create(client, "POST", url + "/files", vendor="Replicate", content=b"x")
    finally:
        thread.join(5)
        sock.close()
    assert create_outcome_unknown(plain.value)  # raised in the transport error's context: looks like a lost create
    assert failed in ("RemoteProtocolError", "ReadError")  # closed with no answer (or reset, as the timing falls)
    error = ProviderError(ErrorKind.RETRYABLE, f"Uploading failed ({failed}).")
    assert not create_outcome_unknown(error)  # nothing was created: the engine may send again


def test_comfyuis_basic_auth_from_its_url_signs_its_own_host_and_no_other():
    proto = protocol_class("comfyui")(
        httpx.AsyncClient(),
        Route(protocol="comfyui", model_id="wan"),
        {},
        base_url="http://studio:s3cret-pass@comfy.lan:8188",
        workflow=Path("w.json"),
    )
    assert proto.base_url == "http://comfy.lan:8188" and proto.client.auth is proto.auth
    assert signed(proto, proto.base_url + "/prompt").get("authorization") == "Basic c3R1ZGlvOnMzY3JldC1wYXNz"
    assert "authorization" not in signed(proto, "http://cdn.example.net/view?filename=a.mp4")
    assert (
        protocol_class("comfyui")(
            httpx.AsyncClient(),
            Route(protocol="comfyui", model_id="wan"),
            {},
            base_url="http://comfy.lan:8188",
            workflow=Path("w.json"),
        ).auth
        is None
    )
