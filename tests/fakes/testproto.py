"""A test protocol for a simple job API, and a loopback server speaking it, faults included.

The wire protocol ("jobapi"), shaped like the vendors' (create -> id, poll, media URL):

    POST /v1/models/{model}/jobs   {prompt, seconds, size, seed, client_ref}  -> 201 {id, status}
    GET  /v1/jobs/{id}             -> {id, status: queued|running|succeeded|failed, progress, output, error}
                                      (x-poll-after-ms on unfinished jobs)
    GET  /v1/jobs?client_ref=R     -> {data: [{id, client_ref}]}                (reconcile a lost create)
    GET  /media/{id}.mp4           -> the clip (Range supported)
    errors: {"error": {"code", "message"}}; 429 carries Retry-After.

Importing this module registers `testproto` (with a lookup), `testproto_blind` (without),
`testproto_sync` (the create answers with the video) and `testlocal` (renders here).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from promptreel.core.providers import register
from promptreel.core.providers.auth import Bearer
from promptreel.core.providers.base import (
    ErrorKind,
    JobState,
    LocalProtocol,
    MediaRef,
    Protocol,
    ProviderError,
    Status,
    Submitted,
    WireCall,
)
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox.loopback import Call, LoopbackServer, Reply

KEY_NAME = "TESTPROTO_API_KEY"

_STATES = {
    "queued": JobState.QUEUED,
    "running": JobState.RUNNING,
    "succeeded": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
}
_KINDS = {
    "moderation_blocked": ErrorKind.MODERATION,
    "billing_hard_limit": ErrorKind.BILLING,
    "model_retired": ErrorKind.RETIRED,
    "invalid_api_key": ErrorKind.AUTH,
}


class TestProto(Protocol):
    name = "testproto"
    default_base_url = "http://127.0.0.1:9"  # tests set base_urls.testproto to their server
    key_names = (KEY_NAME,)
    poll_interval = 0.02

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials[KEY_NAME], self.hosts())

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        return WireCall(
            "POST",
            f"/v1/models/{self.route.model_id}/jobs",
            json={
                "prompt": request.prompt,
                "seconds": request.seconds,
                "size": str(request.size) if request.size else None,
                "seed": request.seed,
                "client_ref": client_ref,
            },
        )

    def _error(self, r: httpx.Response) -> ProviderError:
        try:
            err = r.json()["error"]
            code, message = err["code"], err["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "", r.text[:200]
        if r.status_code == 429:
            kind = ErrorKind.RATE_LIMITED
        elif r.status_code >= 500:
            kind = ErrorKind.RETRYABLE
        else:
            kind = _KINDS.get(code, ErrorKind.BAD_REQUEST)
        after = r.headers.get("retry-after")
        # The vendor's message goes through unscrubbed on purpose: the engine must redact it.
        return ProviderError(
            kind,
            f"HTTP {r.status_code} {code}: {message}",
            retry_after=float(after) if after else None,
            status=r.status_code,
        )

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        try:
            r = await self.client.request(call.method, self.base_url + call.path, json=call.json)
        except httpx.ConnectError:
            raise ProviderError(ErrorKind.RETRYABLE, "cannot reach the job API") from None
        # other transport errors (a dropped answer, a read timeout) propagate: the outcome is unknown
        if r.status_code >= 400:
            raise self._error(r)
        return Submitted(job_id=r.json()["id"], state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await self.client.get(f"{self.base_url}/v1/jobs/{job_id}")
        if r.status_code >= 400:
            raise self._error(r)
        body = r.json()
        state = _STATES.get(body["status"], JobState.RUNNING)
        error = None
        if body.get("error"):
            error = ProviderError(_KINDS.get(body["error"]["code"], ErrorKind.PROVIDER), body["error"]["message"])
        after = r.headers.get("x-poll-after-ms")
        return Status(
            state,
            progress=body.get("progress"),
            media=[MediaRef(url=body["output"])] if body.get("output") else [],
            error=error,
            next_poll_s=int(after) / 1000 if after else None,
            raw_state=body["status"],
        )

    async def cancel(self, job_id: str) -> None:
        r = await self.client.post(f"{self.base_url}/v1/jobs/{job_id}/cancel")
        if r.status_code >= 400:
            raise self._error(r)

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        r = await self.client.get(f"{self.base_url}/v1/jobs", params={"client_ref": client_ref})
        if r.status_code >= 400:
            raise self._error(r)
        data = r.json()["data"]
        return data[0]["id"] if data else None


class BlindTestProto(TestProto):
    """The same API without a lookup: a lost create can only be settled by the editor."""

    name = "testproto_blind"

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        return None


class SyncTestProto(TestProto):
    """A synchronous API (like LTX): the create's answer is the video, written to `staging`."""

    name = "testproto_sync"

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        made = await super().submit(call, staging)
        r = await self.client.get(f"{self.base_url}/media/{made.job_id}.mp4")
        Path(staging).write_bytes(r.content)
        return Submitted(made.job_id, JobState.SUCCEEDED, MediaRef(inline_path=Path(staging)))


class ClipLocal(LocalProtocol):
    """A local route (like draft): writes `clip` with no network."""

    name = "testlocal"
    clip = b""

    async def render(self, request: GenerationRequest, dest: Path, on_progress) -> None:
        on_progress(0.5)
        Path(dest).write_bytes(self.clip)
        on_progress(1.0)


for _cls in (TestProto, BlindTestProto, SyncTestProto, ClipLocal):
    register(_cls.name, _cls)


class FakeJobAPI:
    """The jobapi server. Faults are attributes a test sets; counters say what happened."""

    def __init__(self, media: bytes, job_seconds: float = 0.0, key: str | None = None):
        self.server = LoopbackServer()
        # socketserver listens with a backlog of 5; a batch of 20 connecting at once would see
        # dropped handshakes (1 s SYN retries, resets), which is the harness's limit, not a provider's.
        self.server.httpd.socket.listen(128)
        # Stop within 50 ms instead of socketserver's 0.5 s poll: dozens of tests start one.
        self.server.thread = threading.Thread(
            target=self.server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.media = media
        self.job_seconds = job_seconds  # from create to succeeded; change it any time
        self.poll_after_ms = 20  # the x-poll-after-ms hint on unfinished jobs (vendors ask for 1-10 s)
        self.key = key  # when set, requests without `Bearer key` get 401 (echoing what they sent)
        self.jobs: dict[str, dict] = {}
        self.creates: Counter[str] = Counter()  # client_ref -> jobs made
        self.downloads: Counter[str] = Counter()
        self.cancels: Counter[str] = Counter()  # provider job id -> cancel calls
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # faults
        self.rate_limit_creates = 0  # next N creates answer 429 with Retry-After
        self.retry_after = 1
        self.fail_creates = 0  # next N creates answer 503
        self.drop_creates = 0  # next N creates make the job, then drop the connection
        self.refuse = None  # "billing" | "moderation": every create is refused so
        self.retired_models: set[str] = set()
        self.truncate_downloads = 0  # next N downloads stop half-way
        self.fail_downloads = 0  # next N downloads answer 502 (a proxy in the way)
        self.expire_downloads = 0  # next N downloads answer 403 (the signed URL expired)
        self.corrupt_downloads = 0  # next N downloads answer bytes that are no video
        self.no_media = False  # succeeded without output
        self.redirect_media_to: str | None = None  # media answers 302 to this base URL (another host)
        s = self.server
        s.route("POST", r"/v1/models/(?P<model>[^/]+)/jobs")(self._create)
        s.route("GET", r"/v1/jobs/(?P<id>[^/]+)")(self._poll)
        s.route("POST", r"/v1/jobs/(?P<id>[^/]+)/cancel")(self._cancel)
        s.route("GET", r"/v1/jobs")(self._list)
        s.route("GET", r"/media/(?P<id>[^/]+)\.mp4")(self._media)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> FakeJobAPI:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def _auth(self, call: Call) -> Reply | None:
        got = call.headers.get("authorization", "")
        if self.key is not None and got != f"Bearer {self.key}":
            return Reply(401, {"error": {"code": "invalid_api_key", "message": f"Incorrect API key provided: {got}"}})
        return None

    def _take(self, name: str) -> bool:
        with self._lock:
            if getattr(self, name) > 0:
                setattr(self, name, getattr(self, name) - 1)
                return True
        return False

    def _create(self, call: Call) -> Reply:
        if (bad := self._auth(call)) is not None:
            return bad
        model = call.match["model"]
        if model in self.retired_models:
            return Reply(404, {"error": {"code": "model_retired", "message": f"The model {model} has been shut down."}})
        if self.refuse == "billing":
            return Reply(402, {"error": {"code": "billing_hard_limit", "message": "Billing hard limit reached."}})
        if self.refuse == "moderation":
            return Reply(400, {"error": {"code": "moderation_blocked", "message": "Your prompt was blocked."}})
        if self._take("rate_limit_creates"):
            return Reply(
                429,
                {"error": {"code": "rate_limited", "message": "Slow down."}},
                headers={"Retry-After": str(self.retry_after)},
            )
        if self._take("fail_creates"):
            return Reply(503, {"error": {"code": "overloaded", "message": "Try again."}})
        body = call.json()
        with self._lock:
            job_id = f"j{next(self._ids)}"
            self.jobs[job_id] = {
                "created": time.monotonic(),
                "client_ref": body["client_ref"],
                "model": model,
                "ended": False,
            }
            self.creates[body["client_ref"]] += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        if self._take("drop_creates"):
            return Reply(drop=True)
        return Reply(201, {"id": job_id, "status": "queued"})

    def _poll(self, call: Call) -> Reply:
        if (bad := self._auth(call)) is not None:
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return Reply(404, {"error": {"code": "not_found", "message": "No such job."}})
        elapsed = time.monotonic() - job["created"]
        if elapsed < self.job_seconds:
            status = "queued" if elapsed < self.job_seconds / 4 else "running"
            return Reply(
                200,
                {
                    "id": call.match["id"],
                    "status": status,
                    "progress": elapsed / self.job_seconds,
                    "output": None,
                    "error": None,
                },
                headers={"x-poll-after-ms": str(self.poll_after_ms)},
            )
        with self._lock:
            if not job["ended"]:
                job["ended"] = True
                self.active -= 1
        output = None if self.no_media else f"{self.url}/media/{call.match['id']}.mp4"
        return Reply(
            200, {"id": call.match["id"], "status": "succeeded", "progress": 1.0, "output": output, "error": None}
        )

    def _cancel(self, call: Call) -> Reply:
        if (bad := self._auth(call)) is not None:
            return bad
        if call.match["id"] not in self.jobs:
            return Reply(404, {"error": {"code": "not_found", "message": "No such job."}})
        with self._lock:
            self.cancels[call.match["id"]] += 1
        return Reply(200, {"id": call.match["id"], "status": "canceled"})

    def _list(self, call: Call) -> Reply:
        if (bad := self._auth(call)) is not None:
            return bad
        ref = call.query.get("client_ref", [""])[0]
        return Reply(
            200,
            {
                "data": [
                    {"id": i, "client_ref": j["client_ref"]} for i, j in self.jobs.items() if j["client_ref"] == ref
                ]
            },
        )

    def _media(self, call: Call) -> Reply:
        if (bad := self._auth(call)) is not None:
            return bad
        with self._lock:
            self.downloads[call.match["id"]] += 1
        if self.redirect_media_to:
            return Reply(302, b"", headers={"Location": f"{self.redirect_media_to}/media/{call.match['id']}.mp4"})
        if self._take("expire_downloads"):
            return Reply(403, {"error": {"code": "url_expired", "message": "This link has expired."}})
        if self._take("fail_downloads"):
            return Reply(502, b"Bad gateway")
        if self._take("corrupt_downloads"):
            return Reply(200, self.media[::-1], headers={"Content-Type": "video/mp4"})
        if self._take("truncate_downloads"):
            return Reply(
                200, self.media, ranges=True, truncate_at=len(self.media) // 2, headers={"Content-Type": "video/mp4"}
            )
        return Reply(200, self.media, ranges=True, headers={"Content-Type": "video/mp4"})


def media_host(media: bytes) -> LoopbackServer:
    """A second host (a CDN) serving the same clip; it records what headers reached it."""
    srv = LoopbackServer()
    srv.route("GET", r"/media/(?P<id>[^/]+)\.mp4")(lambda c: Reply(200, media, ranges=True))
    return srv


TEST_CATALOG = """
[models.test-model]
name = "Test model"
vendor = "Test"
durations = [4, 8]
sizes = { "16:9" = ["1280x720"] }
fps = [24]
seed = true
price = { "720p" = 0.10 }
routes = [{ protocol = "testproto", model_id = "tm-1", concurrency = 20, rpm = 0 }]

[models.test-fallback]
name = "Test fallback model"
vendor = "Test"
durations = [4, 8]
sizes = { "16:9" = ["1280x720"] }
fps = [24]
price = { "720p" = 0.10 }
routes = [
  { protocol = "testproto", model_id = "tm-old", concurrency = 4, rpm = 0 },
  { protocol = "testproto", model_id = "tm-2", concurrency = 4, rpm = 0 },
]

[models.test-blind]
name = "Test model without lookup"
vendor = "Test"
durations = [4, 8]
sizes = { "16:9" = ["1280x720"] }
fps = [24]
price = { "720p" = 0.10 }
routes = [{ protocol = "testproto_blind", model_id = "tm-1", concurrency = 4, rpm = 0 }]

[models.test-sync]
name = "Test synchronous model"
vendor = "Test"
durations = [4, 8]
sizes = { "16:9" = ["1280x720"] }
fps = [24]
price = { "720p" = 0.05 }
routes = [{ protocol = "testproto_sync", model_id = "tm-1", concurrency = 4, rpm = 0 }]

[models.test-local]
name = "Test local model"
vendor = "Test"
any_duration = true
any_size = true
sizes = { "16:9" = ["1280x720"] }
fps = [24]
price = { any = 0.0 }
routes = [{ protocol = "testlocal", model_id = "local", concurrency = 2, rpm = 0 }]
"""
