"""A real HTTP server on 127.0.0.1 for provider fakes: routes are (method, path regex) -> handler.

Handlers get a `Call` (method, path, query, headers, body) and return a `Reply`. Faults a
provider really shows are replies too: a delay, a truncated body, a dropped connection
(the request arrived, no answer ever does), Range support for resumable downloads.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _no_match() -> re.Match[str]:
    empty = re.fullmatch("", "")
    assert empty is not None
    return empty


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    # The route's match, set when the call is dispatched (until then an empty match with no groups).
    match: re.Match[str] = field(default_factory=_no_match)

    def json(self) -> Any:  # what the client sent: any JSON value
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    truncate_at: int | None = None  # send only this many body bytes, then close (declared length stays full)
    drop: bool = False  # read the request, then close without answering
    ranges: bool = False  # honour a Range header on this body

    def payload(self) -> bytes:
        if isinstance(self.body, (dict, list)):
            self.headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.body).encode()
        if isinstance(self.body, str):
            return self.body.encode()
        return self.body or b""


Handler = Callable[[Call], Reply]


class _Server(ThreadingHTTPServer):
    quiet_disconnects = False  # a client that gave up (a fake's timeout fault) leaves a broken pipe: not news

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.quiet_disconnects and isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    def __init__(self, port: int = 0):
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in separate writes: avoid a 40 ms stall

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = Call(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with server._lock:
                    server.calls.append(call)
                reply = server._dispatch(call)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = reply.payload()
                status = reply.status
                headers = dict(reply.headers)
                rng = call.headers.get("range")
                if reply.ranges:
                    headers["Accept-Ranges"] = "bytes"
                    m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                    if m and status == 200:
                        start = int(m.group(1))
                        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                        data, status = data[start:], 206
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if reply.truncate_at is not None:
                    self.wfile.write(data[: reply.truncate_at])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_QUERY = _serve  # QUERY: Replicate's model search

        self.httpd = _Server(("127.0.0.1", port), _H)
        self.httpd.daemon_threads = True
        # A short poll interval makes shutdown take milliseconds instead of half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes.append((method.upper(), re.compile(pattern), fn))
            return fn

        return register

    def _dispatch(self, call: Call) -> Reply:
        for method, pattern, fn in self.routes:
            m = pattern.fullmatch(call.path)
            if m and method == call.method:
                call.match = m
                try:
                    return fn(call)
                except Exception as e:  # a bug in a fake should show in the test, not hang it
                    return Reply(500, {"fake_error": repr(e)})
        return Reply(404, {"error": f"no fake route for {call.method} {call.path}"})

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        rx = re.compile(pattern)
        return [c for c in self.calls if c.method == method and rx.fullmatch(c.path)]

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
