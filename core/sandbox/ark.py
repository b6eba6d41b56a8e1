"""BytePlus ModelArk's video generation tasks as a loopback server: POST /api/v3/contents/generations/tasks,
GET and DELETE /api/v3/contents/generations/tasks/{id}.

Strict as the service is (fields as byteplus-python-sdk-v2's tasks.create sends them): Bearer key, the
create's fields and nothing else (null ones are absent), Seedance 2.0 / 2.0 Fast / 2.5 model ids (a model the
account has not switched on answers 404 ModelNotOpen), a content array with one text item and image items
`{type: image_url, image_url: {url}, role}` (https, data URI or asset://; keyframes and references not mixed,
at most 9 references), resolution by model (Fast and 2.5 to 720p), a ratio or "adaptive", an integer duration
(4-15; 2.5 to 30; -1 for the model's choice), no seed on Seedance 2.x. Media: 24 fps, with audio unless
generate_audio is false, at the tier's size for the ratio (with keyframes, the first frame's orientation).
Errors in ModelArk's envelope. Faults: create/poll 429, 429-bare, 500, 502, 503, drop, slow; create:overdue
(403 AccountOverdueError), create:sensitive (400 InputTextSensitiveContentDetected), create:not-open (404
ModelNotOpen); outcomes: failed, sensitive (failed with OutputVideoSensitiveContentDetected), empty (succeeded
without a url), expired.
"""

from __future__ import annotations

import itertools
from typing import Any

from .fake import Fake, FakeJob, is_int
from .loopback import Call, Reply
from .minimax import png_orientation

# Model id -> (resolutions, longest duration).
MODELS = {
    "dreamina-seedance-2-0-260128": (("480p", "720p", "1080p", "4k"), 15),
    "dreamina-seedance-2-0-fast-260128": (("480p", "720p"), 15),
    "dreamina-seedance-2-5-260628": (("480p", "720p"), 30),
}
FIELDS = {
    "model",
    "content",
    "safety_identifier",
    "callback_url",
    "return_last_frame",
    "service_tier",
    "execution_expires_after",
    "priority",
    "generate_audio",
    "draft",
    "camera_fixed",
    "watermark",
    "seed",
    "resolution",
    "ratio",
    "duration",
    "frames",
    "output_format",
    "omni_reference_task_type",
}
# Output sizes by resolution and ratio (landscape; portrait is the same turned).
SIZES = {
    "480p": {"16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "21:9": (992, 432)},
    "720p": {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "21:9": (1470, 630)},
    "1080p": {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440), "21:9": (2206, 946)},
    "4k": {"16:9": (3840, 2160), "4:3": (3326, 2494), "1:1": (2880, 2880), "21:9": (4398, 1886)},
}
TURNED = {"9:16": "16:9", "3:4": "4:3"}
KEYFRAMES, REFERENCES = {"first_frame", "last_frame"}, {"reference_image"}


def envelope(status: int, code: str, message: str, headers: dict[str, Any] | None = None) -> Reply:
    return Reply(
        status,
        {
            "error": {
                "code": code,
                "message": f"{message} Request id: 0217652019824569b4a5",
                "param": "",
                "type": "BadRequest" if status < 500 else "InternalServiceError",
            }
        },
        headers=headers or {},
    )


def frame(ratio: str, resolution: str) -> tuple[int, int]:
    """The output size for a ratio at a resolution tier (1280x720 at 720p 16:9)."""
    w, h = SIZES[resolution][TURNED.get(ratio, ratio)]
    return (h, w) if ratio in TURNED else (w, h)


class FakeArk(Fake):
    route_name = "ark"
    not_open: frozenset[str] = frozenset()  # model ids this account has not switched on

    def __init__(self, *a: Any, **kw: Any):
        self._task_ids = itertools.count(1)
        super().__init__(*a, **kw)

    @property
    def base_url(self) -> str:
        return self.url + "/api/v3"

    def routes(self) -> None:
        self.route("POST", r"/api/v3/contents/generations/tasks")(self._create)
        self.route("GET", r"/api/v3/contents/generations/tasks/(?P<id>[^/]+)")(self._get)
        self.route("DELETE", r"/api/v3/contents/generations/tasks/(?P<id>[^/]+)")(self._delete)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        code = {429: "RateLimitExceeded.EndpointRPMExceeded"}.get(status, "InternalServiceError")
        return envelope(status, code, message, headers)

    def auth_refusal(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return envelope(401, "AuthenticationError", "The API key in the request is missing or invalid.")
        return None

    def _create(self, call: Call) -> Reply:  # noqa: C901 - ModelArk's create validation, rule for rule
        if bad := self.auth_refusal(call):
            return bad
        name = self.take("create", call)
        if name == "overdue":
            return envelope(
                403, "AccountOverdueError", "The request failed because your account has an overdue balance."
            )
        if name == "sensitive":
            return envelope(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
            )
        if (reply := self.op_fault(name)) is not None:
            return reply
        body = call.json()
        if isinstance(body, dict):  # the SDK sends every field it has, null when unset: null is absent
            body = {k: v for k, v in body.items() if v is not None}
        if not isinstance(body, dict) or set(body) - FIELDS:
            return envelope(400, "InvalidParameter", f"unknown parameters {sorted(set(body or {}) - FIELDS)}.")
        model = body.get("model")
        if name == "not-open" or model in self.not_open:
            return envelope(404, "ModelNotOpen", f"Your account has not activated the model {model}.")
        if model not in MODELS:
            return envelope(
                404,
                "InvalidEndpointOrModel.NotFound",
                f"The model or endpoint {model} does not exist or you do not have access to it.",
            )
        resolutions, longest = MODELS[model]
        content = body.get("content")
        if not isinstance(content, list) or not content:
            return envelope(400, "MissingParameter", "the parameter content is required.")
        texts = [i for i in content if isinstance(i, dict) and i.get("type") == "text"]
        if len(texts) > 1 or any(not isinstance(t.get("text"), str) or set(t) != {"type", "text"} for t in texts):
            return envelope(400, "InvalidParameter", "content may hold one text item {type, text}.")
        images = [i for i in content if i not in texts]
        roles = []
        for item in images:
            url = (item.get("image_url") or {}).get("url") if isinstance(item, dict) else None
            if (
                item.get("type") != "image_url"
                or set(item) - {"type", "image_url", "role"}
                or not isinstance(url, str)
                or not url.startswith(("https://", "data:image/", "asset://"))
            ):
                return envelope(
                    400, "InvalidParameter", "content.image_url must be {url} with a URL, Base64 data or asset."
                )
            roles.append(item.get("role") or "first_frame")
        if (
            set(roles) & KEYFRAMES
            and set(roles) & REFERENCES
            or set(roles) - KEYFRAMES - REFERENCES
            or roles.count("first_frame") > 1
            or roles.count("last_frame") > 1
            or roles.count("reference_image") > 9
            or roles == ["last_frame"]
        ):
            return envelope(400, "InvalidParameter", f"the image roles {roles} cannot be combined.")
        if not texts and not images:
            return envelope(400, "MissingParameter", "content needs a text prompt or an image.")
        resolution = body.get("resolution", "720p")
        if resolution not in resolutions:
            return envelope(400, "InvalidParameter", f"resolution {resolution!r} is not supported by {model}.")
        ratio = body.get("ratio", "adaptive")
        if ratio != "adaptive" and ratio not in ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16"):
            return envelope(400, "InvalidParameter", f"ratio {ratio!r} is not valid.")
        duration = body.get("duration", 5)
        if not is_int(duration) or not (4 <= duration <= longest or duration == -1):
            return envelope(400, "InvalidParameter", f"duration must be an integer in [4, {longest}] or -1.")
        for key in ("seed", "camera_fixed", "frames", "draft"):
            if key in body:
                return envelope(400, "InvalidParameter", f"{key} is not supported by {model}.")
        if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
            return envelope(400, "InvalidParameter", "generate_audio must be a boolean.")
        if ratio == "adaptive":  # the first frame's orientation, else the model's choice (16:9)
            first = next((i for i, r in zip(images, roles) if r == "first_frame"), None)
            ratio = png_orientation(first["image_url"]["url"]) if first else "16:9"
        width, height = frame(ratio, resolution)
        seconds = 5 if duration == -1 else duration
        job = self.new_job(
            body,
            job_id=f"cgt-20261206{next(self._task_ids):06d}-ark",
            call=call,
            spec=self.spec(width, height, 24, seconds, audio=body.get("generate_audio", True)),
        )
        return Reply(200, {"id": job.id})

    def _task(self, job: FakeJob, status: str, **extra: Any) -> dict[str, Any]:
        body = job.body
        return {
            "id": job.id,
            "model": body["model"],
            "status": status,
            "created_at": 1765000000,
            "updated_at": 1765000060,
            "resolution": body.get("resolution", "720p"),
            "ratio": body.get("ratio", "adaptive"),
            "duration": int(job.spec.seconds) if job.spec else 0,
            "framespersecond": 24,
            "generate_audio": body.get("generate_audio", True),
            "service_tier": "default",
            "execution_expires_after": 172800,
            **extra,
        }

    def _get(self, call: Call) -> Reply:
        job = self.checked_read(call, envelope(404, "ResourceNotFound", f"The task {call.match['id']} does not exist."))
        if isinstance(job, Reply):
            return job
        if job.canceled:
            return Reply(200, self._task(job, "cancelled"))
        seen = self.advance(job)
        if seen < self.polls_to_finish:
            return Reply(200, self._task(job, "queued" if seen == 0 else "running"))
        if job.outcome == "failed":
            return Reply(
                200,
                self._task(
                    job,
                    "failed",
                    error={"code": "InternalServiceError", "message": "The service encountered an internal error."},
                ),
            )
        if job.outcome == "sensitive":
            return Reply(
                200,
                self._task(
                    job,
                    "failed",
                    error={
                        "code": "OutputVideoSensitiveContentDetected",
                        "message": "The request failed because the output video may contain sensitive information.",
                    },
                ),
            )
        if job.outcome == "expired":
            return Reply(200, self._task(job, "expired"))
        content = {} if job.outcome == "empty" else {"video_url": self.media_url(job)}
        assert job.spec is not None  # every job of this fake is made with its spec (_create)
        usage = {"completion_tokens": job.spec.width * job.spec.height * 24 * int(job.spec.seconds) // 1024}
        usage["total_tokens"] = usage["completion_tokens"]
        return Reply(200, self._task(job, "succeeded", content=content, usage=usage, seed=58102))

    def _delete(self, call: Call) -> Reply:
        if bad := self.auth_refusal(call):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return envelope(404, "ResourceNotFound", f"The task {call.match['id']} does not exist.")
        if job.polls == 0 and not job.canceled:  # still queued: cancelled
            job.canceled = True
        elif job.polls < self.polls_to_finish:
            return envelope(409, "InvalidAction.TaskRunning", "A running task cannot be cancelled.")
        else:  # finished (or cancelled): the record is deleted
            del self.jobs[job.id]
        return Reply(200, {})
