"""Credentials as `httpx.Auth`: each route's client carries one, and it signs only the route's own hosts.

A protocol says how it authenticates (a bearer, an API-key header, Kling's JWT, Vertex's refreshed token)
and never adds credentials to a request itself. The auth adds them when the request's host is one the
route owns, so an absolute URL from a vendor's answer (fal's status URL, a CDN link) gets no key. Downloads
go through the engine's own client, which carries no auth at all: whatever a redirect names, the key stays.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator, Callable, Generator, Iterable

import httpx


def host_of(url: str | httpx.URL) -> str:
    """`host[:port]` of a URL, as a request to it carries it (no user info)."""
    return httpx.URL(url).netloc.decode("ascii")


class HeaderAuth(httpx.Auth):
    """Credentials that are request headers, added only to requests for `hosts`."""

    def __init__(self, hosts: Iterable[str]):
        self.hosts = frozenset(hosts)

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    async def headers_async(self) -> dict[str, str]:
        return self.headers()

    def covers(self, url: str | httpx.URL) -> bool:
        return host_of(url) in self.hosts

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.covers(request.url):
            request.headers.update(self.headers())
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.covers(request.url):
            request.headers.update(await self.headers_async())
        yield request


class Bearer(HeaderAuth):
    """`Authorization: Bearer <token>` (OpenAI, Runway, Luma, MiniMax, xAI, LTX, Replicate, Kling's API key)."""

    def __init__(self, token: str, hosts: Iterable[str]):
        super().__init__(hosts)
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class KeyHeader(HeaderAuth):
    """A key in a header of the vendor's choosing: `x-goog-api-key: <key>`, fal's `Authorization: Key <key>`."""

    def __init__(self, name: str, value: str, hosts: Iterable[str]):
        super().__init__(hosts)
        self.name, self.value = name, value

    def headers(self) -> dict[str, str]:
        return {self.name: self.value}


class Basic(HeaderAuth):
    """HTTP basic auth, `Authorization: Basic base64(user:password)` (a ComfyUI behind a proxy that asks for it)."""

    def __init__(self, user: str, password: str, hosts: Iterable[str]):
        super().__init__(hosts)
        self.value = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.value}


class Computed(HeaderAuth):
    """Headers made per request by `make` (a signed token that expires). `blocking`: `make` may wait on the
    network (a token refresh), so it runs off the event loop."""

    def __init__(self, make: Callable[[], dict[str, str]], hosts: Iterable[str], blocking: bool = False):
        super().__init__(hosts)
        self.make, self.blocking = make, blocking

    def headers(self) -> dict[str, str]:
        return self.make()

    async def headers_async(self) -> dict[str, str]:
        return await asyncio.to_thread(self.make) if self.blocking else self.make()


def route_client(pool: httpx.AsyncClient, base_url: str, auth: httpx.Auth | None) -> httpx.AsyncClient:
    """A route's client: its base URL and auth over `pool`'s connections, timeout and headers.

    Sharing the pool's transport means a route client opens no sockets of its own and needs no closing:
    the engine's session closes the pool.
    """
    return httpx.AsyncClient(
        base_url=base_url, auth=auth, timeout=pool.timeout, headers=pool.headers, transport=pool._transport
    )  # httpx has no public accessor for a client's transport
