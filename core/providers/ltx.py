"""Lightricks LTX hosted API: one synchronous POST whose answer body is the MP4 itself.

Wire facts (docs.ltx.video quickstart and rate-limits): POST /v1/text-to-video or
/v1/image-to-video with a bearer key and JSON {prompt, model, duration, resolution "WxH",
fps 24|25|48|50 (LTX-2.3, docs.ltx.video/models, checked 2026-12-06), generate_audio, image_uri}; the call blocks for the whole generation and
answers `video/mp4`. Errors are {"type":"error","error":{"type","message"}}; 429 carries
Retry-After for both rate_limit_error and concurrency_limit_error. There is no job to
poll and no way to look up a generation whose answer was lost.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, require

# The whole generation happens inside one response: allow minutes for the first byte.
TIMEOUT = httpx.Timeout(connect=15.0, read=900.0, write=120.0, pool=30.0)

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

FPS = (24, 25, 48, 50)


class Create(BaseModel):
    prompt: str
    model: str
    duration: int
    resolution: str  # "1920x1080"
    fps: int
    generate_audio: bool | None = None
    image_uri: str | None = None


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = ""
    message: str = ""


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "error"
    error: ErrorDetail


class LTX(Protocol):
    name = "ltx"
    default_base_url = "https://api.ltx.video"
    key_names = ("LTX_API_KEY",)
    poll_interval = 0.0

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['LTX_API_KEY']}"}

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        size = require(request.size, "size", "LTX")
        fps = require(request.fps, "fps", "LTX")
        if fps not in FPS:
            raise UnsupportedRequest(f"LTX renders at 24, 25, 48 or 50 fps, not {fps}.",
                                     "Plan the request at one of those; conform changes the rate.")
        if request.last_frame or request.reference_images or request.extend_video:
            raise UnsupportedRequest("LTX here takes only a first-frame image.", "Drop the last frame, references or video to extend.")
        body = Create(
            prompt=request.prompt,
            model=self.route.model_id,
            duration=require(request.seconds, "seconds", "LTX"),
            resolution=f"{size.width}x{size.height}",
            fps=int(fps),
            generate_audio=request.audio,
        )
        if request.first_frame:
            body.image_uri = data_uri(request.first_frame, "first frame")
        path = "/v1/image-to-video" if request.first_frame else "/v1/text-to-video"
        return WireCall("POST", path, json=body.model_dump(exclude_none=True))

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
        """Send the create and stream the MP4 answer straight into `staging`."""
        staging = Path(staging)
        request = self.client.build_request(call.method, self.base_url + call.path, json=call.json,
                                            headers=self.auth_headers(), timeout=TIMEOUT)
        response = await self.client.send(request, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise self._error(response)
            job_id = response.headers.get("x-request-id") or staging.stem
            if not response.headers.get("content-type", "").startswith("video/"):
                await response.aread()
                raise ProviderError(ErrorKind.PROVIDER, "LTX answered without a video.", status=response.status_code)
            try:
                with open(staging, "wb") as f:
                    async for chunk in response.aiter_bytes(1 << 20):
                        f.write(chunk)
            except httpx.TransportError as e:
                staging.unlink(missing_ok=True)
                # The generation ran (and is billed); only its bytes were lost. Retrying pays again.
                raise ProviderError(ErrorKind.RETRYABLE, f"LTX's video answer broke off ({type(e).__name__}).") from None
            if staging.stat().st_size == 0:
                staging.unlink(missing_ok=True)
                raise ProviderError(ErrorKind.PROVIDER, "LTX answered with an empty video.")
        finally:
            await response.aclose()
        return Submitted(job_id=job_id, state=JobState.SUCCEEDED, media=MediaRef(inline_path=staging))

    async def poll(self, job_id: str) -> Status:
        raise ProviderError(ErrorKind.BAD_REQUEST, "LTX generations are synchronous: there is nothing to poll.")
