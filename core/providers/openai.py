"""OpenAI Videos API (Sora 2, Sora 2 Pro): openai-python's `videos` resource and the OpenAPI spec.

    POST /videos              JSON {prompt, model, seconds, size}; multipart when a first frame is uploaded
                              as `input_reference` (it must be exactly `size`)
    POST /videos/extensions   JSON {prompt, seconds, video: {id}} (multipart when a video file is uploaded)
    POST /videos/{id}/remix   JSON {prompt}: the finished video `id` made again with a new prompt (same
                              model, size and length; the new Video names it in `remixed_from_video_id`)
    GET  /videos/{id}         Video; the next poll delay is in the `openai-poll-after-ms` header
    GET  /videos?limit&order&after   list, newest first with order=desc
    GET  /videos/{id}/content the MP4 (expires 24 h after completion)

`seconds` is a string ("8"); an integer is refused with 400. A job that fails comes back as
HTTP 200 with status "failed" and an `error` object: a failed job, not an HTTP error.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..catalog import Size
from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import fitted_image, json_body, read_video, require, retry_after, scrub, send

if TYPE_CHECKING:
    import httpx

    from ..journal import Job

CREATE_SECONDS = ("4", "8", "12")
EXTEND_SECONDS = ("4", "8", "12", "16", "20")  # the extensions endpoint's doc text; its schema says 4/8/12
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
PRO_SIZES = ("1920x1080", "1080x1920")  # in OpenAI's guide for sora-2-pro, not in the API enum
DEFAULT_SIZE = "720x1280"  # the API's default when `size` is omitted

STATES = {
    "queued": JobState.QUEUED,
    "in_progress": JobState.RUNNING,
    "completed": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
}
BILLING_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
MODERATION_WORDS = ("moderation", "safety", "content_policy", "policy_violation")
VIDEO_ID = re.compile(r"[A-Za-z0-9_-]+")  # what OpenAI's video ids look like (video_68d7...): safe in a path
LIST_PAGES = 5  # pages of 100 searched when reconciling a lost create
RECONCILE_WINDOW = (timedelta(minutes=2), timedelta(minutes=15))  # before / after our send time (clock skew)


# --- what crosses the wire -------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ImageRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_url: str | None = None
    file_id: str | None = None


class VideoRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str


class CreateVideo(BaseModel):
    """CreateVideoJsonBody / CreateVideoMultipartBody (the file part is added separately)."""

    model_config = ConfigDict(extra="forbid")
    prompt: str
    model: str
    seconds: str
    size: str | None = None
    input_reference: ImageRef | None = None


class ExtendVideo(BaseModel):
    """CreateVideoExtendJsonBody: extends a finished video; `seconds` is the new segment's length."""

    model_config = ConfigDict(extra="forbid")
    prompt: str
    seconds: str
    video: VideoRef


class RemixVideo(BaseModel):
    """VideoRemixParams: only the new prompt; the source is in the path."""

    model_config = ConfigDict(extra="forbid")
    prompt: str


class VideoError(_Loose):
    code: str = ""
    message: str = ""


class Video(_Loose):
    id: str
    model: str = ""
    status: str = ""  # open: an unknown status is tolerated
    progress: int | None = None
    created_at: int = 0
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    size: str | None = None
    seconds: str | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None


class VideoList(_Loose):
    data: list[Video] = []
    has_more: bool = False
    last_id: str | None = None


class ApiError(_Loose):
    message: str = ""
    type: str | None = None
    param: str | None = None
    code: str | None = None


# --- the protocol ----------------------------------------------------------------------

# poll_seconds: the SDK's default when the header is absent.
ROUTE = RouteDescriptor(
    name="openai",
    protocol="promptreel.core.providers.openai:OpenAIVideos",
    keys={"OPENAI_API_KEY": "OpenAI (Sora)"},
    base_url="https://api.openai.com/v1",
    poll_seconds=1.0,
    fake="promptreel.core.sandbox.openai:FakeOpenAIVideos",
)


class OpenAIVideos(Protocol):
    descriptor = ROUTE
    version_segment: ClassVar[str] = "/v1"

    # build ------------------------------------------------------------------------------
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        if request.remix_of:
            return self._build_remix(request)
        if request.extend_video:
            return self._build_extend(request)
        seconds = _seconds(request, CREATE_SECONDS)
        size = self._size(request)
        body = CreateVideo(prompt=request.prompt, model=self.route.model_id, seconds=seconds, size=size)
        fields = body.model_dump(exclude_none=True)
        if request.first_frame is None:
            return WireCall("POST", "/videos", json=fields)
        # The reference image must be exactly the output size, or the API refuses it with 400.
        data, mime = fitted_image(request.first_frame, Size.parse(size or DEFAULT_SIZE))
        ext = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}[mime]
        return WireCall("POST", "/videos", data=fields, files={"input_reference": (f"first_frame{ext}", data, mime)})

    def _build_extend(self, request: GenerationRequest) -> WireCall:
        seconds = _seconds(request, EXTEND_SECONDS)
        source = request.extend_video or ""
        if Path(source).is_file():  # a local video: uploaded as the `video` part
            data, mime = read_video(Path(source))
            return WireCall(
                "POST",
                "/videos/extensions",
                data={"prompt": request.prompt, "seconds": seconds},
                files={"video": (Path(source).name, data, mime)},
            )
        body = ExtendVideo(prompt=request.prompt, seconds=seconds, video=VideoRef(id=source))
        return WireCall("POST", "/videos/extensions", json=body.model_dump())

    def _build_remix(self, request: GenerationRequest) -> WireCall:
        source = request.remix_of or ""
        if request.extend_video or request.first_frame:
            raise UnsupportedRequest(
                "A remix takes only a new prompt: it keeps the source's frames and length.",
                "Drop the video to extend and the first frame, or make a new take instead.",
            )
        if not VIDEO_ID.fullmatch(source):  # by now an OpenAI video id: the engine resolves an earlier job to it
            raise UnsupportedRequest(
                f"OpenAI remixes only videos it made; {source!r} is not one.",
                "Give the job id of an earlier take made on the openai route (see `promptreel jobs`).",
            )
        return WireCall("POST", f"/videos/{source}/remix", json=RemixVideo(prompt=request.prompt).model_dump())

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take to extend or remix: OpenAI names it by its video id, our provider job id."""
        self.made_here(job, purpose, "OpenAI")
        return require(job.provider_job_id, "video id", "OpenAI")

    def _size(self, request: GenerationRequest) -> str | None:
        if request.size is None:
            return None
        allowed = SIZES + (PRO_SIZES if self.route.model_id.startswith("sora-2-pro") else ())
        size = str(request.size)
        if size not in allowed:
            raise UnsupportedRequest(
                f"OpenAI's {self.route.model_id} cannot make {size}.", f"Allowed sizes: {', '.join(allowed)}."
            )
        return size

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials.get("OPENAI_API_KEY", ""), self.hosts())

    # submit -----------------------------------------------------------------------------
    async def _send(self, method: str, path: str, creating: bool = False, **kw: Any) -> httpx.Response:
        return await send(self.client, method, path, vendor="OpenAI", creating=creating, **kw)

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        r = await self._send(
            call.method,
            call.path,
            creating=True,
            json=call.json,
            data=call.data,
            files=call.files,
            headers=dict(call.headers),
        )
        if r.status_code >= 400:
            raise self.classify(r, creating=True)
        try:
            video = Video.model_validate(r.json())
        except ValueError:  # a garbled answer to a create: the job may exist, look before anyone resends
            found = await self.find_created(call, "", datetime.now(timezone.utc))
            if found is None:
                raise ProviderError(
                    ErrorKind.RETRYABLE, "OpenAI answered the create with no video id.", status=r.status_code
                ) from None
            return Submitted(job_id=found)
        return Submitted(job_id=video.id, state=STATES.get(video.status, JobState.QUEUED))

    def classify(self, r: httpx.Response, creating: bool = False) -> ProviderError:
        """An HTTP error as a ProviderError kind; the message carries OpenAI's own words, never a key."""
        raw = json_body(r).get("error")
        err = ApiError.model_validate(raw) if isinstance(raw, dict) else ApiError(message=str(raw or ""))
        status = r.status_code
        detail = self._safe(err.message or r.text[:200] or r.reason_phrase)
        text = f"OpenAI answered HTTP {status}: {detail}"
        code = (err.code or err.type or "").lower()

        def error(kind: ErrorKind, wait: float | None = None) -> ProviderError:
            return ProviderError(kind, text, retry_after=wait, status=status)

        if status == 429:
            if code in BILLING_CODES or (err.type or "") in BILLING_CODES:
                return error(ErrorKind.BILLING)
            return error(ErrorKind.RATE_LIMITED, retry_after(r))
        if status == 401:  # OpenAI's message quotes part of the key: say it in our words
            return ProviderError(
                ErrorKind.AUTH,
                f"OpenAI refused the API key (HTTP 401 {err.code or 'unauthorized'}). Check OPENAI_API_KEY.",
                status=status,
            )
        if status == 403:
            return error(ErrorKind.BILLING if "billing" in detail.lower() else ErrorKind.AUTH)
        if status in (404, 410) and creating and ("model" in code or "model" in detail.lower()):
            return error(ErrorKind.RETIRED)
        if status in (408, 409) or status >= 500:
            return error(ErrorKind.RETRYABLE, retry_after(r))
        if _moderation(code, detail):
            return error(ErrorKind.MODERATION)
        if status == 404:
            return error(ErrorKind.PROVIDER)  # the video is gone (deleted, or past its retention)
        return error(ErrorKind.BAD_REQUEST)

    def _safe(self, text: str) -> str:
        return scrub(text, self.credentials.values())

    # poll -------------------------------------------------------------------------------
    async def poll(self, job_id: str) -> Status:
        r = await self._send("GET", f"/videos/{job_id}")
        if r.status_code >= 400:
            raise self.classify(r)
        try:
            video = Video.model_validate(r.json())
        except ValueError:
            raise ProviderError(
                ErrorKind.RETRYABLE, "OpenAI answered a status read with no video.", status=r.status_code
            ) from None
        status = self.status_of(video)
        hint = r.headers.get("openai-poll-after-ms")
        if hint and not status.state.terminal:
            with contextlib.suppress(ValueError):
                status.next_poll_s = int(hint) / 1000
        return status

    def status_of(self, video: Video) -> Status:
        state = STATES.get(video.status, JobState.RUNNING)  # unknown: still working, keep polling
        progress = None if video.progress is None else max(0.0, min(1.0, video.progress / 100))
        if state is JobState.FAILED:
            return Status(state, progress, raw_state=video.status, error=self.failure(video.error))
        if state is JobState.SUCCEEDED:
            expires = datetime.fromtimestamp(video.expires_at, timezone.utc) if video.expires_at else None
            media = MediaRef(url=f"{self.base_url}/videos/{video.id}/content", expires_at=expires)
            return Status(state, 1.0, media=[media], raw_state=video.status)
        return Status(state, progress, raw_state=video.status)

    def failure(self, error: VideoError | None) -> ProviderError:
        if error is None:
            return ProviderError(ErrorKind.PROVIDER, "OpenAI failed the video without saying why.")
        code = error.code.lower()
        text = f"OpenAI failed the video ({error.code or 'no code'}): {self._safe(error.message)}"
        if _moderation(code, error.message):
            return ProviderError(ErrorKind.MODERATION, text)
        if code in ("internal_error", "server_error"):
            return ProviderError(ErrorKind.RETRYABLE, text)
        return ProviderError(ErrorKind.PROVIDER, text)

    # download ---------------------------------------------------------------------------
    def media_request(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        url, headers = super().media_request(media)
        return url, {**headers, "Accept": "application/binary"}  # as the SDK's download_content sends

    # reconcile --------------------------------------------------------------------------
    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """The video a lost create made: same prompt, model, seconds and size, created near `sent_at`.

        The API takes no client reference, so two identical creates sent together cannot be told
        apart: then this answers None rather than guess.
        """
        sent = dict(call.json or call.data or {})
        extension = call.path == "/videos/extensions"
        remixed = call.path.removeprefix("/videos/").removesuffix("/remix") if call.path.endswith("/remix") else None
        lo = (sent_at - RECONCILE_WINDOW[0]).timestamp()
        hi = (sent_at + RECONCILE_WINDOW[1]).timestamp()
        matches: list[str] = []
        after = None
        for _ in range(LIST_PAGES):
            params: dict[str, Any] = {"limit": 100, "order": "desc"}
            if after:
                params["after"] = after
            r = await self._send("GET", "/videos", params=params)
            if r.status_code >= 400:
                raise self.classify(r)
            page = VideoList.model_validate(json_body(r))
            for v in page.data:
                if remixed is not None:
                    same = v.remixed_from_video_id == remixed
                else:
                    same = extension or _same_request(v, sent)
                if lo <= v.created_at <= hi and v.prompt == sent.get("prompt") and same:
                    matches.append(v.id)
            if not page.has_more or not page.data or page.data[-1].created_at < lo:
                break
            after = page.last_id or page.data[-1].id
        return matches[0] if len(matches) == 1 else None


def _same_request(v: Video, sent: dict[str, Any]) -> bool:
    model = sent.get("model", "")
    # The API may report the dated snapshot it resolved the alias to (sora-2 -> sora-2-2025-12-08).
    same_model = v.model == model or v.model.startswith(f"{model}-20")
    return same_model and v.seconds == sent.get("seconds") and (v.size == (sent.get("size") or DEFAULT_SIZE))


def _moderation(code: str, message: str) -> bool:
    text = f"{code} {message}".lower()
    return any(word in text for word in MODERATION_WORDS)


def _seconds(request: GenerationRequest, allowed: tuple[str, ...]) -> str:
    if request.seconds is None or str(request.seconds) not in allowed:
        raise UnsupportedRequest(
            f"OpenAI's Videos API cannot make {request.seconds} s here.", f"Allowed lengths: {', '.join(allowed)} s."
        )
    return str(request.seconds)  # a string on the wire: an integer is refused with 400
