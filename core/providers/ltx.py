"""Lightricks LTX hosted API, async (v2): create -> job id -> poll -> download.

Wire facts (docs.ltx.video async-jobs and API reference "Async Video Generation", checked 2026-12-06):

    POST /v2/{text-to-video|image-to-video|extend|retake}  -> 202 {"id", "created_at"}
    GET  /v2/{endpoint}/{id} -> {"id", "status": pending|processing|completed|failed, "created_at",
                                 "completed_at", "result": {"video_url"}, "error"}

Bearer key. Bodies: text/image-to-video {prompt (<= 5000 chars), model, duration, resolution "WxH", fps
24|25|48|50, generate_audio, image_uri}; extend {video_uri, duration 2-20 s, prompt, mode end|start,
model}; retake {video_uri, start_time, duration >= 2 s, prompt, mode replace_audio_and_video|..., resolution,
model}. Media inputs are an https URL or a data URI (videos <= 15 MB encoded, docs.ltx.video/input-formats).
Status and output URLs live 24 h after a job ends; then the status read is 404. Errors are
{"type":"error","error":{"type","message"}}; 429 carries Retry-After.

A lost create cannot be found: the API has no way to list jobs or to look one up by anything but its
id (the reference lists only the creates and "Get job status"), so `find_created` stays None and the
engine asks the user before sending again. Our job id travels as "{endpoint}/{id}", so a poll after a
restart knows which endpoint to ask.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, read_video, require, scrub, send

if TYPE_CHECKING:
    from ..journal import Job

ERROR_KINDS = {
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "concurrency_limit_error": ErrorKind.RATE_LIMITED,
    "authentication_error": ErrorKind.AUTH,
    "permission_error": ErrorKind.AUTH,
    "invalid_request_error": ErrorKind.BAD_REQUEST,
    "insufficient_credits_error": ErrorKind.BILLING,
    "content_policy_error": ErrorKind.MODERATION,
    "api_error": ErrorKind.RETRYABLE,
    "overloaded_error": ErrorKind.RETRYABLE,
}
STATES = {
    "pending": JobState.QUEUED,
    "processing": JobState.RUNNING,
    "completed": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
}
FPS = (24, 25, 48, 50)
VIDEO_DATA_URI_LIMIT = 15 * 1024 * 1024  # encoded size, docs.ltx.video/input-formats
OUTPUT_LIFETIME = timedelta(hours=24)  # status and output URLs, after the job ends
ENDPOINTS = ("text-to-video", "image-to-video", "extend", "retake")


class Generate(BaseModel):
    """Body of /v2/text-to-video and /v2/image-to-video."""

    prompt: str
    model: str
    duration: int
    resolution: str  # "1920x1080"
    fps: int
    generate_audio: bool | None = None
    image_uri: str | None = None


class Extend(BaseModel):
    video_uri: str
    duration: int
    prompt: str
    mode: str = "end"  # continue after the last frame: what an editor's "extend" means
    model: str


class Retake(BaseModel):
    video_uri: str
    start_time: float
    duration: int
    prompt: str
    mode: str = "replace_audio_and_video"
    resolution: str | None = None
    model: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = ""
    message: str = ""


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "error"
    error: ErrorDetail


class AsyncJob(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    status: str = ""
    created_at: str | None = None
    completed_at: str | None = None
    result: dict[str, Any] | None = None
    error: ErrorDetail | str | None = None  # the reference says only that it "describes why"


# poll_seconds: "Poll every 5 seconds" (async-jobs).
ROUTE = RouteDescriptor(
    name="ltx",
    protocol="promptreel.core.providers.ltx:LTX",
    keys={"LTX_API_KEY": "Lightricks LTX"},
    base_url="https://api.ltx.video",
    poll_seconds=5.0,
    fake="promptreel.core.sandbox.ltx:FakeLTX",
)


class LTX(Protocol):
    descriptor = ROUTE

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials["LTX_API_KEY"], self.hosts())

    # build ------------------------------------------------------------------------------
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        seconds = require(request.seconds, "seconds", "LTX")
        if request.last_frame or request.reference_images:
            raise UnsupportedRequest("LTX here takes only a first-frame image.", "Drop the last frame or references.")
        if request.remix_of:
            return self._retake(request, seconds)
        if request.extend_video:
            return self._extend(request, seconds)
        size = require(request.size, "size", "LTX")
        fps = require(request.fps, "fps", "LTX")
        if fps not in FPS:
            raise UnsupportedRequest(
                f"LTX renders at 24, 25, 48 or 50 fps, not {fps}.",
                "Plan the request at one of those; conform changes the rate.",
            )
        if seconds > 10 and not (fps in (24, 25) and min(size.width, size.height) == 1080):
            raise UnsupportedRequest(
                f"LTX makes takes longer than 10 s only at 1080p and 24 or 25 fps, not {size} at {fps} fps.",
                "Ask for 10 s or less, or for 1080p at 24 or 25 fps.",
            )
        body = Generate(
            prompt=request.prompt,
            model=self.route.model_id,
            duration=seconds,
            resolution=str(size),
            fps=int(fps),
            generate_audio=request.audio,
        )
        if request.first_frame:
            body.image_uri = data_uri(request.first_frame, "first frame")
        endpoint = "image-to-video" if request.first_frame else "text-to-video"
        return WireCall("POST", f"/v2/{endpoint}", json=body.model_dump(exclude_none=True))

    def _extend(self, request: GenerationRequest, seconds: int) -> WireCall:
        if not 2 <= seconds <= 20:
            raise UnsupportedRequest(
                f"LTX extends a video by 2 to 20 seconds, not {seconds}.", "Ask for an extension of 2-20 s."
            )
        body = Extend(
            video_uri=self.video_uri(require(request.extend_video, "video to extend", "LTX")),
            duration=seconds,
            prompt=request.prompt,
            model=self.route.model_id,
        )
        return WireCall("POST", "/v2/extend", json=body.model_dump(exclude_none=True))

    def _retake(self, request: GenerationRequest, seconds: int) -> WireCall:
        if seconds < 2:
            raise UnsupportedRequest("LTX retakes at least 2 seconds of a video.", "Ask for 2 s or more.")
        # The whole take is made again (from its start, for the length asked) with the new prompt: promptreel's
        # remix. LTX clamps a section that runs past the video's end to the video.
        body = Retake(
            video_uri=self.video_uri(require(request.remix_of, "video to retake", "LTX")),
            start_time=0,
            duration=seconds,
            prompt=request.prompt,
            resolution=str(request.size) if request.size else None,
            model=self.route.model_id,
        )
        return WireCall("POST", "/v2/retake", json=body.model_dump(exclude_none=True))

    def video_uri(self, source: str) -> str:
        """A video to extend or retake: an https URL as given, else the file's bytes as a data URI."""
        if source.startswith("https://"):
            return source
        if not Path(source).is_file():
            raise UnsupportedRequest(
                f"Cannot send {source!r} to LTX: it is neither an https URL nor a file.",
                "Give a promptreel job id, the path of a video, or an https URL.",
            )
        data, mime = read_video(Path(source))
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        if len(uri) > VIDEO_DATA_URI_LIMIT:
            raise UnsupportedRequest(
                f"The video {Path(source).name} is {len(uri) // (1024 * 1024)} MB as a data URI; "
                "LTX takes at most 15 MB.",
                "Give an https URL of the video instead (LTX fetches up to 32 MB).",
            )
        return uri

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier LTX take to extend or retake: the file promptreel kept of it (LTX's own URL lives 24 h)."""
        self.made_here(job, purpose, "LTX")
        kept = [Path(job.output_path)] if job.output_path else []
        kept += [m.inline_path for m in job.media_refs if m.inline_path is not None]
        for path in kept:
            if path.is_file():
                return str(path)
        fresh = [m.url for m in job.media_refs if m.url and (m.expires_at is None or m.expires_at > _now())]
        if fresh:
            return fresh[0]
        raise UnsupportedRequest(
            f"Job {job.id}'s video is no longer on this machine, and LTX's copy has expired.",
            f"Give the path of its video file (or an https URL) to {purpose}.",
        )

    # wire -------------------------------------------------------------------------------
    def _error(self, response: httpx.Response) -> ProviderError:
        body = json_body(response)
        kind = None
        detail = response.text[:200]
        if body:
            try:
                err = ErrorBody.model_validate(body).error
                kind, detail = ERROR_KINDS.get(err.type), f"{err.type}: {err.message}"
            except ValueError:
                pass
        return http_error(response, "LTX", detail, self.credentials, kind)

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        endpoint = call.path.rsplit("/", 1)[-1]
        r = await send(self.client, call.method, call.path, vendor="LTX", creating=True, json=call.json)
        if r.status_code >= 400:
            raise self._error(r)
        try:
            job = AsyncJob.model_validate(json_body(r))
        except ValueError:
            raise ProviderError(
                ErrorKind.PROVIDER, f"LTX accepted the job without an id (HTTP {r.status_code}).", status=r.status_code
            ) from None
        return Submitted(job_id=f"{endpoint}/{job.id}", state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        endpoint, _, ltx_id = job_id.partition("/")
        if endpoint not in ENDPOINTS or not ltx_id:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"{job_id!r} is not an LTX async job (endpoint/id).")
        r = await send(self.client, "GET", f"/v2/{endpoint}/{ltx_id}", vendor="LTX")
        if r.status_code == 404:
            raise ProviderError(
                ErrorKind.PROVIDER,
                f"LTX no longer knows job {ltx_id}: it keeps a job's status and video for 24 hours after it ends.",
                status=404,
            )
        if r.status_code >= 400:
            raise self._error(r)
        job = AsyncJob.model_validate(json_body(r) or {"id": ltx_id})
        state = STATES.get(job.status, JobState.QUEUED)  # an unknown state: keep polling
        status = Status(state=state, raw_state=job.status)
        if state is JobState.SUCCEEDED:
            url = (job.result or {}).get("video_url")
            if not isinstance(url, str) or not url:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "LTX finished the job without a video URL.")
            else:
                status.media = [MediaRef(url=url, expires_at=_parse(job.completed_at) + OUTPUT_LIFETIME)]
        elif state is JobState.FAILED:
            status.error = self._failure(job.error)
        return status

    def _failure(self, error: ErrorDetail | str | None) -> ProviderError:
        if isinstance(error, ErrorDetail):
            kind, text = ERROR_KINDS.get(error.type, ErrorKind.PROVIDER), f"{error.type}: {error.message}"
        else:
            kind, text = ErrorKind.PROVIDER, error or "no reason given"
        if kind in (ErrorKind.RATE_LIMITED, ErrorKind.BAD_REQUEST, ErrorKind.AUTH):
            kind = ErrorKind.PROVIDER  # a job that ran and failed: never "send it again" nor "fix the key"
        return ProviderError(kind, f"LTX failed the job: {scrub(text, self.credentials)}")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse(when: str | None) -> datetime:
    try:
        parsed = datetime.fromisoformat((when or "").replace("Z", "+00:00"))
    except ValueError:
        return _now()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
