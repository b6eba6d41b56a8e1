"""Luma's Agents API for Ray 3.2: POST /v1/generations, then GET /v1/generations/{id}.

Wire facts (lumalabs/luma-agents-python 0.5.0, types/generation_create_params.py, video_options_param.py,
image_ref_param.py, generation.py, generation_output.py, generation_failure_code.py; checked
2026-12-06): base https://agents.lumalabs.ai/v1, Bearer key (the SDK reads LUMA_AGENTS_API_KEY). One
create for every kind, chosen by `type`: "video" (text, or image-to-video by `video.keyframes` pinned at
`video.keyframe_indexes` on the 24 fps output grid, 5 s -> 0..120), "video_edit" (`source` is the video;
the output keeps its length, at most 18 s). Output settings sit under `video`: `duration` "5s" | "10s",
`resolution` "360p" | "540p" | "720p" | "1080p". Media references name exactly one of url, base64 `data`
(with `media_type`), `generation_id` (a prior generation of the same caller) or file_id. Extension is
`video.start_frame = {generation_id}` on the legacy two-frame surface, which does not make 10 s. The
generation answers `state` queued | processing | completed | failed, `failure_code`, and `output[]`
of `{type, url}` with presigned URLs that expire in an hour (a new read gives fresh ones). No list,
no cancel.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import aspect_of, http_error, json_body, read_image, read_video, require, scrub, send

if TYPE_CHECKING:
    from ..journal import Job

STATES = {
    "queued": JobState.QUEUED,
    "processing": JobState.RUNNING,
    "completed": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
}
RESOLUTIONS = {360: "360p", 540: "540p", 720: "720p", 1080: "1080p"}  # by the frame's short side
ASPECTS = ("21:9", "16:9", "4:3", "3:2", "1:1", "3:4", "2:3", "9:16")
DURATIONS = (5, 10)
FPS = 24
OUTPUT_LIFETIME = timedelta(hours=1)
FAILURES = {
    "content_moderated": ErrorKind.MODERATION,
    "budget_exhausted": ErrorKind.BILLING,
    "rate_limited": ErrorKind.RETRYABLE,  # the job failed for load: a new job may pass
    "generation_failed": ErrorKind.RETRYABLE,
    "image_too_large": ErrorKind.BAD_REQUEST,
    "unsupported_format": ErrorKind.BAD_REQUEST,
    "corrupt_input": ErrorKind.BAD_REQUEST,
    "invalid_request": ErrorKind.BAD_REQUEST,
}


class Output(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = ""
    url: str | None = None


class Generation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    state: str = "queued"
    failure_code: str | None = None
    failure_reason: str | None = None
    output: list[Output] | None = None


def image_ref(path: Path, what: str) -> dict[str, str]:
    data, mime = read_image(path, what)
    return {"data": base64.b64encode(data).decode("ascii"), "media_type": mime}


ROUTE = RouteDescriptor(
    name="luma",
    protocol="promptreel.core.providers.luma:Luma",
    keys={"LUMA_AGENTS_API_KEY": "Luma Agents API (Ray 3.2)"},
    base_url="https://agents.lumalabs.ai/v1",
    poll_seconds=5.0,
    fake="promptreel.core.sandbox.luma:FakeLuma",
)


class Luma(Protocol):
    descriptor = ROUTE
    version_segment: ClassVar[str] = "/v1"

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("LUMA_AGENTS_API_KEY", ""), self.hosts())

    # build ------------------------------------------------------------------------------
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.reference_images:
            raise UnsupportedRequest(
                "Luma's Ray 3.2 takes no reference images for video.",
                "Give a first and last frame instead, or choose another model.",
            )
        if request.remix_of and request.extend_video:
            raise UnsupportedRequest(
                "Luma edits a video or extends it, not both in one call.", "Edit first, then extend the edited take."
            )
        size = require(request.size, "size", "Luma")
        resolution = RESOLUTIONS.get(min(size.width, size.height))
        aspect = aspect_of(size)
        if resolution is None or aspect not in ASPECTS:
            raise UnsupportedRequest(
                f"Luma's Ray 3.2 cannot make {size}.", "Choose a size the catalog lists for this model."
            )
        video: dict[str, Any] = {"resolution": resolution}
        body: dict[str, Any] = {"type": "video", "model": self.route.model_id, "prompt": request.prompt}
        if request.remix_of:  # an edit keeps the source's length and frame
            if request.first_frame or request.last_frame:
                raise UnsupportedRequest("A Luma edit takes only the source video and a prompt.", "Drop the frames.")
            body.update(type="video_edit", source=self._video_source(request.remix_of), video=video)
            return WireCall("POST", "/generations", json=body)
        seconds = require(request.seconds, "seconds", "Luma")
        if seconds not in DURATIONS:
            raise UnsupportedRequest(f"Luma's Ray 3.2 makes 5 or 10 s, not {seconds} s.", "Ask for 5 or 10 seconds.")
        video["duration"] = f"{seconds}s"
        body["aspect_ratio"] = aspect
        if request.extend_video:
            if request.first_frame or request.last_frame:
                raise UnsupportedRequest(
                    "A Luma extension starts from the earlier take's last frame; it takes no other frames.",
                    "Drop the first and last frames.",
                )
            if seconds != 5:  # extension rides on start_frame, the two-frame surface that makes no 10 s
                raise UnsupportedRequest(
                    "Luma extends a take by 5 s a call.", "Ask for 5 seconds; extend again for more."
                )
            if Path(request.extend_video).exists():
                raise UnsupportedRequest(
                    "Luma extends only its own generations, not a video file.",
                    "Give the job id of a take made on the luma route (see `promptreel jobs`).",
                )
            video["start_frame"] = {"generation_id": request.extend_video}
        else:
            frames = [(0, request.first_frame), (seconds * FPS, request.last_frame)]
            keyframes = [(at, image_ref(p, "first frame" if at == 0 else "last frame")) for at, p in frames if p]
            if keyframes:  # the keyframe surface: any duration, frames pinned on the 24 fps grid
                video["keyframes"] = [ref for _, ref in keyframes]
                video["keyframe_indexes"] = [at for at, _ in keyframes]
        body["video"] = video
        return WireCall("POST", "/generations", json=body)

    @staticmethod
    def _video_source(source: str) -> dict[str, str]:
        path = Path(source)
        if path.is_file():
            data, mime = read_video(path)
            return {"data": base64.b64encode(data).decode("ascii"), "media_type": mime}
        return {"generation_id": source}  # by now Luma's id: the engine resolves an earlier job to it

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take on this route, named by its generation id (our provider job id)."""
        self.made_here(job, purpose, "Luma")
        return require(job.provider_job_id, "generation id", "Luma")

    # submit / poll ----------------------------------------------------------------------
    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error propagates: whether the generation was made is for the engine to settle.
        r = await send(self.client, call.method, call.path, vendor="Luma", creating=True, json=call.json)
        if r.status_code >= 400:
            raise self.classify(r)
        try:
            generation = Generation.model_validate(r.json())
        except ValueError:
            raise ProviderError(
                ErrorKind.RETRYABLE, "Luma answered the create with no generation id.", status=r.status_code
            ) from None
        return Submitted(job_id=generation.id, state=STATES.get(generation.state, JobState.QUEUED))

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/generations/{job_id}", vendor="Luma")
        if r.status_code >= 400:
            raise self.classify(r)
        generation = Generation.model_validate(r.json())
        state = STATES.get(generation.state, JobState.RUNNING)  # an unknown state is not an ending
        status = Status(state=state, raw_state=generation.state)
        if state is JobState.SUCCEEDED:
            videos = [o.url for o in generation.output or [] if o.url and o.type in ("video", "")]
            if not videos:
                status.state = JobState.FAILED
                status.error = ProviderError(
                    ErrorKind.PROVIDER, "Luma reported the generation complete but gave no video."
                )
            else:  # only the MP4: an HDR request may add an EXR alongside
                expires = datetime.now(timezone.utc) + OUTPUT_LIFETIME
                status.media = [MediaRef(url=videos[0], expires_at=expires, provider_id=generation.id)]
        elif state is JobState.FAILED:
            code = generation.failure_code or "failed"
            reason = scrub(generation.failure_reason or "no reason given", self.credentials)
            status.error = ProviderError(
                FAILURES.get(code, ErrorKind.PROVIDER), f"Luma failed the generation ({code}): {reason}"
            )
        return status

    def classify(self, r: httpx.Response) -> ProviderError:
        body = json_body(r)
        err = body.get("error")
        detail = err.get("message") if isinstance(err, dict) else err or body.get("detail") or body.get("message")
        return http_error(r, "Luma", str(detail or r.text[:200]), self.credentials)
