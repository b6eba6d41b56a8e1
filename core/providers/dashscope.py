"""Alibaba Model Studio's DashScope video synthesis (Wan 2.7): POST
/api/v1/services/aigc/video-generation/video-synthesis with `X-DashScope-Async: enable`, then
GET /api/v1/tasks/{task_id}; POST /api/v1/tasks/{task_id}/cancel cancels a pending task.

Wire facts (dashscope 2.0.2, aigc/video_synthesis.py VideoSynthesis.async_call / _get_input,
client/base_api.py BaseAsyncApi wait / fetch / cancel, common/constants.py TaskStatus,
api_entities/http_request.py, api_entities/dashscope_response.py VideoSynthesisOutput / Usage,
samples/test_video_synthesis.py wan2.7-t2v / wan2.7-i2v; checked 2026-12-06): Bearer key (the SDK reads
DASHSCOPE_API_KEY); the body is `model`, `input` (`prompt`, `negative_prompt`, and for wan2.7-i2v a
`media` list of `{type, url}` with type first_frame / last_frame) and `parameters` (`resolution` "720P" |
"1080P", `ratio` for text-to-video, `duration`, `seed`, `prompt_extend`, `watermark`, `audio`). A create
answers `{request_id, output: {task_id, task_status}}`; the task answers `output.task_status` PENDING |
RUNNING | SUSPENDED | SUCCEEDED | FAILED | CANCELED | UNKNOWN (a task id it no longer knows: ids last
24 h), `output.video_url` when it succeeded, `output.code` / `output.message` when it failed, and
`usage` (video duration, count, ratio). Errors are `{request_id, code, message}`: InvalidApiKey,
Throttling..., Arrearage, DataInspectionFailed (content moderation) [3P: Alibaba's error-code page as
quoted]. From Alibaba's API reference (text-to-video-api-reference, as indexed): Wan 2.7 makes 720P or
1080P, 2-15 s; ratios 16:9, 9:16, 1:1, 4:3, 3:4 (image-to-video follows the first frame); the pixel sizes
per ratio and 30 fps are [3P]. The international endpoint is https://dashscope-intl.aliyuncs.com/api/v1
(Alibaba is moving Singapore to per-workspace hosts: set PROMPTREEL_DASHSCOPE_BASE_URL to yours).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, nearest_ratio, require, scrub, send

STATES = {
    "PENDING": JobState.QUEUED,
    "SUSPENDED": JobState.QUEUED,
    "RUNNING": JobState.RUNNING,
    "SUCCEEDED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
    "CANCELED": JobState.CANCELED,
    "UNKNOWN": JobState.FAILED,
}
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
TIERS = {"720P": 1280 * 720, "1080P": 1920 * 1080}  # by pixel count: a size takes the nearest tier
IMAGE_LIMIT = 10 * 1024 * 1024  # [3P] first / last frame images at most 10 MB
OUTPUT_LIFETIME = timedelta(hours=24)  # [3P]
ASYNC = {"X-DashScope-Async": "enable"}  # the HTTP API is asynchronous only; without it the create is refused
CODES = {
    "InvalidApiKey": ErrorKind.AUTH,
    "Arrearage": ErrorKind.BILLING,
    "DataInspectionFailed": ErrorKind.MODERATION,
    "IPInfringementSuspect": ErrorKind.MODERATION,
}
MODERATION = {"DataInspectionFailed", "IPInfringementSuspect"}


class Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    task_id: str | None = None
    task_status: str = "PENDING"
    video_url: str | None = None
    code: str | None = None
    message: str | None = None


def image_model(model_id: str) -> str:
    """The image-to-video sibling a first frame goes to: wan2.7-t2v -> wan2.7-i2v (other ids as they are)."""
    return model_id[:-4] + "-i2v" if model_id.endswith("-t2v") else model_id


# poll_seconds: tasks take 1-5 minutes; the SDK's own wait backs off to 5 s.
ROUTE = RouteDescriptor(
    name="dashscope",
    protocol="promptreel.core.providers.dashscope:DashScope",
    keys={"DASHSCOPE_API_KEY": "Alibaba Model Studio / DashScope (Wan 2.7)"},
    base_url="https://dashscope-intl.aliyuncs.com/api/v1",
    poll_seconds=10.0,
    fake="promptreel.core.sandbox.dashscope:FakeDashScope",
)


class DashScope(Protocol):
    descriptor = ROUTE
    version_segment: ClassVar[str] = "/api/v1"

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("DASHSCOPE_API_KEY", ""), self.hosts())

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.extend_video or request.remix_of:
            raise UnsupportedRequest(
                "The dashscope route makes new Wan takes only: no extend or edit.", "Drop --extend / --remix."
            )
        if request.reference_images:
            raise UnsupportedRequest(
                "Wan 2.7 here takes a first and last frame, not reference images.",
                "Drop the reference images, or give the look as a first frame.",
            )
        if request.last_frame and not request.first_frame:
            raise UnsupportedRequest(
                "Wan 2.7 takes a last frame only with a first frame.", "Give --first-frame as well."
            )
        size = require(request.size, "size", "DashScope")
        seconds = require(request.seconds, "seconds", "DashScope")
        ratio = nearest_ratio(size, RATIOS)
        resolution = min(TIERS, key=lambda t: abs(math.log(size.width * size.height / TIERS[t])))
        if ratio is None:
            raise UnsupportedRequest(f"Wan 2.7 cannot make {size}.", "Choose a size the catalog lists for this model.")
        inputs: dict[str, Any] = {"prompt": request.prompt}
        if request.negative_prompt:
            inputs["negative_prompt"] = request.negative_prompt
        # prompt_extend off: Alibaba otherwise rewrites the prompt with a language model, and the take should
        # follow the prompt the editor (or promptreel's prompt family) wrote.
        parameters: dict[str, Any] = {"resolution": resolution, "duration": seconds, "prompt_extend": False}
        model = self.route.model_id
        if request.first_frame:  # image-to-video: the frame sets the aspect
            model = image_model(model)
            inputs["media"] = [
                {"type": role, "url": data_uri(path, role.replace("_", " "), IMAGE_LIMIT, "DashScope")}
                for path, role in ((request.first_frame, "first_frame"), (request.last_frame, "last_frame"))
                if path
            ]
        else:
            parameters["ratio"] = ratio
        if request.seed is not None:
            parameters["seed"] = request.seed
        if request.audio is not None:
            parameters["audio"] = request.audio
        return WireCall(
            "POST",
            "/services/aigc/video-generation/video-synthesis",
            headers=dict(ASYNC),
            json={"model": model, "input": inputs, "parameters": parameters},
        )

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error propagates: whether the task was made is for the engine to settle.
        r = await send(
            self.client, call.method, call.path, vendor="DashScope", creating=True, json=call.json, headers=call.headers
        )
        if r.status_code >= 400:
            raise self.classify(r)
        output = Output.model_validate(json_body(r).get("output") or {})
        if not output.task_id:
            raise ProviderError(
                ErrorKind.RETRYABLE, "DashScope answered the create with no task id.", status=r.status_code
            )
        return Submitted(job_id=output.task_id, state=STATES.get(output.task_status, JobState.QUEUED))

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/tasks/{job_id}", vendor="DashScope")
        if r.status_code >= 400:
            raise self.classify(r)
        output = Output.model_validate(json_body(r).get("output") or {})
        state = STATES.get(output.task_status, JobState.RUNNING)  # an unknown status is not an ending
        status = Status(state=state, raw_state=output.task_status)
        if state is JobState.SUCCEEDED:
            if not output.video_url:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "DashScope reported success but gave no video URL.")
            else:
                expires = datetime.now(timezone.utc) + OUTPUT_LIFETIME
                status.media = [MediaRef(url=output.video_url, expires_at=expires)]
        elif output.task_status == "UNKNOWN":
            status.error = ProviderError(ErrorKind.PROVIDER, "DashScope no longer knows the task (its ids last 24 h).")
        elif state is JobState.FAILED:
            text = scrub(output.message or "no reason given", self.credentials)
            kind = ErrorKind.MODERATION if output.code in MODERATION else ErrorKind.PROVIDER
            status.error = ProviderError(kind, f"DashScope failed the task ({output.code or 'error'}): {text}")
        return status

    async def cancel(self, job_id: str) -> None:
        # Only a PENDING task can be cancelled; for any other the answer is an error, and not news here.
        await send(self.client, "POST", f"/tasks/{job_id}/cancel", vendor="DashScope")

    def classify(self, r: httpx.Response) -> ProviderError:
        body = json_body(r)
        code = str(body.get("code") or "")
        message = str(body.get("message") or r.text[:200])
        detail = f"{message} ({code})" if code else message
        kind = CODES.get(code)
        if kind is None and code.startswith("Throttling"):
            kind = ErrorKind.RATE_LIMITED
        if kind is None and "model not exist" in message.lower():
            kind = ErrorKind.RETIRED
        return http_error(r, "DashScope", detail, self.credentials, kind=kind)
