"""What every route fake shares: an API server and a CDN on loopback, one fault queue, a create
counter, jobs that advance per status read (and, when asked, per wall-clock latency), real media.

Faults, each used once, come three ways:
- queued by a test: `fake.fault(op, *names)` (op: create, answer, poll, result, media, outcome),
  or `fake.fail_next(method, path_regex, Reply(...))` to answer the next matching request as given;
- per request, from the caller: the header `X-Fake-Fault` or the query parameter `fake_fault`,
  as `<op>:<name>`, or a bare `<name>` for the job's outcome (what happens to the job later:
  moderation, no media, a cut download...). Each fake's docstring lists its names; every fake takes
  create:/poll: 429, 429-bare, 500, 502, 503, drop and slow.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

from ..discover import size_for as size_for  # the frame size a model makes for an aspect at a short side
from .c2pa import signed_media
from .loopback import Call, Handler, LoopbackServer, Reply
from .media import SMALL, Limit, Spec, render

if TYPE_CHECKING:
    from typing_extensions import Self

SLOW = 0.8  # seconds a "slow" answer waits; tests use a 0.5 s client timeout for it


# What every fake accepts as its key. Key-like, not a word: keys are blanked wherever they appear, so a key that
# is an ordinary word ("sandbox") would blank paths and messages that contain it.
SANDBOX_KEY = "sbx-placeholder-key-0000"


@dataclass
class FakeJob:
    """A job as a fake vendor holds it (core/journal.py's `Job` is promptreel's record of one)."""

    id: str
    body: dict[str, Any]
    outcome: str = "ok"  # ok | a fake-specific fault name
    polls: int = 0
    canceled: bool = False
    spec: Spec | None = None  # the media this job makes
    created: float = field(default_factory=time.monotonic)
    extra: dict[str, Any] = field(default_factory=dict)


class Fake:
    """Base of the route fakes. `route_name` names its route (openai, gemini, ...), whose descriptor
    (core/routes.py) names the variables a client reads its credentials from, set to `key` by `env()`."""

    route_name: ClassVar[str] = ""
    default_key: ClassVar[str] = SANDBOX_KEY
    polls_to_finish: ClassVar[int] = 2  # status reads before a job reaches its outcome
    signed_by: ClassVar[str | None] = None  # the vendor signs its outputs with C2PA credentials (Veo, Sora)
    # Model ids the vendor shut down, and the day: from then on the fake answers as the vendor does
    # ("model not found" / "no longer available"). A test of the protocol as it was sets `today` earlier.
    shut_down: ClassVar[dict[str, date]] = {}

    def __init__(self, key: str | None = None, *, latency: float = 0.0, limit: Limit = SMALL, port: int = 0):
        self.key = key or self.default_key
        self.latency = latency  # seconds a job takes at least, on top of its status reads
        self.limit = limit
        self.api = LoopbackServer(port)
        self.cdn = LoopbackServer()
        for server in (self.api, self.cdn):
            server.httpd.quiet_disconnects = True
        self.jobs: dict[str, Any] = {}
        self.creates = 0
        self.today: date | None = None  # None: the real date (kept by reset(): a test module's fake lives in one era)
        self._faults: list[tuple[str | tuple[str, re.Pattern[str]], str | Reply]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.cdn.route("GET", r"/media/(?P<id>[^/]+)\.mp4")(self._media)
        self.routes()

    def gone(self, model: str) -> bool:
        """The vendor has shut `model` down (as of `today`)."""
        when = self.shut_down.get(model)
        return when is not None and (self.today or date.today()) >= when

    def routes(self) -> None:
        """Register the protocol's paths with `self.route` (fakes may also do it in __init__)."""

    # --- addresses ---------------------------------------------------------------------
    @property
    def server(self) -> LoopbackServer:
        return self.api

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def base_url(self) -> str:
        """The base URL in the vendor SDK's own form (what PROMPTREEL_<ROUTE>_BASE_URL takes)."""
        return self.url

    def env(self) -> dict[str, str]:
        """Variables that point promptreel at this fake, with placeholder keys it accepts."""
        from ..routes import route

        out = {f"PROMPTREEL_{self.route_name.upper()}_BASE_URL": self.base_url}
        out.update({name: self.key for name in route(self.route_name).keys})
        return out

    @classmethod
    def sandboxed(cls, **kw: Any) -> Self:
        """This fake as the sandbox runs it (`promptreel sandbox serve`): with the placeholder key every fake
        accepts, which also tells the engine its jobs are pretend (engine.SANDBOX_KEY_PREFIX)."""
        return cls(SANDBOX_KEY, **kw)

    def route(self, method: str, pattern: str, op: str | None = None) -> Callable[[Handler], Handler]:
        """Register a handler; a queued `fail_next` reply for the same request answers instead. With
        `op`, the base also enacts that operation's generic faults (see `op_fault`) before the handler;
        fakes with their own fault names for an operation handle it themselves and pass no op."""

        def register(handler: Handler) -> Handler:
            def guarded(call: Call) -> Reply:
                with self._lock:
                    for i, (match, queued) in enumerate(self._faults):
                        if (
                            isinstance(match, tuple)
                            and isinstance(queued, Reply)
                            and match[0] == call.method
                            and match[1].fullmatch(call.path)
                        ):
                            del self._faults[i]
                            return queued
                if op is not None and (reply := self.op_fault(self.take(op, call))) is not None:
                    return reply
                return handler(call)

            self.api.route(method, pattern)(guarded)
            return handler

        return register

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return self.api.calls_to(method, pattern)

    # --- faults ------------------------------------------------------------------------
    def fault(self, op: str, *names: str) -> None:
        with self._lock:
            self._faults.extend((op, name) for name in names)

    def fail_next(self, method: str, pattern: str, reply: Reply) -> None:
        with self._lock:
            self._faults.append(((method.upper(), re.compile(pattern)), reply))

    def take(self, op: str, call: Call | None = None) -> str | None:
        """The fault for `op`: from the caller's request first, else the first one queued."""
        if call is not None:
            given = call.headers.get("x-fake-fault") or (call.query.get("fake_fault") or [""])[0]
            if given:
                named_op, sep, name = given.partition(":")
                if sep and named_op == op:
                    return name
                if not sep and op == "outcome":
                    return given
        with self._lock:
            for i, (match, queued) in enumerate(self._faults):
                if match == op and isinstance(queued, str):
                    del self._faults[i]
                    return queued
        return None

    def op_fault(self, name: str | None) -> Reply | None:
        """Faults every protocol can show on a create or a status read, in the vendor's error envelope:
        429 (with Retry-After), 429-bare (without), 500, 502, 503, drop, slow."""
        if name == "429":
            return self.error_reply(429, "Rate limit reached; slow down.", {"Retry-After": "2"})
        if name == "429-bare":
            return self.error_reply(429, "Rate limit reached; slow down.", {})
        if name in ("500", "502", "503"):
            return self.error_reply(int(name), "The server had an error; try again.", {})
        return self.transport_fault(name)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        """An error in the vendor's own shape (each fake overrides it)."""
        return Reply(status, {"error": message}, headers=headers)

    @staticmethod
    def transport_fault(name: str | None) -> Reply | None:
        """Faults that look the same on every protocol: a lost answer, a very slow one."""
        if name == "drop":
            return Reply(drop=True)
        if name == "slow":
            return Reply(200, {}, delay=SLOW)  # past the tests' short client timeout
        return None

    # --- the request checks job APIs share (xAI, MiniMax, Luma; ModelArk, DashScope reads) -
    def auth_refusal(self, call: Call) -> Reply | None:
        """The vendor's answer to a missing or wrong key (None when the key is right)."""
        return None

    def bad_body(self, status: int, message: str) -> Reply:
        """The vendor's answer to a body it cannot take."""
        return self.error_reply(status, message, {})

    def checked_create(
        self,
        call: Call,
        fields: set[str],
        named: dict[str, Reply] | None = None,
        not_object: int = 400,
        unknown: int = 400,
    ) -> dict[str, Any] | Reply:
        """A create's body, or the refusal the service gives first: the key, then a queued create fault
        (the vendor's own `named` ones, then `op_fault`'s), then a body that is not a JSON object
        (status `not_object`) or names a field outside `fields` (status `unknown`)."""
        if (bad := self.auth_refusal(call)) is not None:
            return bad
        name = self.take("create", call)
        if named and name in named:
            return named[name]
        if (reply := self.op_fault(name)) is not None:
            return reply
        body = call.json()
        if not isinstance(body, dict):
            return self.bad_body(not_object, "the body must be a JSON object")
        if extra := sorted(set(body) - fields):
            return self.bad_body(unknown, f"unknown fields {extra}")
        return body

    def checked_read(self, call: Call, missing: Reply) -> FakeJob | Reply:
        """The job a status read names, or the refusal: the key, a queued poll fault, `missing`."""
        if (bad := self.auth_refusal(call)) is not None:
            return bad
        if (reply := self.op_fault(self.take("poll", call))) is not None:
            return reply
        job = self.jobs.get(call.match["id"])
        return missing if job is None else job

    # --- jobs --------------------------------------------------------------------------
    def count_create(self) -> None:
        with self._lock:
            self.creates += 1

    def new_job(
        self,
        body: dict[str, Any],
        prefix: str = "job",
        job_id: str | None = None,
        call: Call | None = None,
        spec: Spec | None = None,
    ) -> FakeJob:
        with self._lock:
            self.creates += 1
            job = FakeJob(id=job_id or f"{prefix}{next(self._ids):04d}", body=body, spec=spec)
            self.jobs[job.id] = job
        job.outcome = self.take("outcome", call) or "ok"
        return job

    def advance(self, job: FakeJob) -> int:
        """Count a status read; returns how many came before it. While the job's latency has not
        passed, the count stays at zero, so the job stays at its first state."""
        with self._lock:
            if not self.ready(job.created):
                return 0
            job.polls += 1
            return job.polls - 1

    def ready(self, created: float) -> bool:
        return time.monotonic() - created >= self.latency

    def reset(self) -> None:
        """Forget jobs, faults and recorded calls, so one running fake can serve many tests."""
        with self._lock:
            self.jobs.clear()
            self._faults.clear()
            self.creates = 0
        self.api.calls.clear()
        self.cdn.calls.clear()

    # --- media -------------------------------------------------------------------------
    def media(
        self,
        width: int,
        height: int,
        fps: Fraction | int,
        seconds: Fraction | int | float = 1,
        audio: bool = False,
        frames: int | None = None,
    ) -> bytes:
        """What the model makes for this request, within the fake's limit."""
        return render(self.limit.apply(self.spec(width, height, fps, seconds, audio, frames)))

    @staticmethod
    def spec(
        width: int,
        height: int,
        fps: Fraction | int,
        seconds: Fraction | int | float = 1,
        audio: bool = False,
        frames: int | None = None,
    ) -> Spec:
        return Spec(int(width), int(height), Fraction(fps), Fraction(seconds), audio, frames)

    def media_of(self, spec: Spec | None) -> bytes:
        """The bytes for a job's spec, within the fake's limit (signed, where the vendor signs)."""
        data = render(self.limit.apply(spec or self.spec(1280, 720, 24, 1, True)))
        return signed_media(data, self.signed_by) if self.signed_by else data

    def job_media(self, job: FakeJob) -> bytes:
        return self.media_of(job.spec)

    def media_url(self, job: FakeJob) -> str:
        return f"{self.cdn.url}/media/{job.id}.mp4"

    def _media(self, call: Call) -> Reply:
        if call.headers.get("authorization"):
            return Reply(400, {"error": "CDN got credentials it should never see"})
        job = self.jobs.get(call.match["id"])
        if job is None:
            return Reply(404, "<Error><Code>NoSuchKey</Code></Error>", headers={"Content-Type": "application/xml"})
        return self.media_reply(self.job_media(job), self.take("media", call))

    @staticmethod
    def media_reply(data: bytes, fault: str | None, first: bool = True, ranges: bool = True) -> Reply:
        """A download's answer, or its fault: truncate (the first download breaks off), corrupt (not an
        MP4 any more), expired (a signed URL past its time)."""
        if fault == "truncate" and first:
            return Reply(200, data, headers={"Content-Type": "video/mp4"}, truncate_at=len(data) // 3, ranges=ranges)
        if fault == "expired":
            return Reply(
                403,
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                headers={"Content-Type": "application/xml"},
            )
        if fault == "corrupt":
            return Reply(200, data[: len(data) // 2][::-1], headers={"Content-Type": "video/mp4"})
        return Reply(200, data, headers={"Content-Type": "video/mp4"}, ranges=ranges)

    def key_leaks(self) -> list[str]:
        """Paths on the CDN that received anything that looks like a credential."""
        return [c.path for c in self.cdn.calls if "authorization" in c.headers or self.key in str(c.headers)]

    def __enter__(self) -> Self:
        self.api.__enter__()
        self.cdn.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.__exit__(*exc)
        self.cdn.__exit__(*exc)


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
