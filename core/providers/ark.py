"""BytePlus ModelArk's video generation tasks (ByteDance Seedance): POST /api/v3/contents/generations/tasks,
then GET /api/v3/contents/generations/tasks/{id}; DELETE cancels a queued task.

Wire facts (byteplus-python-sdk-v2 3.0.63, byteplussdkarkruntime: _constants.py BASE_URL,
resources/content_generation/tasks.py, types/content_generation/create_task_content_param.py,
content_generation_task.py, _base_client.py _make_status_error; checked 2026-12-06): base
https://ark.ap-southeast.bytepluses.com/api/v3, Bearer key (the SDK reads ARK_API_KEY). The create body is
`model`, a `content` array (a `text` item, and `image_url` items `{url}` with a `role`: first_frame /
last_frame, or reference_image), and the generation settings as JSON fields, as the SDK sends them (not
the legacy `--rs 720p --dur 5` commands in the text): `resolution` ("480p", "720p", "1080p", "4k"),
`ratio` ("21:9" ... "9:16", or "adaptive": the first frame sets it), `duration` (whole seconds),
`generate_audio`, `seed`, `watermark`. A create answers `{id}`; the task answers `status` queued | running
| succeeded | failed | cancelled (| expired, past execution_expires_after), `content.video_url`,
`error: {code, message}`, `usage.completion_tokens`. Errors are `{error: {code, message, param, type}}`.
From ModelArk's documentation as transcribed by third parties [3P]: keyframes and reference images do not
mix, at most 9 reference images, Seedance 2.x takes no `seed`, Fast and 2.5 stop at 720p, output URLs
last 24 h, refusals for content carry codes `...SensitiveContentDetected...`. BytePlus does not serve the US.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import data_uri, http_error, json_body, nearest_ratio, require, scrub, send

STATES = {
    "queued": JobState.QUEUED,
    "running": JobState.RUNNING,
    "succeeded": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
    "cancelled": JobState.CANCELED,
    "expired": JobState.FAILED,
}
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
# Resolution tiers by the pixel count of their 16:9 frame; a size takes the tier nearest its own count.
TIERS = {"480p": 864 * 496, "720p": 1280 * 720, "1080p": 1920 * 1080, "4k": 3840 * 2160}
# Model id -> the tiers ModelArk makes it at, and whether it takes a seed [3P]. A model id not listed here
# (a user's catalog) is sent as asked, and ModelArk judges it.
MODELS = {
    "dreamina-seedance-2-0-260128": (("480p", "720p", "1080p", "4k"), False),
    "dreamina-seedance-2-0-fast-260128": (("480p", "720p"), False),
    "dreamina-seedance-2-5-260628": (("480p", "720p"), False),
}
MAX_REFERENCES = 9
IMAGE_LIMIT = 30 * 1024 * 1024  # [3P] one image under 30 MB
OUTPUT_LIFETIME = timedelta(hours=24)  # [3P]
SENSITIVE = "SensitiveContentDetected"
# Error codes (the `code` of the error envelope) that say more than the HTTP status does.
CODES = {
    "AuthenticationError": ErrorKind.AUTH,
    "AccountOverdueError": ErrorKind.BILLING,
    "ModelNotOpen": ErrorKind.AUTH,
}  # the account has not switched the model on: another route may have it


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
    resolution: str
    ratio: str
    duration: int
    generate_audio: bool | None = None
    seed: int | None = None


class Content(BaseModel):
    model_config = ConfigDict(extra="ignore")
    video_url: str | None = None


class TaskError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str | None = None
    message: str | None = None


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = ""
    status: str = "queued"
    content: Content | None = None
    error: TaskError | None = None


def tier_of(width: int, height: int) -> str:
    """The resolution tier whose pixel count is nearest (in ratio) the frame's."""
    return min(TIERS, key=lambda t: abs(math.log(width * height / TIERS[t])))


# poll_seconds: generations take minutes; ModelArk names no cadence.
ROUTE = RouteDescriptor(
    name="ark",
    protocol="promptreel.core.providers.ark:Ark",
    keys={"ARK_API_KEY": "BytePlus ModelArk (Seedance; not served in the US)"},
    base_url="https://ark.ap-southeast.bytepluses.com/api/v3",
    poll_seconds=10.0,
    fake="promptreel.core.sandbox.ark:FakeArk",
)


class Ark(Protocol):
    descriptor = ROUTE
    version_segment: ClassVar[str] = "/api/v3"

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("ARK_API_KEY", ""), self.hosts())

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.extend_video or request.remix_of:
            raise UnsupportedRequest(
                "The ark route makes new Seedance takes only: no extend or edit.",
                "Drop --extend / --remix, or set RUNWAYML_API_SECRET so the runway route edits it.",
            )
        model = self.route.model_id
        size = require(request.size, "size", "ModelArk")
        seconds = require(request.seconds, "seconds", "ModelArk")
        tiers, takes_seed = MODELS.get(model, (tuple(TIERS), True))
        ratio, tier = nearest_ratio(size, RATIOS), tier_of(size.width, size.height)
        if ratio is None:
            raise UnsupportedRequest(f"ModelArk cannot make {size}.", "Choose a size the catalog lists for this model.")
        if tier not in tiers:
            raise UnsupportedRequest(
                f"ModelArk makes {model} at {', '.join(tiers)} only, not {size}.",
                "Choose a smaller size, or set RUNWAYML_API_SECRET so the runway route makes it.",
            )
        keyframes = [
            (p, role) for p, role in ((request.first_frame, "first_frame"), (request.last_frame, "last_frame")) if p
        ]
        if keyframes and request.reference_images:
            raise UnsupportedRequest(
                "ModelArk takes first / last frames or reference images, not both.", "Drop one of them."
            )
        if len(request.reference_images) > MAX_REFERENCES:
            raise UnsupportedRequest(
                f"ModelArk takes at most {MAX_REFERENCES} reference images, not {len(request.reference_images)}.",
                f"Keep {MAX_REFERENCES} or fewer.",
            )
        content = [Item(type="text", text=request.prompt)]
        for path, role in keyframes + [(p, "reference_image") for p in request.reference_images]:
            uri = data_uri(path, role.replace("_", " "), IMAGE_LIMIT, "ModelArk")
            content.append(Item(type="image_url", image_url=ImageUrl(url=uri), role=role))
        body = Create(
            model=model,
            content=content,
            resolution=tier,
            ratio="adaptive" if keyframes else ratio,
            duration=seconds,
            generate_audio=request.audio,
            seed=request.seed if takes_seed else None,
        )
        return WireCall("POST", "/contents/generations/tasks", json=body.model_dump(exclude_none=True))

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        # A transport error propagates: whether the task was made is for the engine to settle.
        r = await send(self.client, call.method, call.path, vendor="ModelArk", creating=True, json=call.json)
        if r.status_code >= 400:
            raise self.classify(r)
        task_id = json_body(r).get("id")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderError(
                ErrorKind.RETRYABLE, "ModelArk answered the create with no task id.", status=r.status_code
            )
        return Submitted(job_id=task_id, state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/contents/generations/tasks/{job_id}", vendor="ModelArk")
        if r.status_code >= 400:
            raise self.classify(r)
        task = Task.model_validate(json_body(r))
        state = STATES.get(task.status, JobState.RUNNING)  # an unknown status is not an ending
        status = Status(state=state, raw_state=task.status)
        if state is JobState.SUCCEEDED:
            if task.content is None or not task.content.video_url:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "ModelArk reported success but gave no video URL.")
            else:
                expires = datetime.now(timezone.utc) + OUTPUT_LIFETIME
                status.media = [MediaRef(url=task.content.video_url, expires_at=expires)]
        elif task.status == "expired":
            status.error = ProviderError(ErrorKind.PROVIDER, "ModelArk let the task expire before it finished.")
        elif state is JobState.FAILED:
            err = task.error or TaskError()
            text = scrub(err.message or "no reason given", self.credentials)
            kind = ErrorKind.MODERATION if SENSITIVE in (err.code or "") else ErrorKind.PROVIDER
            status.error = ProviderError(kind, f"ModelArk failed the task ({err.code or 'error'}): {text}")
        return status

    async def cancel(self, job_id: str) -> None:
        # ModelArk cancels a queued task on DELETE (a running one cannot be stopped); errors are not news here.
        await send(self.client, "DELETE", f"/contents/generations/tasks/{job_id}", vendor="ModelArk")

    def classify(self, r: httpx.Response) -> ProviderError:
        err = json_body(r).get("error")
        err = err if isinstance(err, dict) else {}
        code = str(err.get("code") or "")
        detail = f"{err.get('message') or r.text[:200]} ({code})" if code else str(err.get("message") or r.text[:200])
        kind = ErrorKind.MODERATION if SENSITIVE in code else CODES.get(code)
        return http_error(r, "ModelArk", detail, self.credentials, kind=kind)
