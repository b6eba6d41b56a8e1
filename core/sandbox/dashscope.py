"""Alibaba Model Studio's DashScope video synthesis as a loopback server: POST
/api/v1/services/aigc/video-generation/video-synthesis, GET /api/v1/tasks/{task_id}, POST
/api/v1/tasks/{task_id}/cancel.

Strict as the service is (shapes as the dashscope SDK sends and reads them): Bearer key, `X-DashScope-Async:
enable` (the HTTP API is asynchronous only), models wan2.7-t2v and wan2.7-i2v, `input` and `parameters` with
their fields and nothing else (the SDK's own `input.extend_prompt` and `input.function` are accepted), a
non-empty prompt for text-to-video, `media` `{type, url}` items for image-to-video (one first_frame, at most
one last_frame; https or data URI), resolution 720P or 1080P, an integer duration 2-15, a ratio for
text-to-video only, a seed in [0, 2147483647]. Media: 30 fps, with audio unless `audio` is false, at the
ratio's size (with a first frame, its orientation). Errors in DashScope's `{request_id, code, message}`.
Faults: create/poll 429 (Throttling.RateQuota), 429-bare, 500, 502, 503, drop, slow; create:arrearage (400
Arrearage), create:inspection (400 DataInspectionFailed); outcomes: failed, inspection (FAILED with
DataInspectionFailed), empty (SUCCEEDED without a url), unknown (UNKNOWN).
"""

from __future__ import annotations

import uuid
from typing import Any

from .fake import Fake, FakeJob, is_int
from .loopback import Call, Reply
from .minimax import png_orientation

MODELS = {"wan2.7-t2v", "wan2.7-i2v"}
INPUT_FIELDS = {"prompt", "negative_prompt", "audio_url", "media", "extend_prompt", "function"}
PARAMETER_FIELDS = {
    "resolution",
    "ratio",
    "duration",
    "seed",
    "prompt_extend",
    "watermark",
    "audio",
    "shot_type",
    "audio_setting",
}
SIZES = {  # landscape / square sizes by resolution and ratio; portrait ones are these turned
    "720P": {"16:9": (1280, 720), "1:1": (960, 960), "4:3": (1088, 832)},
    "1080P": {"16:9": (1920, 1080), "1:1": (1440, 1440), "4:3": (1632, 1248)},
}
TURNED = {"9:16": "16:9", "3:4": "4:3"}


def _error(status: int, code: str, message: str, headers: dict[str, Any] | None = None) -> Reply:
    return Reply(
        status,
        {"request_id": "7a0bd4a1-1fd3-9e1b-8b4e-2b6a0b2d1f3c", "code": code, "message": message},
        headers=headers or {},
    )


def frame(ratio: str, resolution: str) -> tuple[int, int]:
    """The output size for a ratio at a resolution (1280x720 at 720P 16:9)."""
    w, h = SIZES[resolution][TURNED.get(ratio, ratio)]
    return (h, w) if ratio in TURNED else (w, h)


class FakeDashScope(Fake):
    route_name = "dashscope"

    @property
    def base_url(self) -> str:
        return self.url + "/api/v1"

    def routes(self) -> None:
        self.route("POST", r"/api/v1/services/aigc/video-generation/video-synthesis")(self._create)
        self.route("GET", r"/api/v1/tasks/(?P<id>[^/]+)")(self._get)
        self.route("POST", r"/api/v1/tasks/(?P<id>[^/]+)/cancel")(self._cancel)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        code = {429: "Throttling.RateQuota"}.get(status, "InternalError")
        return _error(status, code, message, headers)

    def auth_refusal(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return _error(401, "InvalidApiKey", "Invalid API-key provided.")
        return None

    def _create(self, call: Call) -> Reply:  # noqa: C901 - DashScope's create validation, rule for rule
        if bad := self.auth_refusal(call):
            return bad
        name = self.take("create", call)
        if name == "arrearage":
            return _error(400, "Arrearage", "Access denied, please make sure your account is in good standing.")
        if name == "inspection":
            return _error(400, "DataInspectionFailed", "Input data may contain inappropriate content.")
        if (reply := self.op_fault(name)) is not None:
            return reply
        if call.headers.get("x-dashscope-async") != "enable":
            return _error(403, "AccessDenied", "current user api does not support synchronous calls")
        body = call.json()
        if not isinstance(body, dict) or set(body) - {"model", "input", "parameters"}:
            return _error(400, "InvalidParameter", "The request body must be {model, input, parameters}.")
        model = body.get("model")
        if model not in MODELS:
            return _error(404, "ModelNotFound", f"Model not exist: {model}.")
        inputs, params = body.get("input"), body.get("parameters", {})
        if not isinstance(inputs, dict) or set(inputs) - INPUT_FIELDS:
            return _error(400, "InvalidParameter", f"input: unknown fields {sorted(set(inputs or {}) - INPUT_FIELDS)}")
        if not isinstance(params, dict) or set(params) - PARAMETER_FIELDS:
            return _error(
                400, "InvalidParameter", f"parameters: unknown fields {sorted(set(params) - PARAMETER_FIELDS)}"
            )
        prompt = inputs.get("prompt")
        if prompt is not None and not isinstance(prompt, str) or model == "wan2.7-t2v" and not (prompt or "").strip():
            return _error(400, "InvalidParameter", "Field required: input.prompt")
        resolution = params.get("resolution", "1080P")
        if resolution not in SIZES:
            return _error(400, "InvalidParameter", f"The resolution {resolution!r} is invalid: 720P or 1080P.")
        duration = params.get("duration", 5)
        if not is_int(duration) or not 2 <= duration <= 15:
            return _error(400, "InvalidParameter", "The duration must be an integer in [2, 15].")
        if "seed" in params and (not is_int(params["seed"]) or not 0 <= params["seed"] <= 2147483647):
            return _error(400, "InvalidParameter", "The seed must be an integer in [0, 2147483647].")
        for key in ("prompt_extend", "watermark", "audio"):
            if key in params and not isinstance(params[key], bool):
                return _error(400, "InvalidParameter", f"The {key} must be a boolean.")
        if model == "wan2.7-t2v":
            if "media" in inputs:
                return _error(400, "InvalidParameter", "wan2.7-t2v takes no media; use wan2.7-i2v.")
            ratio = params.get("ratio", "16:9")
            if ratio not in ("16:9", "9:16", "1:1", "4:3", "3:4"):
                return _error(400, "InvalidParameter", f"The ratio {ratio!r} is invalid.")
        else:
            ratio = self._frames(inputs.get("media"), params)
            if isinstance(ratio, Reply):
                return ratio
        width, height = frame(ratio, resolution)
        job = self.new_job(
            body,
            job_id=str(uuid.uuid4()),
            call=call,
            spec=self.spec(width, height, 30, duration, audio=params.get("audio", True)),
        )
        return Reply(200, {"request_id": str(uuid.uuid4()), "output": {"task_id": job.id, "task_status": "PENDING"}})

    @staticmethod
    def _frames(media: object, params: dict[str, Any]) -> str | Reply:
        """The first frame's orientation, or the refusal."""
        if "ratio" in params:
            return _error(400, "InvalidParameter", "wan2.7-i2v takes no ratio: the first frame sets it.")
        if not isinstance(media, list) or not media:
            return _error(400, "InvalidParameter", "Field required: input.media")
        kinds = []
        for item in media:
            url = item.get("url") if isinstance(item, dict) and set(item) == {"type", "url"} else None
            if not isinstance(url, str) or not url.startswith(("https://", "http://", "oss://", "data:image/")):
                return _error(400, "InvalidParameter", "input.media items are {type, url} with a URL or data URI.")
            kinds.append(item["type"])
        if (
            kinds.count("first_frame") != 1
            or kinds.count("last_frame") > 1
            or set(kinds) - {"first_frame", "last_frame", "driving_audio"}
        ):
            return _error(400, "InvalidParameter", f"input.media types {kinds} cannot be combined.")
        first = next(i for i in media if i["type"] == "first_frame")
        return png_orientation(first["url"]) if first["url"].startswith("data:") else "16:9"

    def _task(self, job: FakeJob, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "task_id": job.id,
            "task_status": status,
            "submit_time": "2026-12-06 09:00:00.000",
            "scheduled_time": "2026-12-06 09:00:01.000",
            **extra,
        }

    def _get(self, call: Call) -> Reply:
        rid = str(uuid.uuid4())
        job = self.checked_read(  # an id DashScope does not (or no longer) know reads as UNKNOWN
            call, Reply(200, {"request_id": rid, "output": {"task_id": call.match["id"], "task_status": "UNKNOWN"}})
        )
        if isinstance(job, Reply):
            return job
        if job.canceled:
            return Reply(200, {"request_id": rid, "output": self._task(job, "CANCELED")})
        seen = self.advance(job)
        if seen < self.polls_to_finish:
            return Reply(200, {"request_id": rid, "output": self._task(job, "PENDING" if seen == 0 else "RUNNING")})
        if job.outcome == "unknown":
            return Reply(200, {"request_id": rid, "output": {"task_id": job.id, "task_status": "UNKNOWN"}})
        if job.outcome in ("failed", "inspection"):
            code, message = (
                ("InternalError", "An internal error has occured, please try again later.")
                if job.outcome == "failed"
                else ("DataInspectionFailed", "Output data may contain inappropriate content.")
            )
            return Reply(200, {"request_id": rid, "output": self._task(job, "FAILED", code=code, message=message)})
        output = self._task(
            job, "SUCCEEDED", end_time="2026-12-06 09:02:00.000", orig_prompt=job.body["input"].get("prompt", "")
        )
        if job.outcome != "empty":
            output["video_url"] = self.media_url(job)
        assert job.spec is not None  # every job of this fake is made with its spec (_create)
        seconds = int(job.spec.seconds)  # usage as the SDK's VideoSynthesisUsage names it, and as Wan 2.x adds to it
        usage = {
            "video_count": 1,
            "video_duration": seconds,
            "video_ratio": f"{job.spec.width}*{job.spec.height}",
            "duration": seconds,
            "SR": int(job.body["parameters"].get("resolution", "1080P")[:-1]),
        }
        return Reply(200, {"request_id": rid, "output": output, "usage": usage})

    def _cancel(self, call: Call) -> Reply:
        if bad := self.auth_refusal(call):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None or job.canceled or job.polls > 0:
            return _error(400, "UnsupportedOperation", "Only a PENDING task can be canceled.")
        job.canceled = True
        return Reply(200, {"request_id": str(uuid.uuid4())})
