"""Downloads on real sockets: Range resume, servers without Range, redirects and credentials."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from promptreel.core.download import DownloadError, fetch
from promptreel.core.providers.auth import Bearer, KeyHeader, host_of
from promptreel.core.sandbox.loopback import LoopbackServer, Reply

DATA = bytes(range(256)) * 40


def _fetch(url, dest, headers=None, auth=None):
    async def go():
        async with httpx.AsyncClient() as client:
            return await fetch(client, url, headers or {}, dest, auth=auth)

    return asyncio.run(go())


def test_server_without_range_restarts_from_zero(tmp_path):
    with LoopbackServer() as srv:
        n = iter(range(10))
        srv.route("GET", "/f")(lambda c: Reply(200, DATA, truncate_at=1000 if next(n) == 0 else None))
        dest = tmp_path / "f"
        with pytest.raises(DownloadError) as e:
            _fetch(srv.url + "/f", dest)
        assert e.value.retryable and dest.stat().st_size == 1000
        assert _fetch(srv.url + "/f", dest) == len(DATA)
        assert dest.read_bytes() == DATA  # the ignored Range did not append a second copy


def test_redirects_keep_credentials_on_host_and_drop_them_off_host(tmp_path):
    with LoopbackServer() as cdn, LoopbackServer() as api:
        cdn.route("GET", "/blob")(lambda c: Reply(200, DATA, ranges=True))
        api.route("GET", "/a")(lambda c: Reply(302, b"", headers={"Location": "/b"}))
        api.route("GET", "/b")(lambda c: Reply(307, b"", headers={"Location": cdn.url + "/blob"}))
        auth = Bearer("k", {host_of(api.url)})
        assert _fetch(api.url + "/a", tmp_path / "x", auth=auth) == len(DATA)
        assert [c.headers.get("authorization") for c in api.calls] == ["Bearer k", "Bearer k"]
        assert "authorization" not in cdn.calls[0].headers


def test_a_key_header_never_reaches_a_redirected_host(tmp_path):
    """httpx drops only Authorization on a cross-origin redirect; x-goog-api-key and the like are
    kept off the other host because the route's auth signs its own host only and is not passed on."""
    with LoopbackServer() as cdn, LoopbackServer() as api:
        cdn.route("GET", "/blob")(lambda c: Reply(302, b"", headers={"Location": api.url + "/back"}))
        api.route("GET", "/a")(lambda c: Reply(302, b"", headers={"Location": cdn.url + "/blob"}))
        api.route("GET", "/back")(lambda c: Reply(200, DATA))
        auth = KeyHeader("x-goog-api-key", "secret-key", {host_of(api.url), host_of(cdn.url)})
        assert _fetch(api.url + "/a", tmp_path / "x", {"Accept": "video/*"}, auth=auth) == len(DATA)
        assert api.calls[0].headers["x-goog-api-key"] == "secret-key"
        # Left the first host: not even a host the auth covers gets the key again, back at the API included.
        assert [c.headers.get("x-goog-api-key") for c in cdn.calls + api.calls[1:]] == [None, None]
        assert all(c.headers.get("accept") == "video/*" for c in api.calls + cdn.calls)  # plain headers stay


def test_the_auth_signs_only_its_own_hosts(tmp_path):
    with LoopbackServer() as cdn:
        cdn.route("GET", "/blob")(lambda c: Reply(200, DATA))
        auth = Bearer("k", {"api.example.com"})
        assert _fetch(cdn.url + "/blob", tmp_path / "x", auth=auth) == len(DATA)
        assert "authorization" not in cdn.calls[0].headers


def test_expired_url_is_not_retryable_and_redirect_loops_stop(tmp_path):
    with LoopbackServer() as srv:
        srv.route("GET", "/gone")(lambda c: Reply(410, b"expired"))
        srv.route("GET", "/loop")(lambda c: Reply(302, b"", headers={"Location": "/loop"}))
        srv.route("GET", "/busy")(lambda c: Reply(503, b"", headers={"Retry-After": "7"}))
        with pytest.raises(DownloadError) as e:
            _fetch(srv.url + "/gone", tmp_path / "g")
        assert (e.value.retryable, e.value.status) == (False, 410)
        with pytest.raises(DownloadError, match="redirected more than"):
            _fetch(srv.url + "/loop", tmp_path / "l")
        with pytest.raises(DownloadError) as e:
            _fetch(srv.url + "/busy", tmp_path / "b")
        assert e.value.retryable and e.value.retry_after == 7
