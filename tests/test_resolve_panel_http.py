"""The panel's HTTP edge over real loopback sockets: the one-time sign-in link and its cookie (the
session token never goes on a command line), malformed and stalled requests."""

from __future__ import annotations

import socket

import httpx
import pytest

from promptreel.resolve_plugin import panel as panel_module
from promptreel.resolve_plugin.gateway import DirectGateway
from promptreel.resolve_plugin.panel import Panel
from tests.fakes.resolve import cut_with_placeholders


@pytest.fixture
def panel():
    resolve, _ = cut_with_placeholders()
    p = Panel(DirectGateway(resolve), None)
    p.start()
    yield p
    p.stop()


def _client(panel: Panel) -> httpx.Client:
    return httpx.Client(base_url=panel.url, timeout=20)


def _raw(panel: Panel, data: bytes) -> bytes:
    """Send `data` on a fresh connection and read until the panel closes it."""
    with socket.create_connection(("127.0.0.1", panel.port), timeout=20) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_the_browser_opens_a_one_time_code_never_the_token(panel):
    link = panel.sign_in_url()
    assert panel.token not in link and panel.token not in panel.url
    with _client(panel) as browser:
        signed = browser.get(link)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith(f"promptreel-{panel.port}=") and panel.token not in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Fill all" in browser.get("/").text
        assert browser.get("/api/state").json()["timeline"] == "Cut 1"  # the API takes the cookie
        assert browser.post("/api/estimate", json={}).status_code == 200
        # A cross-site form could post with the cookie, but never as JSON: refused.
        form = browser.post("/api/estimate", content=b"{}", headers={"Content-Type": "text/plain"})
        assert form.status_code == 403
    with _client(panel) as other:
        assert other.get(link).status_code == 403  # spent: whoever read it off the command line comes too late
        assert "already used or has expired" in other.get(link).json()["error"]
        assert other.get("/").status_code == 403 and other.get("/api/state").status_code == 403
        forged = other.get("/api/state", headers={"Cookie": f"promptreel-{panel.port}={panel.token}"})
        assert forged.status_code == 403
        # Programs keep the header form.
        assert other.get("/api/state", headers={"X-Promptreel-Token": panel.token}).status_code == 200


def test_a_sign_in_code_expires(panel, monkeypatch):
    monkeypatch.setattr(panel_module, "CODE_SECONDS", -1.0)  # minted already past its time
    with _client(panel) as browser:
        assert browser.get(panel.sign_in_url()).status_code == 403


def test_a_cookie_is_only_good_for_its_own_panel(panel):
    resolve, _ = cut_with_placeholders()
    second = Panel(DirectGateway(resolve), None)
    second.start()
    try:
        with _client(panel) as browser:
            session = browser.get(panel.sign_in_url()).cookies[panel.cookie_name]
        with _client(second) as browser:
            assert browser.get("/api/state", headers={"Cookie": f"{second.cookie_name}={session}"}).status_code == 403
    finally:
        second.stop()


def test_a_non_numeric_content_length_is_answered_400(panel):
    for length in (b"abc", b"-5", b"1e3"):
        reply = _raw(
            panel,
            b"POST /api/estimate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Promptreel-Token: %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %s\r\n\r\n{}"
            % (panel.port, panel.token.encode(), length),
        )
        assert reply.startswith(b"HTTP/1.0 400") and b"Content-Length is not a number" in reply, reply
    with _client(panel) as client:  # and it goes on serving
        assert client.get("/api/jobs", headers={"X-Promptreel-Token": panel.token}).status_code == 200


def test_deeply_nested_json_is_answered_400(panel):
    body = b"[" * 60000
    reply = _raw(
        panel,
        b"POST /api/estimate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Promptreel-Token: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (panel.port, panel.token.encode(), len(body), body),
    )
    assert reply.startswith(b"HTTP/1.0 400") and b"not a JSON object" in reply, reply[:200]


def test_a_stalled_client_is_let_go(panel):
    panel.request_seconds = 0.5
    # Nothing at all: the panel closes the connection.
    with socket.create_connection(("127.0.0.1", panel.port), timeout=20) as s:
        assert s.recv(100) == b""
    # A request that never ends, one header line at a time, well inside any per-read timeout: closed too,
    # because the whole request has one deadline.
    with socket.create_connection(("127.0.0.1", panel.port), timeout=20) as s:
        s.sendall(b"GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % panel.port)
        s.settimeout(0.05)
        closed = False
        for i in range(2000):  # at most ~100 s; the deadline ends it after ~0.5 s
            try:
                s.sendall(b"X-Drip-%d: 1\r\n" % i)
                closed = s.recv(100) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
        assert closed
    # A body that stops short of its Content-Length.
    with socket.create_connection(("127.0.0.1", panel.port), timeout=20) as s:
        s.sendall(
            b"POST /api/estimate HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Promptreel-Token: %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{" % (panel.port, panel.token.encode())
        )
        assert s.recv(100) == b""
    panel.request_seconds = panel_module.REQUEST_SECONDS
    with _client(panel) as client:  # and it goes on serving
        assert client.get("/api/jobs", headers={"X-Promptreel-Token": panel.token}).status_code == 200


def test_the_worker_opens_the_browser_on_a_one_time_link_that_signs_it_in(monkeypatch):
    import threading
    import webbrowser

    from promptreel.resolve_plugin import worker
    from promptreel.resolve_plugin.bridge.server import Bridge

    resolve, _ = cut_with_placeholders()
    bridge = Bridge(resolve, confined=True)
    serving = threading.Thread(target=bridge.serve_forever)
    serving.start()
    monkeypatch.setenv("PROMPTREEL_BRIDGE", "{}:{}".format(*bridge.address))
    monkeypatch.setenv("PROMPTREEL_BRIDGE_TOKEN", bridge.token)
    monkeypatch.delenv("PROMPTREEL_NO_BROWSER", raising=False)
    opened = []

    def browser(url):  # what the browser's command line would show, and what it gets from it
        with httpx.Client(follow_redirects=True, timeout=20) as b:
            opened.append((url, b.get(url).status_code, b.get(url.split("?")[0] + "api/state").status_code))
        bridge.stop()  # then Resolve closes: the worker leaves

    monkeypatch.setattr(webbrowser, "open", browser)
    try:
        assert worker.main(poll_seconds=0.05) == 0
    finally:
        bridge.stop()
        serving.join(10)
    ((url, page, state),) = opened
    assert "?code=" in url and "token" not in url and bridge.token not in url
    assert (page, state) == (200, 200)
    assert bridge.session.file_folders  # the worker declared promptreel's folders first
