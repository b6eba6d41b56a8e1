"""Kling's official API: /v1/videos/{text2video|image2video|omni-video|video-extend}, then GET .../{task_id}.

Wire facts (Kling API docs, transcribed in WHQ25/rawgenai docs/research/kling and, for 3.0, in the
omni-video references of docs.kkiai.com and docs.xmsmartlink.com, checked 2026-12-06): the bearer is
the console's API key (`KLING_API_KEY`, the current scheme) or, the legacy scheme, a JWT signed
locally from an access / secret key pair (HS256; iss = access key, exp = now + 1800, nbf = now - 5);
`duration` is a string; images are raw base64 with no `data:` prefix; every
answer is an envelope {code, message, request_id, data} where code 0 is success and
the other codes say more than the HTTP status does (a 429 may be arrears, not rate).
The status spelling is `succeed`. Tasks can be read back by our own `external_task_id`.

Kling 3.0: `multi_shot` with `shot_type` "customize" and `multi_prompt` [{index, prompt, duration}]
(1 to 6 shots, durations strings summing to the take's; the top-level prompt is not used) makes one
take of several shots. `kling-v3-omni` goes to omni-video: images in `image_list` (`type` first_frame /
end_frame, or none for a reference), a clip to edit in `video_list` (`refer_type` base; a URL only, as
Kling has no upload; its length is the take's and `sound` must be off).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import jwt
from pydantic import BaseModel, ConfigDict

from ..errors import MissingKey, UnsupportedRequest
from ..keys import get_key
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import HeaderAuth
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import aspect_of, http_error, json_body, raw_base64, require, scrub, send

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..catalog import Route, Size
    from ..journal import Job

TOKEN_LIFETIME = 1800
TOKEN_MARGIN = 300  # sign a new token this long before the old one expires
OUTPUT_LIFETIME = timedelta(days=30)

STATES = {
    "submitted": JobState.QUEUED,
    "processing": JobState.RUNNING,
    "succeed": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
}

# Business codes -> kind. The HTTP status alone misleads: 429 carries both billing and rate codes.
CODE_KINDS: dict[int, ErrorKind] = {
    **{c: ErrorKind.AUTH for c in (1000, 1001, 1002, 1003, 1103, 1304)},
    1004: ErrorKind.RETRYABLE,  # token expired: the next call signs a fresh one
    **{c: ErrorKind.BILLING for c in (1100, 1101, 1102)},
    **{c: ErrorKind.BAD_REQUEST for c in (1200, 1201, 1202, 1203)},
    **{c: ErrorKind.MODERATION for c in (1300, 1301)},
    **{c: ErrorKind.RATE_LIMITED for c in (1302, 1303)},
    **{c: ErrorKind.RETRYABLE for c in (5000, 5001, 5002)},
}

FAMILIES = ("text2video", "image2video", "omni-video", "video-extend")
API_KEY = "KLING_API_KEY"
LEGACY_KEYS = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")


class Create(BaseModel):
    """One body model for the three create endpoints; unset fields are not sent."""

    model_name: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    duration: str | None = None  # "5", "10": a string on the wire
    mode: str | None = None  # std = 720p, pro = 1080p
    aspect_ratio: str | None = None
    sound: str | None = None  # "on" | "off"
    image: str | None = None  # raw base64, no data: prefix
    image_tail: str | None = None
    video_id: str | None = None
    image_list: list[dict[str, str]] | None = None  # omni-video: {image_url, type?}
    video_list: list[dict[str, str]] | None = None  # omni-video: {video_url, refer_type, keep_original_sound}
    multi_shot: bool | None = None
    shot_type: str | None = None
    multi_prompt: list[dict[str, Any]] | None = None
    external_task_id: str | None = None


class Video(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    url: str
    duration: str | None = None


class TaskResult(BaseModel):
    videos: list[Video] = []


class TaskInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    external_task_id: str | None = None


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")
    task_id: str
    task_status: str
    task_status_msg: str | None = None
    task_info: TaskInfo | None = None
    task_result: TaskResult | None = None


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: int
    message: str = ""
    request_id: str | None = None
    data: Any = None


class KlingAuth(HeaderAuth):
    """Kling's bearer: the API key, else a JWT signed from the legacy access / secret key pair, signed
    again shortly before it expires (or when Kling says it has)."""

    def __init__(self, credentials: dict[str, str], hosts: Iterable[str]):
        super().__init__(hosts)
        self.credentials = credentials
        self.signed: str | None = None
        self.signed_exp = 0.0

    def token(self) -> str:
        if self.credentials.get(API_KEY):
            return self.credentials[API_KEY]
        now = time.time()
        if self.signed is None or now > self.signed_exp - TOKEN_MARGIN:
            exp = int(now) + TOKEN_LIFETIME
            payload = {"iss": self.credentials["KLING_ACCESS_KEY"], "exp": exp, "nbf": int(now) - 5}
            self.signed = jwt.encode(
                payload, self.credentials["KLING_SECRET_KEY"], algorithm="HS256", headers={"typ": "JWT"}
            )
            self.signed_exp = exp
        return self.signed

    def expire(self) -> None:
        self.signed = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}


def split_job(job_id: str) -> tuple[str, str]:
    """Our job id is '<family>/<task_id>': the family picks the GET path."""
    family, _, task_id = job_id.partition("/")
    if family not in FAMILIES or not task_id:
        raise ValueError(f"not a Kling job id: {job_id!r}")
    return family, task_id


ROUTE = RouteDescriptor(
    name="kling",
    protocol="promptreel.core.providers.kling:Kling",
    keys={
        "KLING_API_KEY": "Kling (API key)",
        "KLING_ACCESS_KEY": "Kling (access key, legacy)",
        "KLING_SECRET_KEY": "Kling (secret key)",
    },
    needs=(),  # either of two schemes: check_ready says which is missing
    base_url="https://api-singapore.klingai.com",
    poll_seconds=5.0,
    fake="promptreel.core.sandbox.kling:FakeKling",
)


class Kling(Protocol):
    descriptor = ROUTE

    def __init__(
        self, client: httpx.AsyncClient, route: Route, credentials: dict[str, str], base_url: str | None = None
    ):
        super().__init__(client, route, credentials or _stored_credentials(), base_url)

    @classmethod
    def check_ready(cls) -> None:
        if not _stored_credentials():
            raise MissingKey(
                f"The kling route needs {API_KEY} (or the legacy {' and '.join(LEGACY_KEYS)}), which is not set.",
                f"Create an API key in Kling's developer console and set {API_KEY}, or run "
                f"`promptreel keys set {API_KEY}`.",
            )

    def route_auth(self) -> KlingAuth:
        return KlingAuth(self.credentials, self.hosts())

    @property
    def secrets(self) -> dict[str, str]:
        """Everything to blank from messages: the keys and the signed token (a bearer credential too)."""
        auth = self.auth
        assert isinstance(auth, KlingAuth)  # route_auth's
        return {**self.credentials, "token": auth.signed or ""}

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        body = Create(prompt=request.prompt, negative_prompt=request.negative_prompt, external_task_id=client_ref)
        if request.extend_video:  # by now a Kling video id: the engine resolves an earlier job to its id
            if Path(request.extend_video).exists():
                raise UnsupportedRequest(
                    "Kling extends only videos it made itself, not a file.",
                    "Give the id of an earlier Kling take (see `promptreel jobs`).",
                )
            body.video_id = request.extend_video
            return WireCall("POST", "/v1/videos/video-extend", json=body.model_dump(exclude_none=True))
        size = require(request.size, "size", "Kling")
        body.model_name = self.route.model_id
        body.duration = str(require(request.seconds, "seconds", "Kling"))
        body.mode = "pro" if min(size.width, size.height) >= 1080 else "std"
        if request.audio is not None and not self.route.model_id.endswith("turbo"):  # turbo: audio always on
            body.sound = "on" if request.audio else "off"
        if request.shots:
            body.prompt, body.multi_shot, body.shot_type = None, True, "customize"
            body.multi_prompt = [
                {"index": i, "prompt": shot.prompt, "duration": str(shot.seconds)}
                for i, shot in enumerate(request.shots, 1)
            ]
        if request.last_frame and not request.first_frame:
            raise UnsupportedRequest(
                "Kling takes a last frame only together with a first frame.", "Add a first-frame image."
            )
        if self.route.model_id.endswith("omni"):
            family = self._omni(request, body, size)
        elif request.first_frame:
            body.image = raw_base64(request.first_frame, "first frame")
            if request.last_frame:
                body.image_tail = raw_base64(request.last_frame, "last frame")
            family = "image2video"  # the image sets the framing: no aspect_ratio on this endpoint
        else:
            body.aspect_ratio = aspect_of(size)
            family = "text2video"
        return WireCall("POST", f"/v1/videos/{family}", json=body.model_dump(exclude_none=True))

    def _omni(self, request: GenerationRequest, body: Create, size: Size) -> str:
        """omni-video's inputs: frames and references in image_list, the clip to edit in video_list."""
        images = [
            {"image_url": raw_base64(p, what), "type": kind}
            for p, what, kind in (
                (request.first_frame, "first frame", "first_frame"),
                (request.last_frame, "last frame", "end_frame"),
            )
            if p
        ]
        images += [{"image_url": raw_base64(p, "reference image")} for p in request.reference_images]
        body.image_list = images or None
        if request.remix_of:  # by now a URL: the engine resolves an earlier Kling job to its video's URL
            if not _is_url(request.remix_of):
                raise UnsupportedRequest(
                    "Kling edits a clip only from a URL (its API has no upload), not a file.",
                    "Give an earlier Kling take's job id, or the clip's https:// URL.",
                )
            if request.first_frame or request.last_frame:
                raise UnsupportedRequest("Kling edits a clip without first or last frames.", "Drop the frames.")
            if request.audio:
                raise UnsupportedRequest(
                    "Kling makes no new sound when it edits a clip; the clip's own is kept.", "Turn audio off."
                )
            body.video_list = [{"video_url": request.remix_of, "refer_type": "base", "keep_original_sound": "yes"}]
            body.duration, body.sound = None, None  # the edit is as long as the clip
        elif not request.first_frame:
            body.aspect_ratio = aspect_of(size)
        return "omni-video"

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take to extend (the Kling video id its task answered with) or, on omni, to edit (its URL)."""
        if purpose == "remix" and self.route.model_id.endswith("omni"):
            self.made_here(job, "edit", "Kling")
            urls = [m.url for m in job.media_refs if m.url and _is_url(m.url)]
            if not urls:
                raise UnsupportedRequest(
                    f"Job {job.id} has no Kling video URL in the journal.", "Give the clip's https:// URL instead."
                )
            return urls[0]
        if purpose != "extend":
            return super().earlier_output(job, purpose)
        self.made_here(job, purpose, "Kling")
        ids = [m.provider_id for m in job.media_refs if m.provider_id]
        if not ids:
            raise UnsupportedRequest(
                f"Job {job.id} has no Kling video id in the journal (made before promptreel kept it).",
                "Give its Kling video id (from Kling's console) as the video to extend.",
            )
        return ids[0]

    def _error(self, response: httpx.Response, envelope: Envelope | None) -> ProviderError:
        kind = None
        detail = response.text[:200]
        if envelope is not None:
            detail = f"code {envelope.code}: {envelope.message}"
            kind = CODE_KINDS.get(envelope.code)
        error = http_error(response, "Kling", detail, self.secrets, kind)
        if envelope is not None and envelope.code == 1004:
            assert isinstance(self.auth, KlingAuth)  # route_auth's
            self.auth.expire()  # the next call signs a fresh one
        if error.kind is ErrorKind.RATE_LIMITED and error.retry_after is None:
            error.retry_after = 5.0  # Kling sends no Retry-After; its own clients back off a few seconds
        return error

    async def _call(self, method: str, path: str, json: Any = None, creating: bool = False) -> Envelope:
        r = await send(self.client, method, path, vendor="Kling", creating=creating, json=json)
        body = json_body(r)
        try:
            envelope = Envelope.model_validate(body) if body else None
        except ValueError:
            envelope = None
        if r.status_code >= 400 or envelope is None or envelope.code != 0:
            raise self._error(r, envelope)
        return envelope

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        envelope = await self._call(call.method, call.path, call.json, creating=True)
        task = Task.model_validate(envelope.data)
        family = call.path.rsplit("/", 1)[-1]
        return Submitted(job_id=f"{family}/{task.task_id}", state=STATES.get(task.task_status, JobState.QUEUED))

    async def poll(self, job_id: str) -> Status:
        family, task_id = split_job(job_id)
        envelope = await self._call("GET", f"/v1/videos/{family}/{task_id}")
        task = Task.model_validate(envelope.data)
        state = STATES.get(task.task_status, JobState.RUNNING)
        status = Status(state=state, raw_state=task.task_status)
        if state is JobState.SUCCEEDED:
            videos = task.task_result.videos if task.task_result else []
            if not videos:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "Kling reported success but returned no video.")
            else:
                expires = datetime.now(timezone.utc) + OUTPUT_LIFETIME
                # Kling's video id is kept: a later extend names the video by it, not by the task.
                status.media = [MediaRef(url=v.url, expires_at=expires, provider_id=v.id) for v in videos]
        elif state is JobState.FAILED:
            reason = scrub(task.task_status_msg or "no reason given", self.secrets)
            kind = ErrorKind.MODERATION if _looks_like_moderation(reason) else ErrorKind.PROVIDER
            status.error = ProviderError(kind, f"Kling failed the task: {reason}")
        return status

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """Kling reads a task back by our external_task_id, so a lost create is found exactly."""
        family = call.path.rsplit("/", 1)[-1]
        try:
            envelope = await self._call("GET", f"/v1/videos/{family}/{client_ref}")
        except ProviderError as e:
            if e.status == 404 or e.kind is ErrorKind.BAD_REQUEST:
                return None  # no task with that external id: the create never landed
            raise
        task = Task.model_validate(envelope.data)
        if task.task_info and task.task_info.external_task_id not in (None, client_ref):
            return None
        return f"{family}/{task.task_id}"


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


def _stored_credentials() -> dict[str, str]:
    """The API key when set (the current scheme), else the legacy pair when both are set, else nothing."""
    if key := get_key(API_KEY):
        return {API_KEY: key}
    pair = {name: get_key(name) for name in LEGACY_KEYS}
    return pair if all(pair.values()) else {}  # type: ignore[return-value]


def _looks_like_moderation(reason: str) -> bool:
    lowered = reason.lower()
    return any(w in lowered for w in ("risk", "sensitive", "safety", "policy", "inappropriate"))
