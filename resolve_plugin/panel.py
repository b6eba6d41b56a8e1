"""The panel: a small local web page served by the worker on 127.0.0.1 (random port).

Protection: the browser is opened on a one-time sign-in link (`sign_in_url`: a code that works once,
for CODE_SECONDS), which the page trades for an HttpOnly, SameSite=Strict session cookie; the session
token itself never reaches a command line, where other local users could read it. API calls carry
the cookie or, from programs, the session token in a header (a cross-site page cannot add a header
without a CORS preflight, which is never answered, and a cookie-borne POST must be JSON, which a
cross-site form cannot send); the Host header must name this loopback address and port (against DNS
rebinding); an Origin header, when sent, must be this page's own. Every endpoint goes through the
same checks. A request must arrive whole within `request_seconds` of its connection, so a stalled
client cannot hold a thread.

One static page (panel.html) and JSON endpoints, each area's handlers in a module of its own:
- panel_state: state (the mode; connected: the timeline's placeholders, clips and fills);
- panel_jobs: jobs, and events (the same list as server-sent events, sent again each time it changes);
- panel_settings: settings, choices (the codecs and fits the settings offer, from the data files);
- panel_models: models, stats (per model and route, from the journal), models/rank (core/choose.py's
  ranking for the selected placeholders, as `promptreel models --frames`);
- panel_costs: costs (today, per project, what is left under each cap);
- panel_fills: estimate; connected: fill, revert, promote, extend, edit (through the gateway;
  generation from the injected ClipMaker);
- panel_generate: generate (connected: into the bin; file mode: takes in the media folder), draft;
- panel_takes: takes, takes/choose, media (a clip's thumbnail, filmstrip or playable file, for clips in
  promptreel's media folders only), provenance (a take's or clip's chain back to its credentials);
- panel_prompts: templates, prompt/preview (what would be sent to a model, as `promptreel prompt show`);
- panel_files: file mode's exports (the watched folder) and file/fill (OTIO out and back, in the background);
- panel_cuts: file mode's file/clips, extend, edit (in the background) and file/revert of an export;
- panel_refine: refine, cast, cast/image, cast/add, cast/remove.
- Panel itself: sign-in-link (a fresh one-time link, for a program holding the token).
What the handlers are given: panel_context.py (Panel builds on it); the server and its checks:
panel_http.py; the route table: `Panel.routes`.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from . import (
    panel_costs,
    panel_cuts,
    panel_files,
    panel_fills,
    panel_generate,
    panel_http,
    panel_jobs,
    panel_models,
    panel_prompts,
    panel_refine,
    panel_settings,
    panel_state,
    panel_takes,
)
from .clipmaker import ClipMaker
from .gateway import Gateway
from .job_rows import EngineJobs, JobRow
from .panel_context import PanelContext

__all__ = ["CODE_SECONDS", "EngineJobs", "JobRow", "Panel", "REQUEST_SECONDS"]

CODE_SECONDS = 120.0  # a sign-in link works once, within this (a browser's cold start included)
REQUEST_SECONDS = 15.0  # a request's line, headers and body must arrive within this of its connection
# Each area's handlers (panel_*.py): the route table is their union, for this mode.
AREAS = (
    panel_state,
    panel_jobs,
    panel_settings,
    panel_models,
    panel_costs,
    panel_fills,
    panel_generate,
    panel_takes,
    panel_prompts,
    panel_files,
    panel_cuts,
    panel_refine,
)


class Panel(PanelContext):
    """The panel's state (panel_context.py), its sign-in, its server, and the route table."""

    def __init__(
        self,
        gateway: Gateway | None,
        make_clip: ClipMaker | None,
        mode: str | None = None,
        port: int = 0,
        filler: Callable | None = None,
        reason: str = "",
        engine_jobs: EngineJobs | None = None,
    ):
        """`gateway` None is file mode. `filler` is a timeline Filler for file mode (core/timeline/filler.py;
        None: the engine's); `reason` says why this mode, in the editor's words."""
        super().__init__(gateway, make_clip, mode, filler, reason, engine_jobs)
        self.token = secrets.token_urlsafe(32)  # the header form, for programs that start the panel
        self.request_seconds = REQUEST_SECONDS
        self._codes: dict[str, float] = {}  # one-time sign-in codes -> when they expire (monotonic)
        self._sessions: set[str] = set()  # the browsers' session cookies
        self._auth_lock = threading.Lock()
        self.server = panel_http.server(self, port)
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None
        if self.mode == "file":
            self.watcher()  # the baseline: what was in the folder before the panel opened is not "new"

    @property
    def url(self) -> str:
        """The panel's address, with no secret in it: a browser signs in with `sign_in_url()`."""
        return f"http://127.0.0.1:{self.port}/"

    def sign_in_url(self) -> str:
        """A fresh one-time link for a browser (for `webbrowser.open`: its command line is public, so the
        code is used up by the first visit and expires after CODE_SECONDS)."""
        code = secrets.token_urlsafe(24)
        with self._auth_lock:
            now = time.monotonic()
            self._codes = {c: t for c, t in self._codes.items() if t > now}
            self._codes[code] = now + CODE_SECONDS
        return f"{self.url}?code={code}"

    def redeem(self, code: str) -> str | None:
        """A new session for a valid code (which is then spent); None for a used, expired or unknown one."""
        with self._auth_lock:
            expires = self._codes.pop(code, None)
            if expires is None or expires < time.monotonic():
                return None
            session = secrets.token_urlsafe(32)
            self._sessions.add(session)
            return session

    def session_ok(self, session: str | None) -> bool:
        with self._auth_lock:
            return (
                session is not None
                and session != ""
                and any(hmac.compare_digest(session.encode(), s.encode()) for s in self._sessions)
            )

    @property
    def cookie_name(self) -> str:
        return f"promptreel-{self.port}"  # cookies ignore ports: two panels must not share one

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="panel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.changes.close()  # event streams end
        self.server.shutdown()
        self.server.server_close()

    def estimate(self, body: dict) -> dict:
        return panel_fills.estimate(self, body)

    def jobs(self, body: dict) -> dict:
        return panel_jobs.jobs(self, body)

    def sign_in_link(self, _: dict) -> dict:
        """A fresh one-time link, for a program holding the token (the plugin docked in Resolve Studio):
        the token itself never goes into a URL."""
        return {"url": self.sign_in_url()}

    def routes(self) -> dict[tuple[str, str], Callable[[dict], Any]]:
        """The route table: (method, path) -> handler of the request's JSON (a GET's: its query)."""
        table: dict[tuple[str, str], Callable[[dict], Any]] = {("POST", "/api/sign-in-link"): self.sign_in_link}
        for area in AREAS:
            table.update(area.routes(self))
        return table
