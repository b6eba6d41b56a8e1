"""A fake OpenAI Videos API on loopback, speaking the protocol of openai-python's `videos` resource
and the OpenAPI spec (`/videos*`, `VideoResource`, `CreateVideoJsonBody`, `CreateVideoMultipartBody`,
`CreateVideoExtendJsonBody`, the `{"error": {message, type, param, code}}` envelope).

- Auth: `Authorization: Bearer <key>`; none or a wrong one is a 401 as OpenAI sends it.
- POST /v1/videos takes JSON or multipart and validates like the service: `seconds` must be a
  string enum (an integer is a 400 with OpenAI's message), `size` from the enum (1080p sizes for
  sora-2-pro only), an uploaded `input_reference` must be exactly `size`, unknown fields refused.
- A job moves queued -> in_progress -> completed one step per GET (no clocks); non-terminal reads
  carry `openai-poll-after-ms`. GET /v1/videos lists newest first, with `after` pagination.
- GET /v1/videos/{id}/content serves a real MP4 once completed: 30 fps at `size`, `seconds` long, with
  audio (Sora always makes sound).
- POST /v1/videos/extensions needs a completed source video; the new video's seconds are the total.
- POST /v1/videos/{id}/remix takes only {prompt} and needs a completed source; the new video keeps the
  source's model, size and seconds and names it in `remixed_from_video_id`.

Per-job faults (`X-Fake-Fault` on the create, or `fake.fault("outcome", name)`): moderation_blocked
(fails with that error code),
content_502 (the first download answers 502), truncate (the first download is cut short), corrupt
(the download is not an MP4), expired (the download is refused as past its time),
drop (the job is created, the answer never comes), slow (created, answered after 3 s).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .fake import Fake
from .loopback import Call, Reply
from .media import Spec, image_size, multipart

MODELS = {"sora-2", "sora-2-pro", "sora-2-2025-10-06", "sora-2-pro-2025-10-06", "sora-2-2025-12-08"}
SECONDS = ("4", "8", "12")
EXTEND_SECONDS = ("4", "8", "12", "16", "20")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
PRO_SIZES = ("1920x1080", "1080x1920")
CREATE_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}


def error(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    kind: str = "invalid_request_error",
    headers: dict[str, Any] | None = None,
) -> Reply:
    return Reply(
        status, {"error": {"message": message, "type": kind, "param": param, "code": code}}, headers=headers or {}
    )


@dataclass
class FakeVideo:
    """A video job as the fake OpenAI videos API holds it."""

    id: str
    model: str
    prompt: str
    seconds: str
    size: str
    created_at: int
    fault: str = ""
    reads: int = 0
    downloads: int = 0
    remixed_from: str | None = None
    seq: int = 0
    spec: Spec | None = None
    created: float = field(default_factory=time.monotonic)


class FakeOpenAIVideos(Fake):
    route_name = "openai"
    # OpenAI shut the Sora API down on 2026-09-24 (developers.openai.com/api/docs/deprecations, openai-python
    # PR #3610, checked 2026-12-06): since then a create names the model as not found.
    shut_down = {m: date(2026, 9, 24) for m in MODELS}
    signed_by = "OpenAI Sora (promptreel sandbox)"

    def __init__(
        self, key: str = "sk-test-openai-0123456789", queued_reads: int = 1, running_reads: int = 1, **kw: Any
    ):
        super().__init__(key, **kw)
        self.queued_reads, self.running_reads = queued_reads, running_reads
        self.jobs: dict[str, FakeVideo] = {}
        self.clock: Callable[[], int] = lambda: int(time.time())
        self._seq = itertools.count()
        self.route("POST", r"/v1/videos", op="create")(self._create)
        self.route("POST", r"/v1/videos/extensions", op="create")(self._extend)
        self.route("POST", r"/v1/videos/(?P<id>[^/]+)/remix", op="create")(self._remix)
        self.route("GET", r"/v1/videos")(self._list)
        self.route("GET", r"/v1/videos/(?P<id>[^/]+)", op="poll")(self._retrieve)
        self.route("GET", r"/v1/videos/(?P<id>[^/]+)/content")(self._content)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        return error(status, message, code=kind, kind="requests" if status == 429 else "server_error", headers=headers)

    # auth ---------------------------------------------------------------------------------
    def _auth(self, call: Call) -> Reply | None:
        header = call.headers.get("authorization", "")
        if not header:
            return error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization "
                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        given = header.removeprefix("Bearer ")
        if given != self.key:
            masked = given[:3] + "*" * max(0, len(given) - 7) + given[-4:]
            return error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    # create -------------------------------------------------------------------------------
    def _body(self, call: Call) -> tuple[dict[str, Any], dict[str, Any]] | Reply:
        parts = multipart(call)
        if parts is not None:
            return parts
        if not call.headers.get("content-type", "").startswith("application/json"):
            return error(400, "Unsupported content type; send application/json or multipart/form-data.")
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object.")
        return body, {}

    def _accepted(self, call: Call, fields: Iterable[str]) -> Reply | tuple[dict[str, Any], dict[str, Any]]:
        """Authenticated, parsed, and with no field the endpoint does not know — or the refusal."""
        if (denied := self._auth(call)) is not None:
            return denied
        parsed = self._body(call)
        if isinstance(parsed, Reply):
            return parsed
        unknown = set(parsed[0]) - set(fields)
        if unknown:
            return error(400, f"Unrecognized request argument supplied: {sorted(unknown)[0]}")
        return parsed

    def _create(self, call: Call) -> Reply:
        parsed = self._accepted(call, CREATE_FIELDS)
        if isinstance(parsed, Reply):
            return parsed
        body, files = parsed
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= 32000:
            return error(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        model = body.get("model", "sora-2")
        if model not in MODELS or self.gone(model):
            return error(
                404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
            )
        if (bad := _check_seconds(body.get("seconds", "4"), SECONDS)) is not None:
            return bad
        size = body.get("size", "720x1280")
        allowed = SIZES + (PRO_SIZES if model.startswith("sora-2-pro") else ())
        if size not in allowed:
            return error(
                400,
                f"Invalid value: '{size}'. Supported values are: " + ", ".join(f"'{s}'" for s in allowed) + ".",
                "size",
                "invalid_value",
            )
        ref = body.get("input_reference")
        if "input_reference" in files:
            got = image_size(files["input_reference"][1])
            if got is None:
                return error(400, "Invalid image file.", "input_reference", "invalid_image")
            if f"{got[0]}x{got[1]}" != size:
                return error(400, "Inpaint image must match the requested width and height")
        elif ref is not None:
            if not isinstance(ref, dict) or len([k for k in ("image_url", "file_id") if ref.get(k)]) != 1:
                return error(400, "Provide exactly one of image_url or file_id.", "input_reference")
        job = self._new(model, prompt, str(body.get("seconds", "4")), size, call)
        return self._answer(job)

    def _new(
        self, model: str, prompt: str, seconds: str, size: str, call: Call, source: str | None = None
    ) -> FakeVideo:
        job = FakeVideo(
            f"video_{uuid.uuid4().hex[:24]}",
            model,
            prompt,
            seconds,
            size,
            self.clock(),
            fault=self.take("outcome", call) or "",
            remixed_from=source,
        )
        width, height = (int(x) for x in size.split("x"))
        job.spec = self.spec(width, height, 30, int(seconds), audio=True)
        job.seq = next(self._seq)
        self.jobs[job.id] = job
        self.count_create()
        return job

    def _answer(self, job: FakeVideo) -> Reply:
        if job.fault == "drop":
            return Reply(drop=True)
        return Reply(200, self._resource(job, "queued"), delay=3.0 if job.fault == "slow" else 0.0)

    def _extend(self, call: Call) -> Reply:
        parsed = self._accepted(call, ("prompt", "seconds", "video"))
        if isinstance(parsed, Reply):
            return parsed
        body, files = parsed
        for name in ("prompt", "seconds"):
            if name not in body:
                return error(400, f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        if (bad := _check_seconds(body["seconds"], EXTEND_SECONDS)) is not None:
            return bad
        if "video" in files:
            total = str(1 + int(body["seconds"]))  # the upload is the 1 s test clip
            job = self._new("sora-2", body["prompt"], total, "1280x720", call)
            return self._answer(job)
        ref = body.get("video")
        if not isinstance(ref, dict) or set(ref) != {"id"}:
            return error(400, "Missing required parameter: 'video'.", "video", "missing_required_parameter")
        source = self.jobs.get(ref["id"])
        if source is None:
            return error(404, f"Video with id '{ref['id']}' not found.", "video")
        if self._state(source) != "completed":
            return error(400, "The source video must be completed before it can be extended.", "video")
        total = str(int(source.seconds) + int(body["seconds"]))
        job = self._new(source.model, body["prompt"], total, source.size, call, source=source.id)
        return self._answer(job)

    def _remix(self, call: Call) -> Reply:
        parsed = self._accepted(call, ("prompt",))
        if isinstance(parsed, Reply):
            return parsed
        body, files = parsed
        prompt = body.get("prompt")
        if files or not isinstance(prompt, str) or not 1 <= len(prompt) <= 32000:
            return error(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        source = self.jobs.get(call.match["id"])
        if source is None:
            return error(404, f"Video with id '{call.match['id']}' not found.", "video_id")
        if self._state(source) != "completed":
            return error(400, "The source video must be completed before it can be remixed.", "video_id")
        job = self._new(source.model, prompt, source.seconds, source.size, call, source=source.id)
        return self._answer(job)

    # read ---------------------------------------------------------------------------------
    def _state(self, job: FakeVideo) -> str:
        if job.reads <= self.queued_reads:
            return "queued"
        if job.reads <= self.queued_reads + self.running_reads:
            return "in_progress"
        return "failed" if job.fault == "moderation_blocked" else "completed"

    def _resource(self, job: FakeVideo, status: str) -> dict[str, Any]:
        done = status in ("completed", "failed")
        completed_at = job.created_at + 60 if done else None
        return {
            "id": job.id,
            "object": "video",
            "model": job.model,
            "status": status,
            "progress": {"queued": 0, "in_progress": 50}.get(status, 100),
            "created_at": job.created_at,
            "completed_at": completed_at,
            "expires_at": completed_at + 86400 if completed_at is not None and status == "completed" else None,
            "prompt": job.prompt,
            "size": job.size,
            "seconds": job.seconds,
            "remixed_from_video_id": job.remixed_from,
            "error": {"code": "moderation_blocked", "message": "Your request was blocked by our moderation system."}
            if status == "failed"
            else None,
        }

    def _retrieve(self, call: Call) -> Reply:
        if (denied := self._auth(call)) is not None:
            return denied
        job = self.jobs.get(call.match["id"])
        if job is None:
            return error(404, f"Video with id '{call.match['id']}' not found.")
        if self.ready(job.created):
            job.reads += 1
        status = self._state(job)
        headers = {} if status in ("completed", "failed") else {"openai-poll-after-ms": "1500"}
        return Reply(200, self._resource(job, status), headers=headers)

    def _list(self, call: Call) -> Reply:
        if (denied := self._auth(call)) is not None:
            return denied
        limit = int(call.query.get("limit", ["20"])[0])
        order = call.query.get("order", ["desc"])[0]
        jobs = sorted(self.jobs.values(), key=lambda j: (j.created_at, j.seq), reverse=order == "desc")
        after = call.query.get("after", [None])[0]
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1 :] if after in ids else []
        page = jobs[:limit]
        data = [self._resource(j, self._state(j) if j.reads else "queued") for j in page]
        return Reply(
            200,
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(jobs) > limit,
            },
        )

    def _content(self, call: Call) -> Reply:
        if (denied := self._auth(call)) is not None:
            return denied
        job = self.jobs.get(call.match["id"])
        if job is None:
            return error(404, f"Video with id '{call.match['id']}' not found.")
        if self._state(job) != "completed":
            return error(404, "Video is not ready yet, use GET /v1/videos/{video_id} to check status.")
        variant = call.query.get("variant", ["video"])[0]
        if variant != "video":
            return error(400, f"Invalid value: '{variant}'.", "variant")
        job.downloads += 1
        if job.fault == "content_502" and job.downloads == 1:
            return Reply(
                502, "<html><body><h1>502 Bad Gateway</h1></body></html>", headers={"Content-Type": "text/html"}
            )
        return self.media_reply(self.media_of(job.spec), job.fault, first=job.downloads == 1)


def _check_seconds(value: object, allowed: tuple[str, ...]) -> Reply | None:
    quoted = ", ".join(f"'{s}'" for s in allowed[:-1]) + f", or '{allowed[-1]}'"
    if isinstance(value, (bool, int, float)):
        kind = "an integer" if isinstance(value, int) else "a number"
        return error(
            400,
            f"Invalid type for 'seconds': expected one of {quoted}, but got {kind} instead.",
            "seconds",
            "invalid_type",
        )
    if value not in allowed:
        return error(400, f"Invalid value: '{value}'. Supported values are: {quoted}.", "seconds", "invalid_value")
    return None
