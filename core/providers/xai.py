"""xAI's videos API: POST /v1/videos/{generations,edits,extensions}, then GET /v1/videos/{request_id}.

Wire facts (docs.x.ai developers/model-capabilities/video/{generation,extension}, xai-sdk-python
proto v6 video_pb2.pyi, checked 2026-12-06): Bearer key; a create answers `{request_id}`; the
status read answers `status` pending | done | expired | failed, and when done `video: {url,
duration, respect_moderation}` (false: the output was withheld by moderation), `error: {code,
message}` when failed, and `usage: {cost_in_usd_ticks}`, what the job was charged (1 tick is 1e-10
USD: xai-sdk-python src/xai_sdk/cost.py and proto v6 usage_pb2.pyi, checked 2026-12-06). Inputs are
objects with a `url` (public URL or data URI): `image` for a first frame, `reference_images` (1-7, not
with `image`), `video` for an edit or an extension. Edits keep the source's length (at most 8.7 s) and
take no duration; an extension's `duration` (2-10 s) is the new part only, the answer is source plus
extension, and takes no aspect ratio or resolution. An invalid
key is answered 400, not 401. No list endpoint and no cancel: a lost create cannot be looked up.
The official Python SDK speaks gRPC, not this REST surface.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import BILLING_WORDS, aspect_of, data_uri, http_error, json_body, read_video, require, scrub, send

if TYPE_CHECKING:
    from ..journal import Job

STATES = {
    "pending": JobState.RUNNING,
    "done": JobState.SUCCEEDED,
    "expired": JobState.FAILED,
    "failed": JobState.FAILED,
}
RESOLUTIONS = {480: "480p", 720: "720p", 1080: "1080p"}  # by the frame's short side
ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
MAX_REFERENCES = 7
EXTEND_SECONDS = (2, 10)
USD_PER_TICK = 1e-10
OUTPUT_LIFETIME = timedelta(hours=24)  # [U] xAI names no lifetime for output URLs; assume a day


class UrlInput(BaseModel):
    url: str


class Generate(BaseModel):
    model: str
    prompt: str
    duration: int | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    image: UrlInput | None = None
    reference_images: list[UrlInput] | None = None
    video: UrlInput | None = None


class Video(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = None
    duration: float | None = None
    respect_moderation: bool | None = None


class VideoError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str | None = None
    message: str | None = None


class Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cost_in_usd_ticks: int | None = None


class Deferred(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str = "pending"  # an answer without a status is a request still in the queue
    video: Video | None = None
    error: VideoError | None = None
    progress: float | None = None
    usage: Usage | None = None


# poll_seconds: the docs' example cadence; generations take minutes.
ROUTE = RouteDescriptor(
    name="xai",
    protocol="promptreel.core.providers.xai:XAI",
    keys={"XAI_API_KEY": "xAI (Grok Imagine)"},
    base_url="https://api.x.ai/v1",
    poll_seconds=5.0,
    fake="promptreel.core.sandbox.xai:FakeXAI",
)


class XAI(Protocol):
    descriptor = ROUTE
    version_segment: ClassVar[str] = "/v1"

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("XAI_API_KEY", ""), self.hosts())

    # build ------------------------------------------------------------------------------
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.remix_of and request.extend_video:
            raise UnsupportedRequest(
                "xAI edits a video or extends it, not both in one call.", "Edit first, then extend the edited take."
            )
        if request.last_frame:
            raise UnsupportedRequest(
                "xAI's video API takes no last frame.",
                "Drop the last frame, or choose a model that takes one (see `promptreel models`).",
            )
        body = Generate(model=self.route.model_id, prompt=request.prompt)
        source = request.remix_of or request.extend_video
        if source:
            if request.first_frame or request.reference_images:
                raise UnsupportedRequest(
                    "An xAI edit or extension takes only the source video and a prompt.",
                    "Drop the first frame and reference images.",
                )
            body.video = UrlInput(url=self._video_url(source))
            if request.remix_of:  # the edit keeps the source's length and frame
                return WireCall("POST", "/videos/edits", json=body.model_dump(exclude_none=True))
            seconds = require(request.seconds, "seconds", "xAI")
            low, high = EXTEND_SECONDS
            if not low <= seconds <= high:
                raise UnsupportedRequest(
                    f"xAI extends a video by {low} to {high} s, not {seconds} s.",
                    f"Ask for {low}-{high} seconds of extension.",
                )
            body.duration = seconds
            return WireCall("POST", "/videos/extensions", json=body.model_dump(exclude_none=True))
        size = require(request.size, "size", "xAI")
        body.duration = require(request.seconds, "seconds", "xAI")
        body.aspect_ratio = aspect_of(size)
        body.resolution = RESOLUTIONS.get(min(size.width, size.height))
        if body.aspect_ratio not in ASPECTS or body.resolution is None:
            raise UnsupportedRequest(f"xAI cannot make {size}.", "Choose a size the catalog lists for this model.")
        if request.first_frame and request.reference_images:
            raise UnsupportedRequest("xAI takes a first frame or reference images, not both.", "Drop one of them.")
        if request.first_frame:
            body.image = UrlInput(url=data_uri(request.first_frame, "first frame", vendor="xAI"))
        if request.reference_images:
            if len(request.reference_images) > MAX_REFERENCES:
                raise UnsupportedRequest(
                    f"xAI takes at most {MAX_REFERENCES} reference images, not {len(request.reference_images)}.",
                    f"Keep {MAX_REFERENCES} or fewer.",
                )
            body.reference_images = [
                UrlInput(url=data_uri(p, "reference", vendor="xAI")) for p in request.reference_images
            ]
        return WireCall("POST", "/videos/generations", json=body.model_dump(exclude_none=True))

    @staticmethod
    def _video_url(source: str) -> str:
        """An earlier xAI output's URL (the engine put it here), or a local MP4 sent as a data URI."""
        if source.startswith(("https://", "http://")):
            return source
        path = Path(source)
        if not path.is_file():
            raise UnsupportedRequest(
                f"{source!r} is neither a video file nor an earlier xAI take.",
                "Give a path to an MP4, or the job id of a take made on the xai route.",
            )
        if path.suffix.lower() != ".mp4":
            raise UnsupportedRequest(
                f"xAI takes an MP4 (H.264, H.265 or AV1) as the source video; {path.name} is not.",
                "Export the clip as H.264 MP4 and give that.",
            )
        data, mime = read_video(path)
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take on this route: the URL xAI gave its video while it lasts (the API reads inputs by
        URL), else the take's own MP4 on disk, sent inline."""
        self.made_here(job, purpose, "xAI")
        now = datetime.now(timezone.utc)
        url = next((m.url for m in job.media_refs if m.url and (m.expires_at is None or m.expires_at > now)), None)
        if url is not None:
            return url
        if job.output_path and Path(job.output_path).suffix.lower() == ".mp4" and Path(job.output_path).is_file():
            return job.output_path
        raise UnsupportedRequest(
            f"Job {job.id}'s xAI video URL has expired and its MP4 is not on disk to {purpose}.",
            f"Give the take's file instead (--{purpose if purpose == 'extend' else 'remix'} PATH to an MP4).",
        )

    # submit / poll ----------------------------------------------------------------------
    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error propagates: whether the request was made is for the engine to settle.
        r = await send(self.client, call.method, call.path, vendor="xAI", creating=True, json=call.json)
        if r.status_code >= 400:
            raise self.classify(r)
        request_id = json_body(r).get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ProviderError(
                ErrorKind.RETRYABLE, "xAI answered the create with no request id.", status=r.status_code
            )
        return Submitted(job_id=request_id, state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/videos/{job_id}", vendor="xAI")
        if r.status_code >= 400:
            raise self.classify(r)
        answer = Deferred.model_validate(json_body(r))
        state = STATES.get(answer.status, JobState.RUNNING)  # an unknown status is not an ending
        progress = answer.progress / 100 if answer.progress is not None else None
        status = Status(state=state, progress=progress, raw_state=answer.status)
        video = answer.video
        if state is JobState.SUCCEEDED:
            if video is not None and video.respect_moderation is False:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.MODERATION, "xAI withheld the video for its content policy.")
            elif video is None or not video.url:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "xAI reported the video done but gave no URL.")
            else:
                status.media = [MediaRef(url=video.url, expires_at=datetime.now(timezone.utc) + OUTPUT_LIFETIME)]
                if answer.usage is not None and answer.usage.cost_in_usd_ticks is not None:
                    status.cost_usd = round(answer.usage.cost_in_usd_ticks * USD_PER_TICK, 6)
        elif answer.status == "expired":
            status.error = ProviderError(ErrorKind.PROVIDER, "xAI let the request expire before it finished.")
        elif state is JobState.FAILED:
            err = answer.error or VideoError()
            text = scrub(err.message or "no reason given", self.credentials)
            kind = ErrorKind.MODERATION if "moderat" in f"{err.code} {text}".lower() else ErrorKind.PROVIDER
            status.error = ProviderError(kind, f"xAI failed the video ({err.code or 'error'}): {text}")
        return status

    # errors -----------------------------------------------------------------------------
    def classify(self, r: httpx.Response) -> ProviderError:
        body = json_body(r)
        detail = str(body.get("error") or body.get("message") or body.get("code") or r.text[:200])
        if r.status_code == 400 and "api key" in detail.lower():  # xAI answers a bad key with 400
            return ProviderError(ErrorKind.AUTH, "xAI refused the API key (HTTP 400). Check XAI_API_KEY.", status=400)
        if BILLING_WORDS.search(detail):  # out of credits or past the spending limit, whatever the status
            return http_error(r, "xAI", detail, self.credentials, kind=ErrorKind.BILLING)
        return http_error(r, "xAI", detail, self.credentials)
