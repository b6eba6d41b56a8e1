"""What the two Veo fakes share: request validation as Google's services do it, the google.rpc error
envelope, and long-running operations that finish after a few reads (and the fake's latency).
Media: 24 fps at the aspect ratio, resolution and duration asked; Veo 3+ with audio (on Vertex
unless generateAudio is false), Veo 2 silent.

Per-job faults (`X-Fake-Fault` on the create, or `fake.fault("outcome", name)`): rai (done, no
video, raiMediaFilteredCount + reason),
no_media (done, nothing at all), op_error (done with INTERNAL), op_moderation (done with an
INVALID_ARGUMENT naming Responsible AI), truncate (the first download is cut short), corrupt (the
download is not an MP4), expired (the download URL refuses with 403), drop (the
operation starts, the answer never comes), slow (starts, answered after 3 s).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .fake import Fake, size_for
from .loopback import Call, Reply
from .media import Spec, image_size

COMMON_PARAMS = {
    "aspectRatio",
    "resolution",
    "durationSeconds",
    "negativePrompt",
    "personGeneration",
    "sampleCount",
    "enhancePrompt",
}
VERTEX_PARAMS = {"seed", "fps", "generateAudio", "storageUri", "pubsubTopic", "compressionQuality", "resizeMode"}
RAI_REASON = (
    "Veo could not generate 1 videos because the output was flagged by our safety filters. "
    "You will not be charged for blocked videos. Support codes: 42237218"
)


def google_error(
    http: int,
    status: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, Any] | None = None,
) -> Reply:
    body: dict[str, Any] = {"code": http, "message": message, "status": status}
    if details:
        body["details"] = details
    return Reply(http, {"error": body}, headers=headers or {})


def bad(message: str) -> Reply:
    return google_error(400, "INVALID_ARGUMENT", message)


@dataclass
class Op:
    name: str
    model: str
    body: dict[str, Any]
    fault: str = ""
    reads: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    spec: Spec | None = None
    created: float = field(default_factory=time.monotonic)


class FakeVeo(Fake):
    vertex = False
    signed_by = "Google Veo (promptreel sandbox)"
    models: set[str] = set()
    retired: set[str] = set()

    def __init__(self, key: str | None = None, running_reads: int = 2, **kw: Any):
        super().__init__(key, **kw)
        self.running_reads = running_reads
        self.ops: dict[str, Op] = {}

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        rpc = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        return google_error(status, rpc, message, headers=headers)

    # validation -----------------------------------------------------------------------------
    def check_model(self, model: str, where: str) -> Reply | None:
        if model in self.retired or self.gone(model):
            return google_error(404, "NOT_FOUND", f"{where} is no longer available. Please use a newer model.")
        if model not in self.models:
            return self.unknown_model(model, where)
        return None

    def _auth(self, call: Call) -> Reply | None:
        """The API's refusal of the call's credentials, or None (the Gemini API's key, Vertex AI's token)."""
        raise NotImplementedError

    def unknown_model(self, model: str, where: str) -> Reply:
        raise NotImplementedError

    def check_image(self, image: Any, field_name: str) -> Reply | None:
        if not isinstance(image, dict):
            return bad(f"{field_name} must be an object.")
        if "gcsUri" in image and not self.vertex:
            return bad(
                f"{field_name}.gcsUri isn't supported by this model. Send the image inline as bytesBase64Encoded."
            )
        keys = set(image)
        if keys - {"bytesBase64Encoded", "gcsUri", "mimeType"}:
            return bad(
                f"Unknown name \"{sorted(keys - {'bytesBase64Encoded', 'gcsUri', 'mimeType'})[0]}\" at '{field_name}'."
            )
        if ("bytesBase64Encoded" in image) == ("gcsUri" in image):
            return bad(f"{field_name} needs exactly one of bytesBase64Encoded or gcsUri.")
        if image.get("mimeType") not in ("image/png", "image/jpeg", "image/webp"):
            return bad(f"{field_name}.mimeType must be image/png, image/jpeg or image/webp.")
        if "bytesBase64Encoded" in image:
            try:
                data = base64.b64decode(image["bytesBase64Encoded"], validate=True)
            except (binascii.Error, ValueError, TypeError):
                return bad(f"{field_name}.bytesBase64Encoded is not valid base64.")
            if image_size(data) is None:
                return bad(f"{field_name} could not be decoded as an image.")
        return None

    def check_video(self, video: Any) -> Reply | None:
        raise NotImplementedError

    def validate(self, model: str, body: Any) -> Reply | None:
        if not isinstance(body, dict):
            return bad("Invalid JSON payload received.")
        top = {"instances", "parameters"} | ({"labels"} if self.vertex else {"webhookConfig"})
        if set(body) - top:
            return bad(
                f'Invalid JSON payload received. Unknown name "{sorted(set(body) - top)[0]}": Cannot find field.'
            )
        instances = body.get("instances")
        if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
            return bad("instances must hold exactly one instance.")
        inst = instances[0]
        allowed = {"prompt", "image", "lastFrame", "referenceImages", "video"} | ({"mask"} if self.vertex else set())
        if set(inst) - allowed:
            return bad(
                f'Invalid JSON payload received. Unknown name "{sorted(set(inst) - allowed)[0]}" at '
                "'instances[0]': Cannot find field."
            )
        if not isinstance(inst.get("prompt"), str) or not (inst["prompt"] or "image" in inst):
            return bad("A text prompt is required.")
        for name in ("image", "lastFrame"):
            if name in inst and (err := self.check_image(inst[name], name)) is not None:
                return err
        if "lastFrame" in inst and "image" not in inst:
            return bad("lastFrame requires image (the first frame).")
        refs = inst.get("referenceImages")
        if refs is not None:
            if not isinstance(refs, list) or not 1 <= len(refs) <= 3:
                return bad("referenceImages takes 1 to 3 images.")
            kinds = {"ASSET", "asset"} | ({"STYLE", "style"} if self.vertex else set())
            for ref in refs:
                if (
                    not isinstance(ref, dict)
                    or set(ref) != {"image", "referenceType"}
                    or ref["referenceType"] not in kinds
                ):
                    return bad(
                        "Each reference image is {image, referenceType}; referenceType must be "
                        + ("ASSET or STYLE." if self.vertex else "ASSET.")
                    )
                if (err := self.check_image(ref["image"], "referenceImages.image")) is not None:
                    return err
        if "video" in inst and (err := self.check_video(inst["video"])) is not None:
            return err
        return self.validate_parameters(model, body.get("parameters") or {}, inst)

    def validate_parameters(self, model: str, params: Any, inst: dict[str, Any]) -> Reply | None:  # noqa: C901 - Veo's parameter validation, rule for rule
        if not isinstance(params, dict):
            return bad("parameters must be an object.")
        allowed = COMMON_PARAMS | (VERTEX_PARAMS if self.vertex else set())
        for name in params:
            if name not in allowed:
                return bad(
                    f"`{name}` isn't supported by this model. Please remove it or refer to the "
                    "documentation for supported usage."
                )
        veo2 = model.startswith("veo-2")
        if params.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
            return bad("aspectRatio must be 16:9 or 9:16.")
        if "resolution" in params:
            if veo2:
                return bad("`resolution` isn't supported by this model.")
            if params["resolution"] not in ("720p", "1080p", "4k"):
                return bad("resolution must be 720p, 1080p or 4k.")
        duration = params.get("durationSeconds", 8)
        if not isinstance(duration, int) or isinstance(duration, bool):
            return bad("durationSeconds must be an integer.")
        allowed_durations = (5, 6, 7, 8) if veo2 else (4, 6, 8)
        if duration not in allowed_durations:
            return bad(f"durationSeconds must be one of {', '.join(map(str, allowed_durations))} for this model.")
        if params.get("resolution") in ("1080p", "4k") and duration != 8:
            return bad(f"{params['resolution']} output requires durationSeconds 8.")
        count = params.get("sampleCount", 1)
        if not isinstance(count, int) or not 1 <= count <= 4:
            return bad("sampleCount must be between 1 and 4.")
        if "seed" in params and (not isinstance(params["seed"], int) or not 0 <= params["seed"] <= 2**32 - 1):
            return bad("seed must be an integer from 0 to 4294967295.")
        if "generateAudio" in params and not isinstance(params["generateAudio"], bool):
            return bad("generateAudio must be a boolean.")
        if self.vertex and not veo2 and "generateAudio" not in params:
            return bad("generateAudio is required for this model.")
        if veo2 and params.get("generateAudio"):
            return bad("`generateAudio` isn't supported by this model.")
        return None

    # operations -----------------------------------------------------------------------------
    def start(self, call: Call, model: str, name_prefix: str) -> Reply:
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return bad("Invalid JSON payload received.")
        if (err := self.validate(model, body)) is not None:
            return err
        op = Op(
            f"{name_prefix}/operations/{uuid.uuid4().hex[:12]}",
            model,
            body,
            fault=self.take("outcome", call) or "",
            spec=self.output_spec(model, body),
        )
        self.ops[op.name] = op
        self.count_create()
        if op.fault == "drop":
            return Reply(drop=True)
        return Reply(200, {"name": op.name}, delay=3.0 if op.fault == "slow" else 0.0)

    def read(self, op: Op) -> dict[str, Any]:
        if self.ready(op.created):
            op.reads += 1
        if op.reads <= self.running_reads:
            return {"name": op.name}
        done: dict[str, Any] = {"name": op.name, "done": True}
        if op.fault == "op_error":
            done["error"] = {"code": 13, "message": "Internal error encountered."}
        elif op.fault == "op_moderation":
            done["error"] = {
                "code": 3,
                "message": "The prompt could not be submitted. This prompt contains sensitive "
                "words that violate Google's Responsible AI practices. Try rephrasing "
                "the prompt. Support codes: 17301594",
            }
        else:
            if not op.result:
                op.result = self.finish(op)
            done["response"] = op.result
        return done

    def output_spec(self, model: str, body: dict[str, Any]) -> Spec:
        params = body.get("parameters") or {}
        short = {"1080p": 1080, "4k": 2160}.get(str(params.get("resolution")), 720)
        width, height = size_for(params.get("aspectRatio", "16:9"), short)
        audio = not model.startswith("veo-2") and params.get("generateAudio", True)
        return self.spec(width, height, 24, params.get("durationSeconds", 8), audio=audio)

    def finish(self, op: Op) -> dict[str, Any]:
        raise NotImplementedError
