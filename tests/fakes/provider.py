"""What every provider fake shares: an API server, a CDN server, jobs that advance per poll, faults.

Faults are queued per operation (`fake.fault("create", "429")`; `fault("answer", "drop")`
makes the job and then loses the answer) or sent by a caller in
an `x-fake-fault` header (the sandbox); each is used once. Outcomes (how a job ends)
are queued the same way under "outcome". `creates` counts create calls that made a
job, so tests can prove a retry never created twice.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .loopback import Call, LoopbackServer, Reply
from .media import tiny_mp4


@dataclass
class Job:
    id: str
    body: dict
    outcome: str = "ok"  # ok | a fake-specific failure name
    polls: int = 0
    canceled: bool = False
    extra: dict = field(default_factory=dict)


SLOW = 0.8  # seconds a "slow" answer waits; tests use a 0.5 s client timeout for it


class FakeProvider:
    polls_to_finish = 2  # status calls before a job reaches its outcome

    def __init__(self, key: str = "fake-key-0123456789"):
        self.key = key
        self.api = LoopbackServer()
        self.cdn = LoopbackServer()
        for server in (self.api, self.cdn):  # notice shutdown quickly: tests start many fakes
            server.thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.jobs: dict[str, Job] = {}
        self.creates = 0
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.cdn.route("GET", r"/media/(?P<id>[^/]+)\.mp4")(self._media)
        self.routes()

    def routes(self) -> None:  # each fake registers its protocol's paths
        raise NotImplementedError

    def reset(self) -> None:
        """Forget jobs, faults and recorded calls, so one running fake can serve many tests."""
        with self._lock:
            self.jobs.clear()
            self._faults.clear()
            self.creates = 0
        self.api.calls.clear()
        self.cdn.calls.clear()

    # --- faults -------------------------------------------------------------
    def fault(self, op: str, *names: str) -> None:
        self._faults[op].extend(names)

    def take(self, op: str, call: Call | None = None) -> str | None:
        if call is not None and call.headers.get("x-fake-fault", "").startswith(op + ":"):
            return call.headers["x-fake-fault"].split(":", 1)[1]
        with self._lock:
            return self._faults[op].popleft() if self._faults[op] else None

    @staticmethod
    def transport_fault(name: str | None) -> Reply | None:
        """Faults that look the same on every protocol: a lost answer, a very slow one."""
        if name == "drop":
            return Reply(drop=True)
        if name == "slow":
            return Reply(200, {}, delay=SLOW)  # past the tests' short client timeout
        return None

    # --- jobs ---------------------------------------------------------------
    def new_job(self, body: dict, prefix: str = "job", job_id: str | None = None) -> Job:
        with self._lock:
            self.creates += 1
            job = Job(id=job_id or f"{prefix}{next(self._ids):04d}", body=body)
            self.jobs[job.id] = job
        job.outcome = self.take("outcome") or "ok"
        return job

    def advance(self, job: Job) -> int:
        """Count a status call; returns how many came before it."""
        with self._lock:
            job.polls += 1
            return job.polls - 1

    def media_url(self, job: Job) -> str:
        return f"{self.cdn.url}/media/{job.id}.mp4"

    def _media(self, call: Call) -> Reply:
        if call.headers.get("authorization"):
            return Reply(400, {"error": "CDN got credentials it should never see"})
        data = tiny_mp4()
        name = self.take("media", call)
        if name == "truncate":
            return Reply(200, data, headers={"Content-Type": "video/mp4"}, truncate_at=len(data) // 3)
        if name == "expired":
            return Reply(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                         headers={"Content-Type": "application/xml"})
        if name == "corrupt":
            return Reply(200, data[: len(data) // 2][::-1], headers={"Content-Type": "video/mp4"})
        return Reply(200, data, headers={"Content-Type": "video/mp4"}, ranges=True)

    # --- sent keys ----------------------------------------------------------
    def key_leaks(self) -> list[str]:
        """Paths on the CDN that received anything that looks like a credential."""
        return [c.path for c in self.cdn.calls if "authorization" in c.headers or self.key in str(c.headers)]

    @property
    def url(self) -> str:
        return self.api.url

    def __enter__(self):
        self.api.__enter__()
        self.cdn.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.api.__exit__(*exc)
        self.cdn.__exit__(*exc)


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
