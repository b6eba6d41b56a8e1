"""The `gemini` route's fake: the Gemini API serving Gemini Omni through the Interactions API, beside Veo
(FakeGeminiVeo) on one server, as the real API serves both under one key and host. The interactions
themselves (OmniInteractionsFake) are shared with the vertex route's fake (vertex.FakeVertex).

- Auth as FakeGeminiVeo (`x-goog-api-key`; none is 403, a wrong one 400 API_KEY_INVALID).
- Errors on the interactions endpoints come in the Interactions API's envelope {"error": {"code":
  string, "message"}} (google-genai's types/interactions/error.py); the Files endpoints keep google.rpc's.
- POST /v1beta/interactions is validated as google-genai 3.6.1's types describe it (see
  providers/gemini_omni.py): unknown fields are refused by name, the model must be an Omni id (a
  model the API does not know is 404 NOT_FOUND; an Omni id sent to predictLongRunning is 400 "only
  supports Interactions API"), images and videos must decode, the response_format must be one video
  format with an allowed aspect, resolution, duration and delivery, and the task must fit the inputs.
  `previous_interaction_id` must name a completed interaction of this fake (else 404 "Interaction
  ... not found"), and an extension chain stops at 30 s. Stricter than the service where it costs
  nothing: a video interaction must run in the background and be stored, and inline delivery of
  1080p or 4k (past the ~4 MB inline limit) is refused.
- GET /v1beta/interactions/{id}: in_progress for a few reads (and the fake's latency), then
  completed with steps [user_input, model_output{content: [video {uri}]}] and usage; inline
  delivery puts the MP4 in `data` instead.
- The same paths under /v1 too: google-genai 3.x defaults to the Gemini API's v1.
- GET /v1beta/files/{id}: the output File, PROCESSING on its first read, then ACTIVE; its download
  (FakeGeminiVeo's :download, which redirects to another host) is refused until ACTIVE.
- POST /v1beta/interactions/{id}/cancel.

Media: 24 fps with audio, at the aspect and resolution asked (720p 16:9 when not asked), as long as
the duration asked (8 s when not asked; a refinement keeps its source's length). The length an
extension returns is not documented: the fake returns the extension alone.

Per-interaction faults (`X-Fake-Fault` on the create, or `fake.fault("outcome", name)`): failed
(status failed with errors[]), moderation (completed; model_output.error naming the safety policy),
blocked (completed with only a text refusal), no_media, budget (status budget_exceeded), file_failed
(the File ends FAILED), slow_file (the File stays PROCESSING for 3 reads), inline (video bytes in the
answer whatever was asked), truncate / corrupt / expired (the download), drop (the create is made,
its answer never comes), slow (answered after 3 s).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .fake import size_for
from .gemini import FakeGeminiVeo
from .loopback import Call, Handler, Reply
from .media import Spec, image_size, video_seconds
from .veo import FakeVeo, bad, google_error

OMNI = {"gemini-omni-1.2-flash": 15, "gemini-omni-1.1-flash": 10, "gemini-omni-flash-preview": 10}  # id -> max s
MAX_IMAGES = {"gemini-omni-1.2-flash": 6}  # others: 5
TOP = {
    "model",
    "input",
    "background",
    "store",
    "previous_interaction_id",
    "response_format",
    "generation_config",
    "system_instruction",
    "labels",
    "safety_settings",
    "service_tier",
    "webhook_config",
    "stream",
}
FORMAT = {"type", "aspect_ratio", "resolution", "duration", "delivery", "gcs_uri"}
SHORT = {"360p": 360, "720p": 720, "1080p": 1080, "4k": 2160}
TASKS = {"text_to_video", "image_to_video", "reference_to_video", "edit", "extend", "upscale"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
VIDEO_TYPES = {"video/mp4", "video/mpeg", "video/mpg", "video/mov", "video/webm", "video/3gpp"}
TOKENS_PER_SECOND = 5792  # Google's published rate for Omni video output at 720p
SAFETY = (
    "The video could not be generated because the request or output violates Google's Generative AI "
    "Prohibited Use Policy (safety filters). You will not be charged for blocked videos."
)


@dataclass
class FakeInteraction:
    """An interaction as the fake holds it (core/providers/gemini_omni.py's `Interaction` is the answer as read)."""

    id: str
    model: str
    body: dict[str, Any]
    spec: Spec
    fault: str = ""
    reads: int = 0
    total: int = 0  # seconds of video in this chain (an extension adds to its source's)
    status: str = "in_progress"
    result: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


class OmniInteractionsFake(FakeVeo):
    """Omni's interactions, for a fake Google API (the Gemini API's FakeGemini, Vertex AI's FakeVertex) that
    supplies `_auth`, and says where a `uri` video goes (`deliver_uri`) and which input URIs it can read."""

    omni_models: dict[str, int] = OMNI

    def serve_interactions(self, parent: str) -> None:
        """The interactions endpoints under `parent` (a path regex)."""
        self.interactions: dict[str, FakeInteraction] = {}
        self.interactions_route("POST", parent + r"/interactions", self._create_interaction, "create")
        self.interactions_route("GET", parent + r"/interactions/(?P<id>[^/:]+)", self._get_interaction, "poll")
        self.interactions_route("POST", parent + r"/interactions/(?P<id>[^/:]+)/cancel", self._cancel)

    # what differs by API -----------------------------------------------------------------------
    def check_parent(self, call: Call) -> Reply | None:
        """Auth, and (Vertex) the project in the path."""
        return self._auth(call)

    def check_format(self, fmt: dict[str, Any]) -> Reply | None:
        return None

    def check_uri(self, uri: str, where: str) -> Reply | None:
        return bad(f"{where}.uri names nothing this API can read.")

    def deliver_uri(self, ix: FakeInteraction) -> dict[str, Any]:
        raise NotImplementedError

    def interactions_route(self, method: str, pattern: str, handler: Handler, op: str | None = None) -> None:
        """An Interactions endpoint: its errors, faults included, in the Interactions API's envelope."""

        def answer(call: Call) -> Reply:
            reply = (self.op_fault(self.take(op, call)) if op else None) or handler(call)
            return _interactions_error(reply)

        self.route(method, pattern)(answer)

    def reset(self) -> None:
        super().reset()
        self.interactions.clear()

    def unknown_model(self, model: str, where: str) -> Reply:
        if model in self.omni_models:
            return bad(f"{where}: This model only supports Interactions API.")
        return super().unknown_model(model, where)

    # create ---------------------------------------------------------------------------------
    def _create_interaction(self, call: Call) -> Reply:
        if (denied := self.check_parent(call)) is not None:
            return denied
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return bad("Invalid JSON payload received.")
        checked = self.validate_interaction(body)
        if isinstance(checked, Reply):
            return checked
        model, spec, total = checked
        ix = FakeInteraction(
            f"v1_{uuid.uuid4().hex[:24]}", model, body, spec, fault=self.take("outcome", call) or "", total=total
        )
        self.interactions[ix.id] = ix
        self.count_create()
        if ix.fault == "drop":
            return Reply(drop=True)
        return Reply(200, self.envelope(ix), delay=3.0 if ix.fault == "slow" else 0.0)

    def validate_interaction(self, body: Any) -> Reply | tuple[str, Spec, int]:  # noqa: C901 - the Interactions API's validation, rule for rule; being extended on another branch
        if not isinstance(body, dict):
            return bad("Invalid JSON payload received.")
        if unknown := sorted(set(body) - TOP):
            return bad(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
        model = str(body.get("model") or "").removeprefix("models/")
        if model not in self.omni_models:
            if model.startswith("veo-"):
                return bad(f"models/{model} does not support the Interactions API. Use predictLongRunning.")
            return google_error(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for interactions.",
            )
        if body.get("stream"):
            return bad("Video generation cannot be streamed; create it with background: true and poll it.")
        if body.get("background") is not True:
            return bad("Video generation takes minutes: set background to true and poll the interaction.")
        if body.get("store") is False:
            return bad("A background interaction must be stored (store: true).")
        content = body.get("input")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list) or not content:
            return bad("input must be a string or a list of content blocks.")
        images, videos, texts = 0, 0, 0
        for i, block in enumerate(content):
            if (err := self.check_content(block, f"input[{i}]")) is not None:
                return err
            images += block["type"] == "image"
            videos += block["type"] == "video"
            texts += block["type"] == "text"
        if not texts:
            return bad("A text prompt is required.")
        if images > MAX_IMAGES.get(model, 5):
            return bad(f"{model} takes at most {MAX_IMAGES.get(model, 5)} images.")
        previous = None
        if "previous_interaction_id" in body:
            previous = self.interactions.get(str(body["previous_interaction_id"]))
            if previous is None:
                return google_error(404, "NOT_FOUND", f"Interaction {body['previous_interaction_id']} not found.")
            if previous.status != "completed" or previous.fault:
                return google_error(400, "FAILED_PRECONDITION", "The previous interaction has no video to build on.")
        task = (
            ((body.get("generation_config") or {}).get("video_config") or {}).get("task")
            if isinstance(body.get("generation_config"), dict)
            else None
        )
        if (err := self.check_config(body.get("generation_config"))) is not None:
            return err
        fmt = body.get("response_format")
        fmts = fmt if isinstance(fmt, list) else [fmt]
        video_fmts = [f for f in fmts if isinstance(f, dict) and f.get("type") == "video"]
        if len(video_fmts) != 1 or len(fmts) != 1:
            return bad("response_format must be one video format ({type: video, ...}) for this model.")
        fmt = video_fmts[0]
        if unknown := sorted(set(fmt) - FORMAT):
            return bad(f"Unknown name \"{unknown[0]}\" at 'response_format': Cannot find field.")
        if (err := self.check_format(fmt)) is not None:
            return err
        if fmt.get("aspect_ratio", "16:9") not in ("16:9", "9:16"):
            return bad("aspect_ratio must be 16:9 or 9:16.")
        if fmt.get("resolution", "720p") not in SHORT:
            return bad("resolution must be 360p, 720p, 1080p or 4k.")
        if fmt.get("delivery", "inline") not in ("inline", "uri"):
            return bad("delivery must be inline or uri.")
        if fmt.get("delivery", "inline") == "inline" and fmt.get("resolution") in ("1080p", "4k"):
            return bad("1080p and 4k videos exceed the inline response limit; set delivery to uri.")
        extending = task == "extend"
        default = previous.spec.frame_count // 24 if previous is not None and task == "edit" else 8
        seconds = default
        if "duration" in fmt:
            m = re.fullmatch(r"(\d+)s", str(fmt["duration"]))
            if not m:
                return bad('duration must be whole seconds, like "8s".')
            seconds = int(m.group(1))
        top = 10 if extending or (task == "image_to_video" and images == 2) else self.omni_models[model]
        if not 3 <= seconds <= top:
            return bad(f"duration must be from 3s to {top}s for this request.")
        if task in ("extend", "edit") and previous is None and videos == 0:
            return bad(f"Task {task} needs a video: previous_interaction_id or a video in the input.")
        if task == "image_to_video" and not 1 <= images <= 2:
            return bad("image_to_video takes a first frame, and optionally a last frame.")
        if task == "reference_to_video" and not images:
            return bad("reference_to_video needs at least one reference image.")
        if task == "text_to_video" and (images or videos or previous):
            return bad("text_to_video takes no images, videos or previous interaction.")
        total = seconds + (previous.total if previous is not None and extending else 0)
        if extending and total > 30:
            return bad("An extended video can be at most 30 seconds long.")
        if previous is not None and task != "extend":
            fmt = {**{"aspect_ratio": _aspect(previous.spec), "resolution": _resolution(previous.spec)}, **fmt}
        width, height = size_for(fmt.get("aspect_ratio", "16:9"), SHORT[fmt.get("resolution", "720p")])
        return model, self.spec(width, height, 24, seconds, audio=True), total

    def check_content(self, block: Any, where: str) -> Reply | None:
        if not isinstance(block, dict) or block.get("type") not in ("text", "image", "video"):
            return bad(f"{where} must be a text, image or video content block.")
        kind = block["type"]
        allowed = {"type", "text"} if kind == "text" else {"type", "data", "uri", "mime_type", "resolution", "name"}
        if unknown := sorted(set(block) - allowed):
            return bad(f"Unknown name \"{unknown[0]}\" at '{where}': Cannot find field.")
        if kind == "text":
            return None if isinstance(block.get("text"), str) and block["text"] else bad(f"{where}.text is empty.")
        if ("data" in block) == ("uri" in block):
            return bad(f"{where} needs exactly one of data or uri.")
        if block.get("mime_type") not in (IMAGE_TYPES if kind == "image" else VIDEO_TYPES):
            return bad(f"{where}.mime_type is not a supported {kind} type.")
        if "uri" in block:
            return self.check_uri(str(block["uri"]), where)
        try:
            data = base64.b64decode(block["data"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            return bad(f"{where}.data is not valid base64.")
        if kind == "image" and image_size(data) is None:
            return bad(f"{where} could not be decoded as an image.")
        if kind == "video":
            seconds = video_seconds(data)
            if seconds is None:
                return bad(f"{where} could not be decoded as a video.")
            if seconds > 15.05:
                return bad(f"{where} is {seconds:.1f} s; source videos can be at most 15 s.")
        return None

    @staticmethod
    def check_config(config: Any) -> Reply | None:
        if config is None:
            return None
        if not isinstance(config, dict) or set(config) - {"video_config", "seed"}:
            return bad("generation_config takes video_config (and seed) for this model.")
        video = config.get("video_config", {})
        if not isinstance(video, dict) or set(video) - {"task"} or video.get("task", "edit") not in TASKS:
            return bad(f"video_config.task must be one of {', '.join(sorted(TASKS))}.")
        return None

    # read -----------------------------------------------------------------------------------
    def envelope(self, ix: FakeInteraction) -> dict[str, Any]:
        stamp = "2026-12-06T12:00:00Z"
        out = {"id": ix.id, "status": ix.status, "model": ix.model, "created": stamp, "updated": stamp, "role": "model"}
        if "previous_interaction_id" in ix.body:
            out["previous_interaction_id"] = ix.body["previous_interaction_id"]
        return out

    def _get_interaction(self, call: Call) -> Reply:
        if (denied := self.check_parent(call)) is not None:
            return denied
        ix = self.interactions.get(call.match["id"])
        if ix is None:
            return google_error(404, "NOT_FOUND", f"Interaction {call.match['id']} not found.")
        if ix.status == "in_progress":
            if self.ready(ix.created):
                ix.reads += 1
            if ix.reads > self.running_reads:
                self.finish_interaction(ix)
        return Reply(200, {**self.envelope(ix), **ix.result})

    def finish_interaction(self, ix: FakeInteraction) -> None:
        said = {
            "type": "user_input",
            "content": ix.body["input"]
            if isinstance(ix.body["input"], list)
            else [{"type": "text", "text": ix.body["input"]}],
        }
        if ix.fault == "failed":
            ix.status = "failed"
            ix.result = {"errors": [{"code": "https://ai.google.dev/errors/internal", "message": "Internal error."}]}
            return
        if ix.fault == "budget":
            ix.status = "budget_exceeded"
            ix.result = {"errors": [{"code": "budget", "message": "The interaction exceeded its budget."}]}
            return
        ix.status = "completed"
        output: dict[str, Any] = {"type": "model_output"}
        if ix.fault == "moderation":
            output["error"] = {"code": 3, "message": SAFETY}
        elif ix.fault == "blocked":
            output["content"] = [
                {"type": "text", "text": "I can't make that video: it would violate the safety policy."}
            ]
        elif ix.fault == "no_media":
            output["content"] = []
        else:
            output["content"] = [self.video_block(ix)]
        seconds = ix.spec.frame_count // 24
        ix.result = {
            "steps": [said, output],
            "usage": {
                "total_output_tokens": TOKENS_PER_SECOND * seconds,
                "output_tokens_by_modality": [{"modality": "video", "tokens": TOKENS_PER_SECOND * seconds}],
            },
        }

    def video_block(self, ix: FakeInteraction) -> dict[str, Any]:
        fmt = ix.body["response_format"]
        fmt = fmt[0] if isinstance(fmt, list) else fmt
        if ix.fault == "inline" or fmt.get("delivery", "inline") == "inline":
            data = base64.b64encode(self.media_of(ix.spec)).decode("ascii")
            return {"type": "video", "mime_type": "video/mp4", "data": data}
        return self.deliver_uri(ix)

    def _cancel(self, call: Call) -> Reply:
        if (denied := self.check_parent(call)) is not None:
            return denied
        ix = self.interactions.get(call.match["id"])
        if ix is None:
            return google_error(404, "NOT_FOUND", f"Interaction {call.match['id']} not found.")
        if ix.status == "in_progress":
            ix.status = "cancelled"
        return Reply(200, self.envelope(ix))


class FakeGemini(OmniInteractionsFake, FakeGeminiVeo):
    """FakeGeminiVeo plus Omni's interactions and the Files resource."""

    def __init__(self, key: str = "AIzaFakeGeminiKey0123456789", running_reads: int = 2, **kw: Any):
        super().__init__(key, running_reads, **kw)
        # google-genai 3.x sends the Gemini API's v1 by default; promptreel and Google's curl use v1beta
        self.serve_interactions(r"/v1(?:beta)?")
        self.route("GET", r"/v1(?:beta)?/files/(?P<id>[^/:]+)")(self._file)
        self.route("GET", r"/v1/files/(?P<id>[^/:]+):download")(self._download)

    def reset(self) -> None:
        super().reset()
        self.files.clear()
        self.blob_headers.clear()

    def check_format(self, fmt: dict[str, Any]) -> Reply | None:
        if "gcs_uri" in fmt:
            return bad("response_format.gcs_uri is for Vertex AI; the Gemini API delivers to the Files API.")
        return None

    def check_uri(self, uri: str, where: str) -> Reply | None:
        found = re.search(r"/files/([^/:?]+)", uri)
        if found is None or found.group(1) not in self.files:
            return bad(f"{where}.uri must name a file in the Files API.")
        return None

    def deliver_uri(self, ix: FakeInteraction) -> dict[str, Any]:
        file_id = uuid.uuid4().hex[:12]
        self.files[file_id] = {
            "downloads": 0,
            "fault": ix.fault,
            "spec": ix.spec,
            "reads": 0,
            "processing": 3 if ix.fault == "slow_file" else 1,
        }
        return {"type": "video", "mime_type": "video/mp4", "uri": f"{self.url}/v1beta/files/{file_id}"}

    # files ----------------------------------------------------------------------------------
    def file_state(self, entry: dict[str, Any]) -> str:
        if "reads" not in entry:
            return "ACTIVE"  # Veo's outputs
        if entry["reads"] <= entry["processing"]:
            return "PROCESSING"
        return "FAILED" if entry["fault"] == "file_failed" else "ACTIVE"

    def _file(self, call: Call) -> Reply:
        if (denied := self._auth(call)) is not None:
            return denied
        file_id = call.match["id"]
        entry = self.files.get(file_id)
        if entry is None:
            return google_error(404, "NOT_FOUND", f"File files/{file_id} not found.")
        if "reads" in entry:
            entry["reads"] += 1
        out: dict[str, Any] = {
            "name": f"files/{file_id}",
            "mimeType": "video/mp4",
            "state": self.file_state(entry),
            "uri": f"{self.url}/v1beta/files/{file_id}",
            "source": "GENERATED",
            "downloadUri": f"{self.url}/v1beta/files/{file_id}:download?alt=media",
        }
        if out["state"] == "FAILED":
            out["error"] = {"code": 13, "message": "Video processing failed."}
        return Reply(200, out)

    def _download(self, call: Call) -> Reply:
        entry = self.files.get(call.match["id"])
        if entry is not None and self.file_state(entry) != "ACTIVE" and self._auth(call) is None:
            return google_error(400, "FAILED_PRECONDITION", f"File files/{call.match['id']} is not in an ACTIVE state.")
        return super()._download(call)


def _interactions_error(reply: Reply) -> Reply:
    """google.rpc's {code: 404, status: NOT_FOUND, message} as the Interactions API's {code: "...", message}
    (google-genai's types/interactions/error.py: `code` is a string naming the error type; the real
    strings were not seen, so the fake uses the status name)."""
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if reply.status < 400 or not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return reply
    return Reply(
        reply.status,
        {"error": {"code": error.get("status", "UNKNOWN"), "message": error.get("message", "")}},
        headers=reply.headers,
    )


def _aspect(spec: Spec) -> str:
    return "16:9" if spec.width >= spec.height else "9:16"


def _resolution(spec: Spec) -> str:
    return {v: k for k, v in SHORT.items()}.get(min(spec.width, spec.height), "720p")
