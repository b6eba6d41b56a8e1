"""The panel's HTTP server: the checks every request goes through (Host, Origin, sign-in, the request's
deadline, its size), the route table's dispatch (each area's handlers in panel_*.py), byte ranges for
clips, and the job list as server-sent events. What the checks protect against: panel.py."""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import logging
import re
import socket
import time
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from promptreel.core.errors import UserError
from promptreel.core.keys import redact

from .changes import Changes

MAX_BODY = 64 * 1024
KEEPALIVE_SECONDS = 15.0  # an idle event stream sends a comment this often (a closed page ends its thread)
# Endpoints that never talk to Resolve answer without waiting for the gateway lock, so the job
# list stays live while a fill holds it.
LOCK_FREE = {
    "/api/jobs",
    "/api/settings",
    "/api/models",
    "/api/exports",
    "/api/costs",
    "/api/stats",
    "/api/takes",
    "/api/templates",
    "/api/prompt/preview",
    "/api/media",
    "/api/choices",
    "/api/takes/choose",
    "/api/sign-in-link",
    "/api/cast",
    "/api/cast/image",
    "/api/models/rank",
}
log = logging.getLogger(__name__)


class ServedPanel(Protocol):
    """What the server needs of its panel (panel.py's Panel, which builds the server): named here, so that
    this module imports nothing of the panel and the imports run one way."""

    @property
    def token(self) -> str: ...
    @property
    def request_seconds(self) -> float: ...
    @property
    def changes(self) -> Changes: ...
    @property
    def gateway_lock(self) -> contextlib.AbstractContextManager[Any]: ...
    @property
    def cookie_name(self) -> str: ...
    def allowed_hosts(self) -> set[str]: ...
    def session_ok(self, session: str | None) -> bool: ...
    def redeem(self, code: str) -> str | None: ...
    def routes(self) -> dict[tuple[str, str], Callable[[dict], Any]]: ...
    def jobs(self, body: dict) -> dict: ...


def server(panel: ServedPanel, port: int) -> ThreadingHTTPServer:
    """The panel's server on 127.0.0.1 (`port` 0: a free one), one thread per connection."""
    handler = type("Handler", (PanelHandler,), {"panel": panel})
    made = ThreadingHTTPServer(("127.0.0.1", port), handler)
    made.daemon_threads = True
    return made


class _DeadlineReader(io.RawIOBase):
    """A connection's bytes, each read waiting only until the request's deadline: a client that sends
    nothing, or one byte at a time, cannot hold the thread past it (a per-read timeout would not do)."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class PanelHandler(BaseHTTPRequestHandler):
    server_version = "promptreel"
    panel: ServedPanel  # set by `server`

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps the request's deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, time.monotonic() + self.panel.request_seconds))

    def log_message(self, format: str, *args: Any) -> None:  # no request logs (URLs carry sign-in codes)
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        self.connection.settimeout(self.panel.request_seconds)  # the answer's writes, not what is left to read
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        headers = dict(headers or {})
        self.send_header("Cache-Control", headers.pop("Cache-Control", "no-store"))
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        # The page may have stopped listening (a video skipped ahead).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode())

    def _guard(self) -> bool:
        if self.headers.get("Host") not in self.panel.allowed_hosts():
            self._json(403, {"error": "Wrong Host."})
            return False
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.panel.allowed_hosts()}:
            self._json(403, {"error": "Cross-origin requests are refused."})
            return False
        return True

    def _token_ok(self, given: str | None) -> bool:
        return given is not None and given != "" and hmac.compare_digest(given.encode(), self.panel.token.encode())

    def _cookie_ok(self) -> bool:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie") or "").get(self.panel.cookie_name)
        except CookieError:
            return False
        return morsel is not None and self.panel.session_ok(morsel.value)

    def _signed_in(self, method: str) -> bool:
        if self._token_ok(self.headers.get("X-Promptreel-Token")):
            return True
        if not self._cookie_ok():
            return False
        # A cookie rides along on any request; a cross-site form can post, but never as JSON.
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return method == "GET" or ctype == "application/json"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _page(self, url) -> None:
        code = (parse_qs(url.query).get("code") or [None])[0]
        if code is not None:
            session = self.panel.redeem(code)
            if session is None:
                self._json(
                    403,
                    {
                        "error": "This sign-in link was already used or has expired. Open the panel "
                        "again from Resolve's Scripts menu (or restart `promptreel resolve "
                        "panel`)."
                    },
                )
                return
            # Trade the code for the cookie and drop it from the address bar and history.
            cookie = f"{self.panel.cookie_name}={session}; HttpOnly; SameSite=Strict; Path=/"
            self._send(303, b"", "text/plain", {"Location": "/", "Set-Cookie": cookie})
            return
        if not self._cookie_ok():
            self._json(403, {"error": "Open the panel from Resolve's Scripts menu."})
            return
        page = files("promptreel.resolve_plugin").joinpath("panel.html").read_bytes()
        self._send(200, page, "text/html; charset=utf-8")

    def _body(self, method: str, url) -> dict | None:
        """The request's JSON object (a GET's: its query), or None once a refusal has been sent."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._json(400, {"error": "Content-Length is not a number of bytes."})
            return None
        if length > MAX_BODY:
            self._json(413, {"error": "Request too large."})
            return None
        raw = self.rfile.read(length) if length else b""
        if method == "GET":  # a GET's arguments are its query: /api/provenance?take=ID
            return {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            body = None
        if not isinstance(body, dict):
            self._json(400, {"error": "The request is not a JSON object."})
            return None
        return body

    def _dispatch(self, method: str) -> None:
        if not self._guard():
            return
        url = urlsplit(self.path)
        if method == "GET" and url.path == "/":
            self._page(url)
            return
        route = self.panel.routes().get((method, url.path))
        if route is None:
            self._json(404, {"error": "Not found."})
            return
        if not self._signed_in(method):
            self._json(403, {"error": "Not signed in (or a wrong token): open the panel from Resolve's Scripts menu."})
            return
        body = self._body(method, url)
        if body is None:
            return
        if url.path == "/api/events":
            self._events()
            return
        self._answer(method, url.path, route, body)

    def _answer(self, method: str, path: str, route: Callable[[dict], Any], body: dict) -> None:
        """Run the route (under the gateway lock unless it never talks to Resolve) and send its answer:
        JSON, or a picture or clip's bytes; a user error is a 400 with its one line."""
        try:
            if path in LOCK_FREE:
                result = route(body)
            else:
                with self.panel.gateway_lock:
                    result = route(body)
        except UserError as e:
            self._json(400, {"error": redact(str(e))})
            return
        except Exception:
            log.exception("panel %s %s failed", method, path)
            self._json(500, {"error": "Something went wrong inside promptreel; the log has the details."})
            return
        finally:
            if method == "POST":
                self.panel.changes.bump()  # a fill placed, a take chosen: the event stream sends the list again
        if isinstance(result, tuple):  # (bytes, content type): a picture or a clip
            self._bytes(*result)
            return
        self._json(200, result)

    def _bytes(self, data: bytes, ctype: str) -> None:
        """A picture or a clip; a clip's byte range when asked (a <video> seeks with them)."""
        headers = {"Cache-Control": "private, max-age=60", "Accept-Ranges": "bytes"}
        asked = re.fullmatch(r"bytes=(\d*)-(\d*)", (self.headers.get("Range") or "").strip())
        if asked and (asked[1] or asked[2]) and data:
            first, last = (
                (int(asked[1]), int(asked[2] or len(data) - 1))
                if asked[1]
                else (max(len(data) - int(asked[2]), 0), len(data) - 1)
            )
            last = min(last, len(data) - 1)
            if first > last:
                self._send(416, b"", ctype, {"Content-Range": f"bytes */{len(data)}"})
                return
            self._send(
                206, data[first : last + 1], ctype, {**headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"}
            )
            return
        self._send(200, data, ctype, headers)

    def _events(self) -> None:
        """The job list as server-sent events: now, then each time it changes, until the page or the
        panel goes away."""
        self.connection.settimeout(self.panel.request_seconds)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        seen = -1
        try:
            while not self.panel.changes.closed:
                now = self.panel.changes.wait(seen, KEEPALIVE_SECONDS)
                if now == seen:
                    self.wfile.write(b": idle\n\n")
                else:
                    seen = now
                    try:
                        data = json.dumps(self.panel.jobs({}))
                    except Exception:
                        log.exception("panel event stream failed")
                        return
                    self.wfile.write(f"event: jobs\ndata: {data}\n\n".encode())
                self.wfile.flush()
        except OSError:  # the page closed
            return
