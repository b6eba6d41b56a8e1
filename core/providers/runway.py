"""Runway's API: POST /v1/text_to_video, /v1/image_to_video or /v1/video_to_video, then GET /v1/tasks/{id}.

Wire facts (runwayml/sdk-python, docs.dev.runwayml.com): `X-Runway-Version: 2024-11-06`
on every call, camelCase keys, pixel ratios such as "1280:720" (Hailuo 3: an aspect label and a
resolution tier; HappyHorse from an image: the tier only), integer `duration`, images and clips as
HTTPS URLs or data URIs of at most 5 MB. Runway also hosts other vendors' models (Seedance, Hailuo,
HappyHorse, Veo, Gemini Omni); what each takes is in runway_models.py. Tasks update no more often
than every 5 s; THROTTLED means queued behind the org's concurrency limit.

A source clip (Aleph 2, Gemini Omni Flash and Seedance 2.5 edit it; Seedance 2.5 also extends it) is
the request's `remix_of` (edit) or `extend_video` (continue): a video file, or an earlier promptreel
take of any route, whose downloaded file is sent. Up to 5 MB it goes inline; a larger one is uploaded
first, as the SDK's `uploads.create_ephemeral` does: `POST /v1/uploads {filename, type: "ephemeral"}`
answers `{uploadUrl, fields, runwayUri}`, the file is posted as multipart form data with those fields
to `uploadUrl` (a storage host: no key goes there), and the task names the clip by its `runway://` URI.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Computed
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, read_video, require, scrub, send, send_before_create
from .runway_models import MODELS, Hosted

if TYPE_CHECKING:
    from ..journal import Job

API_VERSION = "2024-11-06"
DATA_URI_LIMIT = 5 * 1024 * 1024
UPLOAD = "upload:clip"  # stands in the body for a clip `submit` uploads first
OUTPUT_LIFETIME = timedelta(hours=24)  # Runway keeps output URLs 24-48 h; assume the short end
USD_PER_CREDIT = 0.01  # Runway sells API credits at $0.01 (its pricing page, [3P] as in the catalog)

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


class Reference(BaseModel):
    uri: str


class VideoCreate(BaseModel):
    """Body of the three video endpoints (camelCase on the wire); a model takes the fields runway_models says."""

    model_config = ConfigDict(populate_by_name=True)
    model: str
    prompt_text: str = Field(alias="promptText")
    ratio: str | None = None
    resolution: str | None = None
    duration: int | Literal["auto"] | None = None
    prompt_image: str | list[PromptImage] | None = Field(None, alias="promptImage")
    video_uri: str | None = Field(None, alias="videoUri")
    prompt_video: str | None = Field(None, alias="promptVideo")
    mode: str | None = None
    references: list[Reference] | None = None
    seed: int | None = None
    audio: bool | None = None
    negative_prompt: str | None = Field(None, alias="negativePrompt")


class CreateResponse(BaseModel):
    id: str


class UploadStarted(BaseModel):
    model_config = ConfigDict(extra="ignore")
    runway_uri: str = Field(alias="runwayUri")
    upload_url: str = Field(alias="uploadUrl")
    fields: dict[str, str] = {}


class TaskCost(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credits: float | None = None


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str
    status: str
    progress: float | None = None
    output: list[str] | None = None
    failure: str | None = None
    failure_code: str | None = Field(None, alias="failureCode")
    cost: TaskCost | None = None  # a finished task's charge in credits (runwayml 5.24.0 task_retrieve_response.py)


def failure_kind(code: str | None) -> ErrorKind:
    code = code or ""
    if code.startswith("SAFETY."):
        return ErrorKind.MODERATION  # refused for content: the same input fails again
    if code.startswith("INTERNAL"):
        return ErrorKind.RETRYABLE  # INTERNAL.BAD_OUTPUT.* and friends may pass on a new try
    if code.startswith("ASSET.") or code.startswith("INPUT."):
        return ErrorKind.BAD_REQUEST
    return ErrorKind.PROVIDER


# poll_seconds: the SDK's own cadence; the docs ask for no faster than every 5 s.
ROUTE = RouteDescriptor(
    name="runway",
    protocol="promptreel.core.providers.runway:Runway",
    keys={"RUNWAYML_API_SECRET": "Runway"},
    base_url="https://api.dev.runwayml.com",
    poll_seconds=6.0,
    fake="promptreel.core.sandbox.runway:FakeRunway",
)


class Runway(Protocol):
    descriptor = ROUTE

    def route_auth(self) -> Computed:
        # The API version travels with the key: every call to Runway's host carries both, no other host either.
        return Computed(
            lambda: {
                "Authorization": f"Bearer {self.credentials['RUNWAYML_API_SECRET']}",
                "X-Runway-Version": API_VERSION,
            },
            self.hosts(),
        )

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        model_id = self.route.model_id
        hosted = MODELS.get(model_id)
        if hosted is None:
            raise UnsupportedRequest(
                f"promptreel does not know what {model_id} takes on Runway's API.",
                f"Use one of: {', '.join(sorted(MODELS))}.",
            )
        if request.remix_of and request.extend_video:
            raise UnsupportedRequest(
                "Runway edits or extends a clip in one task, not both.", "Give --remix or --extend."
            )
        purpose = "remix" if request.remix_of else "extend" if request.extend_video else None
        if purpose:
            endpoint, fields = "video_to_video", self._video_fields(hosted, request, purpose)
        elif request.first_frame:
            endpoint, fields = "image_to_video", self._image_fields(hosted, request)
        else:
            endpoint, fields = "text_to_video", self._sized(hosted.text, hosted.durations, request, "from text")
        if request.reference_images:
            most = hosted.references.get(endpoint, 0)
            if endpoint == "image_to_video":  # the SDK's promptImage holds frames or references, never both
                raise UnsupportedRequest(
                    f"{model_id} on Runway takes reference images or first/last frames, not both.",
                    "Drop the reference images, or the frames.",
                )
            if most == 0:
                where = "with a source clip" if endpoint == "video_to_video" else "from text"
                raise UnsupportedRequest(
                    f"{model_id} on Runway takes no reference images {where}.", "Drop the reference images."
                )
            if most is not None and len(request.reference_images) > most:
                raise UnsupportedRequest(
                    f"{model_id} on Runway takes at most {most} reference images.", "Give fewer reference images."
                )
            fields["references"] = [
                Reference(uri=data_uri(p, "reference", DATA_URI_LIMIT, "Runway")) for p in request.reference_images
            ]
        files = fields.pop("files", None)
        body = VideoCreate(model=model_id, prompt_text=request.prompt, **fields)
        body.seed = request.seed if hosted.seed else None
        body.audio = request.audio if hosted.audio else None
        body.negative_prompt = (request.negative_prompt or None) if hosted.negative_prompt else None
        return WireCall(
            "POST",
            f"/v1/{endpoint}",
            json=body.model_dump(by_alias=True, exclude_none=True),
            files=files,
            headers={"X-Runway-Version": API_VERSION},
        )

    def _sized(
        self,
        sizes: dict[str, dict[str, str]] | None,
        allowed: range | tuple[int, ...],
        request: GenerationRequest,
        how: str,
    ) -> dict[str, Any]:
        """The size and length fields for text or image to video, refused when the model cannot make them."""
        model_id = self.route.model_id
        if sizes is None:
            fix = "Give a first-frame image." if how == "from text" else "Drop the first-frame image."
            raise UnsupportedRequest(f"{model_id} on Runway makes no video {how}.", fix)
        size = str(require(request.size, "size", "Runway"))
        if size not in sizes:
            raise UnsupportedRequest(
                f"{model_id} on Runway cannot make {size} {how}.", f"Choose one of: {', '.join(sizes)}."
            )
        seconds = require(request.seconds, "seconds", "Runway")
        if seconds not in allowed:
            span = f"{allowed[0]}-{allowed[-1]}" if isinstance(allowed, range) else ", ".join(map(str, allowed))
            raise UnsupportedRequest(f"{model_id} on Runway makes {span} s, not {seconds} s.", f"Ask for {span} s.")
        return {**sizes[size], "duration": seconds}

    def _image_fields(self, hosted: Hosted, request: GenerationRequest) -> dict[str, Any]:
        fields = self._sized(hosted.image, hosted.durations, request, "from a first frame")
        first = data_uri(require(request.first_frame, "first frame", "Runway"), "first frame", DATA_URI_LIMIT, "Runway")
        if not request.last_frame:
            return {**fields, "prompt_image": first}
        if not hosted.last_frame:
            raise UnsupportedRequest(
                f"{self.route.model_id} on Runway takes a first frame only.", "Drop the last frame."
            )
        last = data_uri(request.last_frame, "last frame", DATA_URI_LIMIT, "Runway")
        return {
            **fields,
            "prompt_image": [PromptImage(uri=first, position="first"), PromptImage(uri=last, position="last")],
        }

    def _video_fields(self, hosted: Hosted, request: GenerationRequest, purpose: str) -> dict[str, Any]:
        model_id = self.route.model_id
        if purpose not in hosted.modes or hosted.video is None:
            did = "edits" if purpose == "remix" else "extends"
            raise UnsupportedRequest(
                f"{model_id} on Runway {did} no video.", "Choose a model that does (see `promptreel models`)."
            )
        if request.first_frame or request.last_frame:
            raise UnsupportedRequest(f"{model_id} on Runway takes no frames beside a source clip.", "Drop the frames.")
        uri, upload = clip_uri(require(request.remix_of or request.extend_video, "source clip", "Runway"))
        fields: dict[str, Any] = {"video_uri" if hosted.video == "videoUri" else "prompt_video": uri, "files": upload}
        mode = hosted.modes[purpose]
        if mode is not None:  # Seedance 2.5: an edit keeps the clip's length ("auto"); an extension adds `seconds`
            fields["mode"] = mode
            fields["duration"] = "auto" if mode == "edit" else require(request.seconds, "seconds", "Runway")
        return fields

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take, of any route, as its downloaded file: Runway takes the clip itself."""
        if job.state is not JobState.DONE or not job.output_path or not Path(job.output_path).is_file():
            raise UnsupportedRequest(
                f"Job {job.id} has no finished video on this machine to {purpose}.",
                "Collect it first (`promptreel resume`), or give the video file itself.",
            )
        return job.output_path

    def _error(self, response: httpx.Response) -> ProviderError:
        detail = json_body(response).get("error")
        return http_error(response, "Runway", str(detail or response.text[:200]), self.credentials)

    async def upload(self, name: str, data: bytes, mime: str) -> str:
        """One file through Runway's uploads; its runway:// URI. No task exists yet if this fails, so every
        failure is retryable, and raised outside the transport error (the engine must not read a lost
        upload as a create whose outcome is unknown)."""
        r = await send_before_create(
            self.client, "POST", "/v1/uploads", vendor="Runway", json={"filename": name, "type": "ephemeral"}
        )
        if isinstance(r, str):
            raise ProviderError(ErrorKind.RETRYABLE, f"Uploading {name} to Runway failed ({r}).")
        if r.status_code >= 400:
            raise self._error(r)
        try:
            started = UploadStarted.model_validate(r.json())
        except ValueError:
            started = None
        if started is None:
            raise ProviderError(
                ErrorKind.RETRYABLE, f"Runway answered the upload of {name} without its address.", status=r.status_code
            )
        # A storage host: the form's fields authorise the post; the key never goes there.
        stored = await send_before_create(
            self.client,
            "POST",
            started.upload_url,
            vendor="Runway",
            data=started.fields,
            files={"file": (name, data, mime)},
        )
        if isinstance(stored, str) or stored.status_code >= 400:
            why = stored if isinstance(stored, str) else f"HTTP {stored.status_code}"
            raise ProviderError(ErrorKind.RETRYABLE, f"Runway's storage did not take {name} ({why}).")
        return started.runway_uri

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        body = call.json
        if call.files:
            uris = {key: await self.upload(*part) for key, part in call.files.items()}
            body = {k: uris.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
        # A transport error here propagates: whether the task was made is for the engine to settle.
        r = await send(
            self.client, call.method, call.path, vendor="Runway", creating=True, json=body, headers=call.headers
        )
        if r.status_code >= 400:
            raise self._error(r)
        return Submitted(job_id=CreateResponse.model_validate(r.json()).id, state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/v1/tasks/{job_id}", vendor="Runway")
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
                if task.cost is not None and task.cost.credits is not None:
                    status.cost_usd = round(task.cost.credits * USD_PER_CREDIT, 6)
        elif state is JobState.FAILED:
            code = f" ({task.failure_code})" if task.failure_code else ""
            status.error = ProviderError(
                failure_kind(task.failure_code),
                f"Runway failed the task{code}: {scrub(task.failure or 'no reason given', self.credentials)}",
            )
        return status

    async def cancel(self, job_id: str) -> None:
        r = await send(self.client, "DELETE", f"/v1/tasks/{job_id}", vendor="Runway")
        if r.status_code >= 400 and r.status_code != 404:
            raise self._error(r)


def clip_uri(source: str) -> tuple[str, dict[str, tuple[str, bytes, str]] | None]:
    """A source clip as a data URI, or, past Runway's 5 MB, a placeholder and the file `submit` uploads."""
    path = Path(source)
    if not path.is_file():
        raise UnsupportedRequest(
            f"{source} is neither a video file nor a finished promptreel job.",
            "Give a video file, or the job id of a finished take (`promptreel jobs`).",
        )
    data, mime = read_video(path)
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if len(uri) > DATA_URI_LIMIT:
        return UPLOAD, {UPLOAD: (path.name, data, mime)}
    return uri, None
