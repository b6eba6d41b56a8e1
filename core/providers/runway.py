"""Runway's API: POST /v1/text_to_video or /v1/image_to_video, then GET /v1/tasks/{id}.

Wire facts (runwayml/sdk-python, docs.dev.runwayml.com): `X-Runway-Version: 2024-11-06`
on every call, camelCase keys, pixel ratios such as "1280:720", integer `duration`,
`promptImage` as an HTTPS URL or a data URI of at most 5 MB. Tasks update no more
often than every 5 s; THROTTLED means queued behind the org's concurrency limit.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..request import GenerationRequest
from ..errors import UnsupportedRequest
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, require, scrub, send

API_VERSION = "2024-11-06"
DATA_URI_LIMIT = 5 * 1024 * 1024
OUTPUT_LIFETIME = timedelta(hours=24)  # Runway keeps output URLs 24-48 h; assume the short end

STATES = {
    "PENDING": JobState.QUEUED,
    "THROTTLED": JobState.QUEUED,  # accepted, waiting for a concurrency slot: not a failure
    "RUNNING": JobState.RUNNING,
    "SUCCEEDED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
    "CANCELLED": JobState.CANCELED,
}


class PromptImage(BaseModel):
    uri: str
    position: Literal["first", "last"]


class VideoCreate(BaseModel):
    """Body of /v1/text_to_video and /v1/image_to_video (camelCase on the wire)."""

    model_config = ConfigDict(populate_by_name=True)
    model: str
    prompt_text: str = Field(alias="promptText")
    ratio: str
    duration: int
    prompt_image: str | list[PromptImage] | None = Field(None, alias="promptImage")
    seed: int | None = None
    audio: bool | None = None
    negative_prompt: str | None = Field(None, alias="negativePrompt")


# Runway-hosted models whose input takes `audio` and `negativePrompt` (runwayml/sdk-python 5.24.0,
# types/text_to_video_create_params.py and image_to_video_create_params.py: Veo3_1, Veo3_1Fast; checked 2026-12-06).
AUDIO_AND_NEGATIVE = {"veo3.1", "veo3.1_fast"}


class CreateResponse(BaseModel):
    id: str


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str
    status: str
    progress: float | None = None
    output: list[str] | None = None
    failure: str | None = None
    failure_code: str | None = Field(None, alias="failureCode")


def failure_kind(code: str | None) -> ErrorKind:
    code = code or ""
    if code.startswith("SAFETY."):
        return ErrorKind.MODERATION  # refused for content: the same input fails again
    if code.startswith("INTERNAL"):
        return ErrorKind.RETRYABLE  # INTERNAL.BAD_OUTPUT.* and friends may pass on a new try
    if code.startswith("ASSET.") or code.startswith("INPUT."):
        return ErrorKind.BAD_REQUEST
    return ErrorKind.PROVIDER


class Runway(Protocol):
    name = "runway"
    default_base_url = "https://api.dev.runwayml.com"
    key_names = ("RUNWAYML_API_SECRET",)
    poll_interval = 6.0  # the SDK's own cadence; the docs ask for no faster than every 5 s

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['RUNWAYML_API_SECRET']}", "X-Runway-Version": API_VERSION}

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        size = require(request.size, "size", "Runway")
        images = []
        if request.first_frame:
            images.append(PromptImage(uri=data_uri(request.first_frame, "first frame", DATA_URI_LIMIT, "Runway"), position="first"))
        if request.last_frame:
            if not request.first_frame:
                raise UnsupportedRequest("Runway takes a last frame only together with a first frame.", "Add a first-frame image.")
            images.append(PromptImage(uri=data_uri(request.last_frame, "last frame", DATA_URI_LIMIT, "Runway"), position="last"))
        if request.extend_video or request.reference_images:
            raise UnsupportedRequest("Runway's video endpoints here take no reference images or video to extend.",
                                     "Drop them, or choose a model that has them (see `promptreel models`).")
        body = VideoCreate(
            model=self.route.model_id,
            prompt_text=request.prompt,
            ratio=f"{size.width}:{size.height}",
            duration=require(request.seconds, "seconds", "Runway"),
            prompt_image=(images[0].uri if len(images) == 1 else images) if images else None,
            seed=request.seed,
        )
        if self.route.model_id in AUDIO_AND_NEGATIVE:
            body.audio = request.audio
            body.negative_prompt = request.negative_prompt or None
        path = "/v1/image_to_video" if images else "/v1/text_to_video"
        return WireCall("POST", path, json=body.model_dump(by_alias=True, exclude_none=True),
                        headers={"X-Runway-Version": API_VERSION})

    def _error(self, response: httpx.Response) -> ProviderError:
        detail = json_body(response).get("error")
        return http_error(response, "Runway", str(detail or response.text[:200]), self.credentials)

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error here propagates: whether the task was made is for the engine to settle.
        r = await send(self.client, call.method, self.base_url + call.path, vendor="Runway", creating=True,
                       json=call.json, headers={**call.headers, **self.auth_headers()})
        if r.status_code >= 400:
            raise self._error(r)
        return Submitted(job_id=CreateResponse.model_validate(r.json()).id, state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"{self.base_url}/v1/tasks/{job_id}", vendor="Runway",
                       headers=self.auth_headers())
        if r.status_code >= 400:
            raise self._error(r)
        task = Task.model_validate(r.json())
        state = STATES.get(task.status, JobState.RUNNING)  # an unknown status is not an ending
        next_poll = self.poll_interval + random.uniform(-1.0, 1.5)  # jitter so parallel jobs spread out
        status = Status(state=state, progress=task.progress, next_poll_s=next_poll, raw_state=task.status)
        if state is JobState.SUCCEEDED:
            if not task.output:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "Runway reported success but returned no video.")
            else:
                expires = datetime.now(timezone.utc) + OUTPUT_LIFETIME
                status.media = [MediaRef(url=u, expires_at=expires) for u in task.output]
        elif state is JobState.FAILED:
            code = f" ({task.failure_code})" if task.failure_code else ""
            status.error = ProviderError(failure_kind(task.failure_code),
                                         f"Runway failed the task{code}: {scrub(task.failure or 'no reason given', self.credentials)}")
        return status

    async def cancel(self, job_id: str) -> None:
        r = await self.client.delete(f"{self.base_url}/v1/tasks/{job_id}", headers=self.auth_headers())
        if r.status_code >= 400 and r.status_code != 404:
            raise self._error(r)
