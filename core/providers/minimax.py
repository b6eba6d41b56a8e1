"""MiniMax's video generation V2 API: POST /v2/video_generation, then GET /v2/query/video_generation/{task_id}.

Wire facts (platform.minimax.io docs/api-reference/video-generation-v2-create, -v2-query, -v2-regeneration;
checked 2026-12-06): Bearer key; the body is `model`, a `content` array (exactly one non-empty `text`
item, plus `image_url` items `{url}` with a `role`: first_frame / last_frame, or reference_image; the
keyframe and reference roles exclude each other), `duration` (an integer, 5-15 s), `resolution` ("768P" or
"2K"), `ratio` (required and not "adaptive" for text-to-video; ignored with keyframes, where the image
sets it), `seed`. A create answers `{task_id}`; the query answers `{task: {id, status, content: {url,
duration}, error: {code, message}}}` with status queued | running | succeeded | failed | cancelled |
expired; the output URL is time-limited and a new query gives a fresh one; tasks can be queried for 7
days. Errors are `{type: "error", error: {type, message: "... (code)", http_code}}`. MiniMax publishes
no Python SDK for this API; Hailuo 2.3 is served only on the older v1 API (file_id downloads).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import aspect_of, data_uri, http_error, json_body, require, scrub, send

STATES = {
    "queued": JobState.QUEUED,
    "running": JobState.RUNNING,
    "succeeded": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
    "cancelled": JobState.CANCELED,
    "expired": JobState.FAILED,
}
RESOLUTIONS = {768: "768P", 1440: "2K"}  # by the frame's short side
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
SECONDS = (5, 15)
IMAGE_LIMIT = 20 * 1024 * 1024  # [3P] MiniMax's image inputs: at most 20 MB
OUTPUT_LIFETIME = timedelta(hours=9)  # [U] v1's download URLs lived 9 h; v2 says only "time-limited"
# Error types MiniMax names, and the code it puts in the message for sensitive content.
ERROR_TYPES = {
    "authorized_error": ErrorKind.AUTH,
    "insufficient_balance_error": ErrorKind.BILLING,
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "server_error": ErrorKind.RETRYABLE,
}
SENSITIVE = re.compile(r"sensitive|\(1026\)|\(1027\)", re.I)


class ImageUrl(BaseModel):
    url: str


class Item(BaseModel):
    type: str
    text: str | None = None
    image_url: ImageUrl | None = None
    role: str | None = None


class Create(BaseModel):
    model: str
    content: list[Item]
    duration: int
    resolution: str
    ratio: str | None = None
    seed: int | None = None


class Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = None
    duration: float | None = None


class TaskError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: int | str | None = None
    message: str | None = None


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str = "queued"
    content: Output | None = None
    error: TaskError | None = None


# poll_seconds: generations take minutes; MiniMax names no cadence.
ROUTE = RouteDescriptor(
    name="minimax",
    protocol="promptreel.core.providers.minimax:MiniMax",
    keys={"MINIMAX_API_KEY": "MiniMax (H3)"},
    base_url="https://api.minimax.io",
    poll_seconds=10.0,
    fake="promptreel.core.sandbox.minimax:FakeMiniMax",
)


class MiniMax(Protocol):
    descriptor = ROUTE

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("MINIMAX_API_KEY", ""), self.hosts())

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.extend_video or request.remix_of:
            raise UnsupportedRequest(
                "MiniMax's v2 video API here makes new takes only: no extend or edit.",
                "Drop --extend / --remix, or choose a model that has them (see `promptreel models`).",
            )
        size = require(request.size, "size", "MiniMax")
        seconds = require(request.seconds, "seconds", "MiniMax")
        low, high = SECONDS
        if not low <= seconds <= high:
            raise UnsupportedRequest(
                f"MiniMax H3 makes {low} to {high} s, not {seconds} s.", f"Ask for {low}-{high} seconds."
            )
        resolution = RESOLUTIONS.get(min(size.width, size.height))
        ratio = aspect_of(size)
        if resolution is None or ratio not in RATIOS:
            raise UnsupportedRequest(
                f"MiniMax H3 cannot make {size}.", "Choose a size the catalog lists for this model."
            )
        keyframes = [
            (p, role) for p, role in ((request.first_frame, "first_frame"), (request.last_frame, "last_frame")) if p
        ]
        if keyframes and request.reference_images:
            raise UnsupportedRequest(
                "MiniMax takes first / last frames or reference images, not both.", "Drop one of them."
            )
        content = [Item(type="text", text=request.prompt)]
        images = keyframes + [(p, "reference_image") for p in request.reference_images]
        for path, role in images:
            uri = data_uri(path, role.replace("_", " "), IMAGE_LIMIT, "MiniMax")
            content.append(Item(type="image_url", image_url=ImageUrl(url=uri), role=role))
        body = Create(
            model=self.route.model_id,
            content=content,
            duration=seconds,
            resolution=resolution,
            ratio=None if keyframes else ratio,
            seed=request.seed,
        )  # with keyframes the image sets the ratio
        return WireCall("POST", "/v2/video_generation", json=body.model_dump(exclude_none=True))

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error propagates: whether the task was made is for the engine to settle.
        r = await send(self.client, call.method, call.path, vendor="MiniMax", creating=True, json=call.json)
        if r.status_code >= 400:
            raise self.classify(r)
        task_id = json_body(r).get("task_id")
        if task_id in (None, ""):
            raise ProviderError(
                ErrorKind.RETRYABLE, "MiniMax answered the create with no task id.", status=r.status_code
            )
        return Submitted(job_id=str(task_id), state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/v2/query/video_generation/{job_id}", vendor="MiniMax")
        if r.status_code >= 400:
            raise self.classify(r)
        task = Task.model_validate(json_body(r).get("task") or {})
        state = STATES.get(task.status, JobState.RUNNING)  # an unknown status is not an ending
        status = Status(state=state, raw_state=task.status)
        if state is JobState.SUCCEEDED:
            if task.content is None or not task.content.url:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "MiniMax reported success but gave no video URL.")
            else:
                status.media = [MediaRef(url=task.content.url, expires_at=datetime.now(timezone.utc) + OUTPUT_LIFETIME)]
        elif task.status == "expired":
            status.error = ProviderError(ErrorKind.PROVIDER, "MiniMax let the task expire before it finished.")
        elif state is JobState.FAILED:
            err = task.error or TaskError()
            text = scrub(err.message or "no reason given", self.credentials)
            kind = ErrorKind.MODERATION if SENSITIVE.search(f"{text} ({err.code})") else ErrorKind.PROVIDER
            status.error = ProviderError(kind, f"MiniMax failed the task ({err.code or 'error'}): {text}")
        return status

    def classify(self, r: httpx.Response) -> ProviderError:
        err = json_body(r).get("error")
        err = err if isinstance(err, dict) else {}
        detail = str(err.get("message") or r.text[:200])
        kind = ERROR_TYPES.get(str(err.get("type")))
        if SENSITIVE.search(detail):
            kind = ErrorKind.MODERATION
        return http_error(r, "MiniMax", detail, self.credentials, kind=kind)
