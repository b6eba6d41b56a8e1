"""Gemini Omni through the Interactions API: `OmniInteractions`, and its Gemini API side `GeminiOmni` (same
host and key as Veo: the `gemini` route). Vertex AI serves the same interactions (vertex.VertexOmni).

    POST /v1beta/interactions   {"model", "input": [content...], "background": true, "store": true,
                                 "response_format": {"type": "video", "aspect_ratio", "resolution",
                                                     "duration": "8s", "delivery": "uri"},
                                 "generation_config": {"video_config": {"task"}},
                                 "previous_interaction_id"}                    -> {"id", "status", ...}
    GET  /v1beta/interactions/{id}   status queued | in_progress | completed | failed | cancelled |
                                     incomplete | budget_exceeded | ...; once completed, `steps[]` holds a
                                     {"type": "model_output", "content": [{"type": "video", "mime_type",
                                     "uri" | "data"}], "error"?: google.rpc.Status}
    GET  /v1beta/files/{id}          the output's File: state PROCESSING -> ACTIVE (or FAILED)
    GET  /v1beta/files/{id}:download?alt=media   with the key; it may redirect to another host
    POST /v1beta/interactions/{id}/cancel

Content blocks are {"type": "text", "text"}, {"type": "image", "data" (base64) | "uri", "mime_type"}
and {"type": "video", "data" | "uri", "mime_type"}. promptreel sends the prompt first, then the first
and last frames in that order (image-to-video), or the reference images (reference-to-video), and names
the task in `video_config` so the model need not infer it. A take is refined (`--remix JOB`, task
`edit`) or extended (`--extend JOB`, task `extend`) by sending the earlier take's interaction id as
`previous_interaction_id`: that id is the job's provider id, journaled the moment the create returns,
so a take can be refined or extended after a restart. A local clip is extended by sending it inline.

The video comes back by `uri` (promptreel always asks for uri delivery: inline base64 stops near
4 MB, which 1080p and 4K pass); an inline `data` answer is accepted too and written to staging. A
Files URI is read until its File is ACTIVE before the download is offered to the engine, so the
File's processing time counts as polling, at the interaction's cadence.

The Interactions API has create, get, cancel and delete, and no list: a create whose answer was lost
cannot be found again (`find_created` answers None; the engine then asks the user before resending).

google-genai 3.x addresses the Gemini API's v1 by default (`GOOGLE_AI_API_DEFAULT_VERSION`), so the
interactions are served under /v1 as well; promptreel keeps v1beta, as its Veo calls and Google's curl
examples do. The Interactions endpoints answer errors as {"error": {"code": string, "message"}} (the
SDK's types/interactions/error.py), not google.rpc's numeric code: veo.RpcStatus reads both.

Errors are Google's envelope (shared with Veo, see veo.py): 429 with Retry-After or RetryInfo is
rate-limited, a daily or zero quota is billing, 5xx is retried, a model the API does not know (404 on
the create) is retired so the engine can take the next route, and safety refusals are moderation.

Sources, read 2026-12-06:
- google-genai (official Python SDK) 3.6.1 as installed from PyPI, google/genai/_gaos/: interactions
  resource (create, get, cancel, delete; no list), types/interactions/createmodelinteraction.py,
  interaction.py (statuses), videoresponseformat.py (aspect_ratio 16:9|9:16, resolution 360p|720p|
  1080p|4k, duration, delivery inline|uri), videoconfig.py (task), videocontent.py, imagecontent.py,
  modeloutputstep.py, step.py, model.py (gemini-omni-1.2-flash, gemini-omni-1.1-flash); types.py
  File / FileState (PROCESSING, ACTIVE, FAILED) and files.download (files/{id}:download).
  https://github.com/googleapis/python-genai (snapshot 2.19.0 of 2026-08-21 read as well).
- https://ai.google.dev/gemini-api/docs/video (Omni Flash is the Gemini API's video model; Veo 3.1
  preview turned off).
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/video/generate-videos-from-first-and-last-frames
  (Omni 1.2 / 1.1 take first and last frames).
- [3P] https://apidog.com/blog/how-to-use-gemini-omni-1-1-flash-api/ (uri delivery past 4 MB) and
  https://developer.civitai.com/orchestration/recipes/gemini-omni (1.2: 3-15 s, 10 s with frames;
  the image order chooses the mode). Not verified first-hand: how a safety block is reported, the
  length of an extension's output, the exact first/last-frame marking.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from .base import ErrorKind, JobState, MediaRef, ProviderError, Status, Submitted, WireCall
from .gemini_veo import API, GeminiVeo
from .httpkit import json_body, read_image, read_video
from .veo import RpcStatus, VeoProtocol, is_moderation

if TYPE_CHECKING:
    from ..journal import Job

RESOLUTIONS = {360: "360p", 720: "720p", 1080: "1080p", 2160: "4k"}  # short side -> Omni's resolution name
MAX_SECONDS = {"gemini-omni-1.2-flash": 15}  # per call; other Omni ids make at most 10 s
FRAMES_MAX_SECONDS = 10  # with a last frame, even 1.2 makes at most 10 s [3P civitai]
EXTEND_MAX_SECONDS = 10
MIN_SECONDS = 3
RUNNING = {"queued": JobState.QUEUED, "in_progress": JobState.RUNNING}
_FILE = re.compile(r"(?:^|/)files/([A-Za-z0-9_-]+)")


# --- what crosses the wire -------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    text: str | None = None
    data: str | None = None
    uri: str | None = None
    mime_type: str | None = None


class VideoFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = "video"
    aspect_ratio: str | None = None
    resolution: str | None = None
    duration: str | None = None
    delivery: str = "uri"
    gcs_uri: str | None = None  # Vertex AI only: where a uri delivery is written


class CreateInteraction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    input: list[Content]
    background: bool = True  # a video takes minutes: answer at once and be polled
    store: bool = True  # kept, so it can be polled, refined and extended later
    response_format: VideoFormat
    generation_config: dict[str, Any] | None = None
    previous_interaction_id: str | None = None


class Step(_Loose):
    type: str = ""
    content: list[dict[str, Any]] | None = None
    error: RpcStatus | None = None


class Interaction(_Loose):
    id: str = ""
    status: str = ""
    steps: list[Step] = []
    outputs: list[dict[str, Any]] | None = None  # the answer's shape before 2026-05-06 (`steps` since)
    errors: list[dict[str, Any]] = []
    error: dict[str, Any] | None = None


class File(_Loose):
    name: str = ""
    state: str = ""
    uri: str = ""
    download_uri: str = Field("", alias="downloadUri")
    error: RpcStatus | None = None


# --- the protocol ------------------------------------------------------------------------


class OmniInteractions(VeoProtocol):
    """Omni's interactions, whichever Google API serves them: the Gemini API (GeminiOmni) or Vertex AI
    (vertex.VertexOmni). Each says where its interactions live and how the video comes back; Veo's
    errors and staging are shared (VeoProtocol)."""

    def interactions_path(self) -> str:
        raise NotImplementedError

    def deliver(self, fmt: VideoFormat) -> None:
        """How the video comes back: `delivery` (and, on Vertex, `gcs_uri`)."""

    async def video_media(self, uri: str, job_id: str) -> Status:
        """The take a finished interaction names by `uri`."""
        raise NotImplementedError

    # build ------------------------------------------------------------------------------
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        model = self.route.model_id
        frames = [p for p in (request.first_frame, request.last_frame) if p is not None]
        earlier = request.remix_of or request.extend_video
        if request.remix_of and request.extend_video:
            raise UnsupportedRequest(
                "Gemini Omni refines or extends a take in one call, not both.", "Give either --remix or --extend."
            )
        if frames and (request.reference_images or earlier):
            raise UnsupportedRequest(
                "Gemini Omni takes first/last frames only for a new take, without reference images or an earlier take.",
                "Drop the frames or the other inputs.",
            )
        if request.extend_video and request.reference_images:
            raise UnsupportedRequest("Gemini Omni extends a take from its prompt alone.", "Drop the reference images.")
        content = [Content(type="text", text=request.prompt)]
        content += [_image(p) for p in (*frames, *request.reference_images)]
        previous = None
        if earlier:
            video = _local_video(earlier)
            if video is not None and request.extend_video:
                content.append(video)
            elif video is not None:
                raise UnsupportedRequest(
                    "Gemini Omni refines only its own takes (by their interaction).",
                    f"Give the job id of a take made with Gemini Omni on the {self.name} route.",
                )
            else:
                previous = _interaction_id(earlier)
        task = (
            "extend"
            if request.extend_video
            else "edit"
            if request.remix_of
            else "image_to_video"
            if frames
            else "reference_to_video"
            if request.reference_images
            else "text_to_video"
        )
        body = CreateInteraction(
            model=model,
            input=content,
            response_format=self.video_format(request, task),
            generation_config={"video_config": {"task": task}},
            previous_interaction_id=previous,
        )
        return WireCall("POST", self.interactions_path(), json=body.model_dump(exclude_none=True))

    def video_format(self, request: GenerationRequest, task: str) -> VideoFormat:
        fmt = VideoFormat()
        if request.size is not None:
            w, h = request.size.width, request.size.height
            short = min(w, h)
            if short not in RESOLUTIONS or max(w, h) * 9 != short * 16:
                raise UnsupportedRequest(
                    f"Gemini Omni cannot make {request.size}.",
                    "It makes 16:9 or 9:16 at 360p, 720p, 1080p or 4k (e.g. 1280x720, 1080x1920).",
                )
            fmt.aspect_ratio, fmt.resolution = ("16:9" if w > h else "9:16"), RESOLUTIONS[short]
        elif request.aspect in ("16:9", "9:16"):
            fmt.aspect_ratio = request.aspect
        if request.seconds is not None:
            top = MAX_SECONDS.get(self.route.model_id, 10)
            if task == "extend":
                top = EXTEND_MAX_SECONDS
            elif request.last_frame is not None:
                top = min(top, FRAMES_MAX_SECONDS)
            if not MIN_SECONDS <= request.seconds <= top:
                raise UnsupportedRequest(
                    f"Gemini Omni ({self.route.model_id}) makes {MIN_SECONDS} to {top} s here, "
                    f"not {request.seconds} s.",
                    f"Ask for {MIN_SECONDS}-{top} seconds.",
                )
            fmt.duration = f"{request.seconds}s"
        self.deliver(fmt)
        return fmt

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier Omni take, named by its interaction (our provider job id) for previous_interaction_id."""
        self.made_here(job, purpose, "Gemini Omni")
        if not job.route_model_id.startswith("gemini-omni-") or not job.provider_job_id:
            raise UnsupportedRequest(
                f"Job {job.id} was made by {job.route_model_id}, not Gemini Omni; Omni can {purpose} only its own "
                "takes.",
                "Give a take made with a gemini-omni model (see `promptreel jobs`).",
            )
        return job.provider_job_id

    # errors -----------------------------------------------------------------------------
    def classify(self, r: httpx.Response, creating: bool = False) -> ProviderError:
        err = super().classify(r, creating)
        if err.kind is ErrorKind.BAD_REQUEST and "api key not valid" in err.message.lower():
            # the Interactions envelope carries no ErrorInfo reason (API_KEY_INVALID) to go by
            return ProviderError(ErrorKind.AUTH, err.message, status=err.status)
        if err.kind is ErrorKind.RETIRED and "models/" not in err.message and self.route.model_id not in err.message:
            # A 404 that names no model: the earlier take named by previous_interaction_id is gone (or
            # was never stored). The route is fine; this request is not.
            return ProviderError(ErrorKind.BAD_REQUEST, err.message, status=err.status)
        return err

    def failure(self, ix: Interaction) -> ProviderError:
        """A failed (or otherwise ended) interaction's reason, classified."""
        found = ix.errors[0] if ix.errors else ix.error or {}
        message = self._safe(str(found.get("message") or "no reason given"))
        text = f"{self.vendor} ended the interaction {ix.status}: {message}"
        low = message.lower()
        if ix.status == "budget_exceeded" or "quota" in low or "billing" in low:
            return ProviderError(ErrorKind.BILLING, text)
        if is_moderation(low):
            return ProviderError(ErrorKind.MODERATION, text)
        return ProviderError(ErrorKind.PROVIDER, text)

    # submit / poll ---------------------------------------------------------------------------
    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        r = await self._send(call.method, call.path, creating=True, json=call.json, headers=dict(call.headers))
        if r.status_code >= 400:
            raise self.classify(r, creating=True)
        ix = Interaction.model_validate(json_body(r))
        if not ix.id:
            # The API lists no interactions, so a create without an id cannot be collected.
            raise ProviderError(
                ErrorKind.PROVIDER, f"{self.vendor} accepted the create but named no interaction.", status=r.status_code
            )
        return Submitted(job_id=ix.id, state=RUNNING.get(ix.status, JobState.QUEUED))

    async def poll(self, job_id: str) -> Status:
        r = await self._send("GET", f"{self.interactions_path()}/{job_id}")
        if r.status_code >= 400:
            raise self.classify(r)
        ix = Interaction.model_validate(json_body(r))
        if ix.status in RUNNING or ix.status not in (
            "completed",
            "failed",
            "cancelled",
            "incomplete",
            "budget_exceeded",
        ):
            # requires_action and states added later are not endings: keep polling
            return Status(RUNNING.get(ix.status, JobState.RUNNING), raw_state=ix.status)
        if ix.status == "cancelled":
            return Status(JobState.CANCELED, raw_state=ix.status, error=self.failure(ix))
        if ix.status != "completed":
            return Status(JobState.FAILED, raw_state=ix.status, error=self.failure(ix))
        return await self.completed(ix, job_id)

    async def completed(self, ix: Interaction, job_id: str) -> Status:
        outputs = [s for s in ix.steps if s.type == "model_output"] or (
            [Step(type="model_output", content=ix.outputs)] if ix.outputs else []
        )
        for step in outputs:
            if step.error is not None and (step.error.code or step.error.message):
                return Status(JobState.FAILED, raw_state="model_error", error=self.operation_error(step.error))
        videos = [c for s in outputs for c in s.content or [] if isinstance(c, dict) and c.get("type") == "video"]
        if not videos:
            said = " ".join(c.get("text", "") for s in outputs for c in s.content or [] if isinstance(c, dict))
            kind = ErrorKind.MODERATION if is_moderation(said.lower()) else ErrorKind.PROVIDER
            return Status(
                JobState.FAILED,
                raw_state="no_media",
                error=ProviderError(
                    kind,
                    f"{self.vendor} finished the interaction without a video"
                    + (f": {self._safe(said.strip()[:300])}" if said.strip() else "."),
                ),
            )
        video = videos[-1]  # the last model output is the take (earlier ones are the turns it refined)
        if video.get("data"):
            return Status(
                JobState.SUCCEEDED, 1.0, media=[self.write_inline(job_id, 0, video["data"])], raw_state="completed"
            )
        return await self.video_media(str(video.get("uri") or ""), job_id)

    async def cancel(self, job_id: str) -> None:
        r = await self._send("POST", f"{self.interactions_path()}/{job_id}/cancel")
        if r.status_code >= 400 and r.status_code != 404:
            raise self.classify(r)


class GeminiOmni(OmniInteractions, GeminiVeo):
    """Omni's interactions on the Gemini API, beside Veo under one key (GeminiVeo); the video comes back
    as a Files API file."""

    vendor: ClassVar[str] = "Gemini API"

    def interactions_path(self) -> str:
        return f"{API}/interactions"

    async def video_media(self, uri: str, job_id: str) -> Status:
        found = _FILE.search(uri)
        if found is None:
            if not uri.startswith(("https://", "http://")):
                return Status(
                    JobState.FAILED,
                    raw_state="no_media",
                    error=ProviderError(
                        ErrorKind.PROVIDER, f"{self.vendor} sent a video with neither bytes nor a URL."
                    ),
                )
            return Status(JobState.SUCCEEDED, 1.0, media=[MediaRef(url=uri)], raw_state="completed")
        return await self.file_status(found.group(1))

    async def file_status(self, file_id: str) -> Status:
        """The output's File: offered for download only once ACTIVE (the API refuses it before)."""
        r = await self._send("GET", f"{API}/files/{file_id}")
        if r.status_code >= 400:
            raise self.classify(r)
        f = File.model_validate(json_body(r))
        if f.state == "ACTIVE":
            url = f.download_uri or f"{self.base_url}{API}/files/{file_id}:download?alt=media"
            return Status(
                JobState.SUCCEEDED,
                1.0,
                media=[MediaRef(url=url, provider_id=f"files/{file_id}")],
                raw_state="completed",
            )
        if f.state == "FAILED":
            reason = self._safe(f.error.message) if f.error else "no reason given"
            return Status(
                JobState.FAILED,
                raw_state="file_failed",
                error=ProviderError(ErrorKind.PROVIDER, f"{self.vendor} could not process the video file: {reason}"),
            )
        return Status(JobState.RUNNING, 0.99, raw_state="file_processing", next_poll_s=2.0)


def _image(path: Path) -> Content:
    data, mime = read_image(path)
    return Content(type="image", data=base64.b64encode(data).decode("ascii"), mime_type=mime)


def _local_video(value: str) -> Content | None:
    """A clip on disk, sent inline; None when `value` is not a file (an interaction id)."""
    path = Path(value)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if not is_file:
        return None
    data, mime = read_video(path)
    return Content(
        type="video",
        data=base64.b64encode(data).decode("ascii"),
        mime_type="video/mov" if mime == "video/quicktime" else mime,
    )


def _interaction_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", value):
        raise UnsupportedRequest(
            f"'{value}' is neither a video file nor a Gemini Omni take.",
            "Give the job id of an earlier Omni take, or the path of a video file.",
        )
    return value
