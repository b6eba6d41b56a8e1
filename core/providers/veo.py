"""What Veo on the Gemini API and Veo on Vertex AI share: one request shape, Google's error envelope,
long-running operations, and RAI filtering. Each route's own module adds its endpoints and auth.

Request (python-genai's `_GenerateVideosParameters_to_mldev/_to_vertex` converters):

    {"instances": [{"prompt", "image", "lastFrame", "referenceImages": [{"image", "referenceType"}], "video"}],
     "parameters": {"aspectRatio", "resolution", "durationSeconds", "negativePrompt", "sampleCount",
                    Vertex only: "seed", "fps", "generateAudio", "storageUri"}}

Images are {"bytesBase64Encoded", "mimeType"} on both; a video to extend is {"uri"} on the Gemini
API and {"gcsUri" | "bytesBase64Encoded", "mimeType"} on Vertex.

An operation is {"name", "done", "metadata", "error": google.rpc.Status, "response"}. A finished
operation without videos but with `raiMediaFilteredCount` was blocked by Responsible-AI filters.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..catalog import Route
from ..errors import UnsupportedRequest
from ..files import write_atomic
from ..request import GenerationRequest
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import json_body, read_image, retry_after, scrub, send

RESOLUTIONS = {720: "720p", 1080: "1080p", 2160: "4k"}  # short side -> Veo's resolution name
MODERATION_WORDS = ("responsible ai", "safety", "sensitive words", "violate", "usage guidelines", "blocked")


# --- what crosses the wire -------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class InlineImage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bytesBase64Encoded: str
    mimeType: str


class ReferenceImage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: InlineImage
    referenceType: str = "ASSET"  # the SDK's enum value; STYLE is Vertex-only (Veo 2)


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    image: InlineImage | None = None
    lastFrame: InlineImage | None = None
    referenceImages: list[ReferenceImage] | None = None
    video: dict[str, str] | None = None


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aspectRatio: str | None = None
    resolution: str | None = None
    durationSeconds: int | None = None
    negativePrompt: str | None = None
    sampleCount: int = 1  # explicit: one paid video per job
    seed: int | None = None  # Vertex only
    fps: int | None = None  # Vertex only
    generateAudio: bool | None = None  # Vertex only
    storageUri: str | None = None  # Vertex only: a gs:// prefix for the outputs


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instances: list[Instance]
    parameters: Parameters


class RpcStatus(_Loose):
    code: int = 0
    message: str = ""
    status: str = ""
    details: list[dict[str, Any]] = []

    @model_validator(mode="before")
    @classmethod
    def _named_code(cls, data: Any) -> Any:
        # Gemini's Interactions API names its error type with a string `code`, not a gRPC number
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            name = data["code"].rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            data = {**data, "code": 0, "status": data.get("status") or name.upper().replace("-", "_")}
        return data


class Operation(_Loose):
    name: str = ""
    done: bool = False
    metadata: dict[str, Any] | None = None
    error: RpcStatus | None = None
    response: dict[str, Any] | None = None


class VideoResult(_Loose):
    """The videos of a finished operation, and what the RAI filters removed."""

    videos: list[dict[str, Any]] = []
    rai_count: int = Field(0, alias="raiMediaFilteredCount")
    rai_reasons: list[str] = Field([], alias="raiMediaFilteredReasons")


# --- the shared protocol -----------------------------------------------------------------


class VeoProtocol(Protocol):
    """Veo's request, errors and operations; subclasses give the endpoints and credentials."""

    vendor: ClassVar[str] = "Google"
    vertex: ClassVar[bool] = False

    def __init__(
        self,
        client: httpx.AsyncClient,
        route: Route,
        credentials: dict[str, str],
        base_url: str | None = None,
        staging_dir: Path | None = None,
    ):
        super().__init__(client, route, credentials, base_url)
        self._staging_dir = staging_dir

    @property
    def staging_dir(self) -> Path:
        """Where inline video bytes from a finished operation are written (the engine may set it)."""
        if self._staging_dir is None:
            from ..settings import home

            self._staging_dir = home() / "staging"
        return self._staging_dir

    @staging_dir.setter
    def staging_dir(self, path: Path) -> None:
        self._staging_dir = Path(path)

    # build ------------------------------------------------------------------------------
    def predict_request(self, request: GenerationRequest) -> PredictRequest:
        instance = Instance(prompt=request.prompt)
        if request.first_frame is not None:
            instance.image = _inline(request.first_frame)
        if request.last_frame is not None:
            instance.lastFrame = _inline(request.last_frame)
        if request.reference_images:
            instance.referenceImages = [ReferenceImage(image=_inline(p)) for p in request.reference_images]
        if request.extend_video:
            instance.video = self.video_input(request.extend_video)
        params = Parameters(durationSeconds=request.seconds, negativePrompt=request.negative_prompt or None)
        if request.size is not None:
            w, h = request.size.width, request.size.height
            short = min(w, h)
            if short not in RESOLUTIONS or max(w, h) * 9 != short * 16:
                raise UnsupportedRequest(
                    f"Veo cannot make {request.size}.",
                    "Veo makes 16:9 or 9:16 at 720p, 1080p or 4k (e.g. 1280x720, 1080x1920).",
                )
            params.aspectRatio = "16:9" if w > h else "9:16"
            if not self.route.model_id.startswith("veo-2"):  # Veo 2 makes 720p only and takes no resolution
                params.resolution = RESOLUTIONS[short]
        elif request.aspect in ("16:9", "9:16"):
            params.aspectRatio = request.aspect
        return PredictRequest(instances=[instance], parameters=params)

    def video_input(self, source: str) -> dict[str, str]:
        raise NotImplementedError

    # errors -----------------------------------------------------------------------------
    def _safe(self, text: str) -> str:
        return scrub(text, self.credentials.values())

    async def _send(self, method: str, path: str, creating: bool = False, **kw: Any) -> httpx.Response:
        # Each API authenticates its own way: the route client's auth (Vertex refreshes a token off the loop).
        return await send(self.client, method, path, vendor=self.vendor, creating=creating, **kw)

    def operation_status(self, r: httpx.Response, job_id: str) -> Status:
        """A polled operation's answer (both APIs poll with their own call and answer with an Operation)."""
        if r.status_code >= 400:
            raise self.classify(r)
        op = Operation.model_validate(json_body(r))
        op.name = op.name or job_id
        return self.status_of(op)

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        r = await self._send(call.method, call.path, creating=True, json=call.json, headers=dict(call.headers))
        if r.status_code >= 400:
            raise self.classify(r, creating=True)
        op = Operation.model_validate(json_body(r))
        if not op.name:
            # Neither Veo API lists operations, so a create without a name cannot be reconciled.
            raise ProviderError(
                ErrorKind.PROVIDER, f"{self.vendor} accepted the create but named no operation.", status=r.status_code
            )
        return Submitted(job_id=op.name, state=JobState.QUEUED)

    def classify(self, r: httpx.Response, creating: bool = False) -> ProviderError:
        """Google's error envelope {"error": {code, message, status, details}} as a ProviderError."""
        raw = json_body(r).get("error")
        err = RpcStatus.model_validate(raw) if isinstance(raw, dict) else RpcStatus(message=str(raw or ""))
        status = r.status_code
        message = self._safe(err.message or r.text[:200] or r.reason_phrase)
        text = f"{self.vendor} answered HTTP {status} {err.status}: {message}".replace("  ", " ")
        low = message.lower()
        reasons = {d.get("reason", "") for d in err.details if isinstance(d, dict)}

        def error(kind: ErrorKind, wait: float | None = None) -> ProviderError:
            return ProviderError(kind, text, retry_after=wait, status=status)

        if status == 429 or err.status == "RESOURCE_EXHAUSTED":
            if _quota_spent(err):
                return error(ErrorKind.BILLING)
            return error(ErrorKind.RATE_LIMITED, retry_after(r) or _retry_delay(err))
        if "API_KEY_INVALID" in reasons or status == 401 or err.status == "UNAUTHENTICATED":
            return error(ErrorKind.AUTH)  # the Gemini API answers a wrong key with 400 API_KEY_INVALID
        if "BILLING_DISABLED" in reasons or "billing" in low:
            return error(ErrorKind.BILLING)
        if status == 403 or err.status == "PERMISSION_DENIED":
            return error(ErrorKind.AUTH)
        if status in (404, 410) and creating:
            # "models/veo-3.1-generate-preview is no longer available" and "... is not found": this
            # route does not serve the model (any more); the engine may take the next route.
            return error(ErrorKind.RETIRED)
        if status in (408, 499) or status >= 500:
            return error(ErrorKind.RETRYABLE, retry_after(r.headers))
        if is_moderation(low):
            return error(ErrorKind.MODERATION)
        if status == 404:
            return error(ErrorKind.PROVIDER)  # the operation is gone
        return error(ErrorKind.BAD_REQUEST)

    def operation_error(self, err: RpcStatus) -> ProviderError:
        """A finished operation's google.rpc.Status (gRPC codes, not HTTP)."""
        text = f"{self.vendor} failed the video ({err.status or err.code}): {self._safe(err.message)}"
        if is_moderation(err.message.lower()):
            return ProviderError(ErrorKind.MODERATION, text)
        if err.code == 8:  # RESOURCE_EXHAUSTED
            return ProviderError(
                ErrorKind.BILLING if _quota_spent(err) else ErrorKind.RATE_LIMITED, text, retry_after=_retry_delay(err)
            )
        if err.code in (4, 10, 13, 14):  # DEADLINE_EXCEEDED, ABORTED, INTERNAL, UNAVAILABLE
            return ProviderError(ErrorKind.RETRYABLE, text)
        if err.code == 3:  # INVALID_ARGUMENT
            return ProviderError(ErrorKind.BAD_REQUEST, text)
        return ProviderError(ErrorKind.PROVIDER, text)

    # poll -------------------------------------------------------------------------------
    def result_of(self, op: Operation) -> VideoResult:
        raise NotImplementedError

    def media_of(self, video: dict[str, Any], job_id: str, index: int) -> MediaRef | None:
        raise NotImplementedError

    def status_of(self, op: Operation) -> Status:
        if not op.done:
            return Status(JobState.RUNNING, raw_state="running")  # Veo reports no progress
        if op.error is not None and (op.error.code or op.error.message):
            return Status(JobState.FAILED, raw_state="error", error=self.operation_error(op.error))
        result = self.result_of(op)
        media = [m for i, v in enumerate(result.videos) if (m := self.media_of(v, op.name, i)) is not None]
        if media:
            return Status(JobState.SUCCEEDED, 1.0, media=media, raw_state="done")
        if result.rai_count or result.rai_reasons:
            reasons = "; ".join(self._safe(r) for r in result.rai_reasons) or "no reason given"
            return Status(
                JobState.FAILED,
                raw_state="rai_filtered",
                error=ProviderError(
                    ErrorKind.MODERATION,
                    f"{self.vendor}'s safety filters removed {result.rai_count or 'the'} video(s): {reasons}",
                ),
            )
        return Status(
            JobState.FAILED,
            raw_state="no_media",
            error=ProviderError(ErrorKind.PROVIDER, f"{self.vendor} finished the operation without a video."),
        )

    def write_inline(self, job_id: str, index: int, b64: str) -> MediaRef:
        """Inline video bytes, written under a name derived from the job (never from the response)."""
        try:
            data = base64.b64decode(b64, validate=True)
        except ValueError:
            raise ProviderError(
                ErrorKind.RETRYABLE, f"{self.vendor} sent inline video bytes that are not base64."
            ) from None
        stem = hashlib.sha256(job_id.encode()).hexdigest()[:20]
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        dest = self.staging_dir / f"{self.name}-{stem}-{index}.mp4"
        write_atomic(dest, data)
        return MediaRef(inline_path=dest)


def _inline(path: Path) -> InlineImage:
    data, mime = read_image(path)
    return InlineImage(bytesBase64Encoded=base64.b64encode(data).decode("ascii"), mimeType=mime)


def is_moderation(text: str) -> bool:
    return any(word in text for word in MODERATION_WORDS)


def _quota_spent(err: RpcStatus) -> bool:
    """RESOURCE_EXHAUSTED that waiting a minute will not cure: a daily quota, or none in this tier."""
    for d in err.details:
        for v in d.get("violations") or []:
            quota = f"{v.get('quotaId', '')} {v.get('quotaMetric', '')}".lower()
            if "perday" in quota or str(v.get("quotaValue", "")) == "0":
                return True
            if "perminute" in quota:
                return False
    return "billing" in err.message.lower() and _retry_delay(err) is None


def _retry_delay(err: RpcStatus) -> float | None:
    """google.rpc.RetryInfo's retryDelay ("37s")."""
    for d in err.details:
        delay = d.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                pass
    return None
