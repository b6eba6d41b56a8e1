"""The panel: a small local web page served by the worker on 127.0.0.1 (random port).

Protection: the page is served only with the session token in its URL; every API call carries the
token in a header (a cross-site page cannot add one without a CORS preflight, which is never
answered); the Host header must name this loopback address and port (against DNS rebinding); an
Origin header, when sent, must be this page's own.

This is the first cut: state (mode, placeholders, fills), Fill selected / all, Revert, Generate to
bin. Generation comes from the injected ClipMaker (the engine + conform plug in there).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from promptreel.core.errors import UserError
from promptreel.core.keys import redact

from . import bins, edits
from .clipmaker import ClipMaker
from .fill import conform_target, fill, revert
from .gateway import Gateway
from .placeholders import find_placeholders

MAX_BODY = 64 * 1024


class Panel:
    def __init__(self, gateway: Gateway, make_clip: ClipMaker | None, mode: str = "connected", port: int = 0):
        self.gw = gateway
        self.make_clip = make_clip
        self.mode = mode
        self.token = secrets.token_urlsafe(32)
        self._lock = threading.Lock()  # one gateway conversation at a time
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="panel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- API (each runs under the lock; user errors become 400 with the message)
    def state(self, _: dict) -> dict:
        project, target = conform_target(self.gw)
        timeline = self.gw.timeline()
        return {
            "mode": self.mode, "project": project.name, "timeline": timeline.name,
            "target": {"rate": str(target.rate), "size": str(target.size), "bit_depth": target.bit_depth},
            "placeholders": [{"id": p.item.id, "label": p.label, "kind": p.kind, "prompt": p.prompt,
                              "frames": p.draft_frames if p.kind == "draft" else p.item.duration}
                             for p in find_placeholders(timeline)],
            "edits": [{"id": r.id, "name": r.placeholder_name, "reverted": bool(r.reverted)}
                      for r in edits.all_records() if r.timeline_id == timeline.id],
        }

    def _maker(self) -> ClipMaker:
        if self.make_clip is None:
            raise UserError("Generation is not set up in this worker.", "Run `promptreel doctor` for what is missing.")
        return self.make_clip

    def fill(self, body: dict) -> dict:
        report = fill(self.gw, self._maker(), item_ids=body.get("item_ids"))
        return {"filled": [r.id for r in report.edits], "failed": [{"item": i, "error": e} for i, e in report.failed]}

    def revert(self, body: dict) -> dict:
        return {"reverted": revert(self.gw, str(body.get("edit_id", ""))).id}

    def generate(self, body: dict) -> dict:
        prompt = str(body.get("prompt") or "").strip()
        frames = body.get("frames")
        if not prompt:
            raise UserError("The prompt is empty.", "Describe the shot to generate.")
        if not isinstance(frames, int) or frames < 1:
            raise UserError("The duration is missing.", "Give the length in frames (or pick a placeholder).")
        _, target = conform_target(self.gw)
        slot = target.slot(frames, prompt)
        clips = bins.generate_to_bin(self.gw, self._maker(), slot, variants=int(body.get("variants") or 1))
        return {"clips": [c.name for c in clips]}

    def routes(self) -> dict[tuple[str, str], Callable[[dict], dict]]:
        return {("GET", "/api/state"): self.state, ("POST", "/api/fill"): self.fill,
                ("POST", "/api/revert"): self.revert, ("POST", "/api/generate"): self.generate}


def _handler(panel: Panel):
    class Handler(BaseHTTPRequestHandler):
        server_version = "promptreel"

        def log_message(self, format: str, *args: Any) -> None:  # no request logs (URLs carry the token)
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode())

        def _guard(self) -> bool:
            if self.headers.get("Host") not in panel.allowed_hosts():
                self._json(403, {"error": "Wrong Host."})
                return False
            origin = self.headers.get("Origin")
            if origin is not None and origin not in {f"http://{h}" for h in panel.allowed_hosts()}:
                self._json(403, {"error": "Cross-origin requests are refused."})
                return False
            return True

        def _token_ok(self, given: str | None) -> bool:
            return bool(given) and hmac.compare_digest(given.encode(), panel.token.encode())

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            if not self._guard():
                return
            url = urlsplit(self.path)
            if method == "GET" and url.path == "/":
                if not self._token_ok((parse_qs(url.query).get("token") or [None])[0]):
                    self._json(403, {"error": "Open the panel from Resolve's Scripts menu."})
                    return
                page = files("promptreel.resolve_plugin").joinpath("panel.html").read_bytes()
                self._send(200, page, "text/html; charset=utf-8")
                return
            route = panel.routes().get((method, url.path))
            if route is None:
                self._json(404, {"error": "Not found."})
                return
            if not self._token_ok(self.headers.get("X-Promptreel-Token")):
                self._json(403, {"error": "Missing or wrong token."})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": "Request too large."})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                if not isinstance(body, dict):
                    raise ValueError
            except ValueError:
                self._json(400, {"error": "The request is not a JSON object."})
                return
            try:
                with panel._lock:
                    result = route(body)
            except UserError as e:
                self._json(400, {"error": redact(str(e))})
                return
            self._json(200, result)

    return Handler
