"""What a route's auth adds to a request for a URL: the headers it would carry (credentials included)."""

from __future__ import annotations

import httpx


def signed(proto, url: str, method: str = "GET") -> httpx.Headers:
    request = httpx.Request(method, url)
    if proto.auth is not None:
        flow = proto.auth.sync_auth_flow(request)
        next(flow)
    return request.headers
