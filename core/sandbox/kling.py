"""Kling's API as a loopback server: create, query by task id or external_task_id, envelope errors.

Verifies the bearer: the API key, or (the legacy scheme) a JWT signed with the secret (HS256,
iss = access key, exp/nbf checked: an expired token gets 401 code 1004); string durations, raw
base64 images, and field names per endpoint;
video-extend takes only the video id of a finished video this fake made. Kling 3.0:
multi-shot (customize: 1-6 shots of <= 512 characters, string durations summing to the take's, no
prompt needed), omni-video for kling-v3-omni (image_list frames and references; one video_list
clip, `base` to edit: no frames, sound off, the take as long as the clip), kling-3.0-turbo (audio
always on: no `sound` field, no multi-shot fields, no end frame). Media: 24 fps (30 for v1, v1.5,
v1.6 image2video), std 720p / pro 1080p at the aspect asked (image2video: 16:9 unless given), the
duration asked, audio when `sound` is on. Outcomes: ok, failed (a risk-control refusal), empty
(succeed, no videos).
Faults: billing (429/1102), arrears (429/1101), rate (429/1302), moderation (400/1301),
500 (code 5000), drop, slow.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import jwt

from .fake import Fake, FakeJob, size_for
from .loopback import Call, Reply

API_KEY = "kling-fake-api-key-0123456789"
# What the sandbox runs it with: key-like, starting sbx- as every sandbox key does (engine.SANDBOX_KEY_PREFIX);
# HS256 wants a secret of 32+ bytes.
SANDBOX_ACCESS, SANDBOX_SECRET = "sbx-kling-access-0000", "sbx-kling-secret-0123456789abcdef"
SANDBOX_API_KEY = "sbx-kling-api-key-0000"
ACCESS = "ak-fake-0123456789"
SECRET = "sk-fake-secret-0123456789abcdefghijklmnop"
COMMON = {"prompt", "negative_prompt", "cfg_scale", "callback_url", "external_task_id"}
SHOT_PROMPT_MAX = 512
# Kling 3.0's multi-shot fields ([3P]: Kling's v3 docs as transcribed in OpenMontage tools/_kling/schemas.py):
# multi_shot (bool), shot_type "customize" | "intelligent", multi_prompt [{index, prompt, duration}] of <= 6 shots.
V3_FIELDS = {"multi_shot", "shot_type", "multi_prompt"}
MAX_SHOTS = 6
FIELDS = {
    "text2video": COMMON
    | V3_FIELDS
    | {"model_name", "sound", "mode", "camera_control", "aspect_ratio", "duration", "watermark_info"},
    "image2video": COMMON
    | V3_FIELDS
    | {
        "model_name",
        "sound",
        "mode",
        "camera_control",
        "duration",
        "watermark_info",
        "image",
        "image_tail",
        "static_mask",
        "dynamic_masks",
        "voice_list",
        "aspect_ratio",
    },
    "omni-video": COMMON
    | V3_FIELDS
    | {
        "model_name",
        "sound",
        "mode",
        "aspect_ratio",
        "duration",
        "watermark_info",
        "image_list",
        "video_list",
        "element_list",
    },
    "video-extend": COMMON | {"video_id"},
}
V3_SECONDS = {str(s) for s in range(3, 16)}
DURATIONS = {
    "kling-v2-6": {"5", "10"},
    "kling-v3": V3_SECONDS,
    "kling-v3-omni": V3_SECONDS,
    "kling-3.0-turbo": V3_SECONDS,
}
OMNI_MODELS = ("kling-v3-omni", "kling-video-o1")
TURBO = "kling-3.0-turbo"


def envelope(
    data: dict[str, Any] | None = None,
    code: int = 0,
    message: str = "SUCCEED",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Reply:
    return Reply(
        status,
        {"code": code, "message": message, "request_id": f"req-{time.monotonic_ns()}", "data": data},
        headers=headers or {},
    )


class FakeKling(Fake):
    route_name = "kling"

    def __init__(self, access: str = ACCESS, secret: str = SECRET, api_key: str = API_KEY, **kw: Any):
        self.access, self.secret = access, secret
        super().__init__(key=api_key, **kw)

    @classmethod
    def sandboxed(cls, **kw: Any) -> FakeKling:
        return cls(access=SANDBOX_ACCESS, secret=SANDBOX_SECRET, api_key=SANDBOX_API_KEY, **kw)

    def env(self) -> dict[str, str]:
        """The API key (the current scheme) and the legacy pair: a client given both uses the key."""
        return {**super().env(), "KLING_ACCESS_KEY": self.access, "KLING_SECRET_KEY": self.secret}

    def routes(self) -> None:
        families = "text2video|image2video|omni-video|video-extend"
        self.route("POST", rf"/v1/videos/(?P<family>{families})")(self._create)
        self.route("GET", rf"/v1/videos/(?P<family>{families})/(?P<id>[^/]+)")(self._get)

    def _auth(self, call: Call) -> Reply | None:
        header = call.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return envelope(code=1000, message="Authorization header missing", status=401)
        token = header[len("Bearer ") :]
        if token == self.key:
            return None
        if token.count(".") != 2:  # neither the API key nor a JWT
            return envelope(code=1002, message="Authorization is invalid", status=401)
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["iss", "exp", "nbf"]})
        except jwt.ExpiredSignatureError:
            return envelope(code=1004, message="Authorization token expired", status=401)
        except jwt.ImmatureSignatureError:
            return envelope(code=1003, message="Authorization token not yet valid", status=401)
        except jwt.InvalidTokenError:
            return envelope(code=1002, message=f"Authorization is invalid: {token}", status=401)
        if claims["iss"] != self.access:
            return envelope(code=1001, message="Access key not found", status=401)
        return None

    def _fault(self, op: str, call: Call) -> Reply | None:
        name = self.take(op, call)
        faults = {
            "billing": (429, 1102, "Resource pack exhausted"),
            "arrears": (429, 1101, "Account in arrears"),
            "rate": (429, 1302, "Rate limit exceeded"),
            "moderation": (400, 1301, "Content safety check failed"),
            "500": (500, 5000, "Server internal error"),
            "envelope": (200, 1201, "Invalid request parameters"),  # HTTP 200, business code says no
        }
        if name in faults:
            status, code, message = faults[name]
            return envelope(code=code, message=message, status=status)
        return self.transport_fault(name)

    def _create(self, call: Call) -> Reply:  # noqa: C901 - Kling's create validation, rule for rule per endpoint family
        if (bad := self._auth(call)) or (bad := self._fault("create", call)):
            return bad
        family = call.match["family"]
        body = call.json()
        if not isinstance(body, dict) or set(body) - FIELDS[family]:
            return envelope(code=1201, message=f"unknown fields {sorted(set(body or {}) - FIELDS[family])}", status=400)
        shots = body.get("multi_shot") is True and body.get("shot_type", "customize") == "customize"
        if not isinstance(body.get("prompt", ""), str) or (
            family != "video-extend" and not shots and not body.get("prompt")
        ):
            return envelope(code=1201, message="prompt is required", status=400)
        source = edited = None
        if family == "video-extend":
            if not isinstance(body.get("video_id"), str):
                return envelope(code=1201, message="video_id is required", status=400)
            # Only a video this account made, named by its video id (not the task id), finished.
            source = next((j for j in self.jobs.values() if f"v{j.id}" == body["video_id"]), None)
            # Finished as _get reports `succeed`, and with a video.
            if (
                source is None
                or source.polls <= self.polls_to_finish
                or source.outcome in ("failed", "empty", "unknown")
            ):
                return envelope(
                    code=1201, message=f"video_id {body['video_id']} is not a finished video of yours", status=400
                )
        else:
            model = body.get("model_name", "kling-v1")
            if "duration" in body and (
                not isinstance(body["duration"], str) or body["duration"] not in DURATIONS.get(model, {"5", "10"})
            ):
                return envelope(code=1201, message="duration must be a string among the allowed values", status=400)
            if body.get("mode", "std") not in ("std", "pro") or body.get("sound", "off") not in ("on", "off"):
                return envelope(code=1201, message="mode or sound invalid", status=400)
            if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
                return envelope(code=1201, message="aspect_ratio invalid", status=400)
            for key in ("image", "image_tail"):
                if key in body and not _raw_base64(body[key]):
                    return envelope(
                        code=1201, message=f"{key} must be a URL or base64 without a data: prefix", status=400
                    )
            if family == "image2video" and "image" not in body:
                return envelope(code=1201, message="image is required", status=400)
            if refusal := _multi_shot(body, model) or _omni(body, family, model) or _turbo(body, model):
                return envelope(code=1201, message=refusal, status=400)
            edited = body.get("video_list") and self._own_video(body["video_list"][0]["video_url"])
        ext = body.get("external_task_id")
        if ext and any(j.body.get("external_task_id") == ext for j in self.jobs.values()):
            return envelope(code=1201, message="external_task_id already exists", status=400)
        short = 1080 if body.get("mode") == "pro" else 720
        width, height = size_for(body.get("aspect_ratio", "16:9"), short)
        model = body.get("model_name", "kling-v1")
        # Kling's capability map: v1, v1.5 and v1.6 image-to-video make 30 fps; v1.6 text and v2+ make 24.
        fps = 30 if model in ("kling-v1", "kling-v1-5") or (model == "kling-v1-6" and family == "image2video") else 24
        spec = self.spec(
            width, height, fps, int(body.get("duration", "5")), audio=body.get("sound") == "on" or model == TURBO
        )
        if family == "omni-video" and body.get("video_list"):  # an edit is as long as its clip, at 24 fps
            seconds = edited.spec.seconds if edited and edited.spec else 5
            spec = self.spec(width, height, 24, seconds, audio=bool(edited and edited.spec and edited.spec.audio))
        if source is not None and source.spec is not None:  # the extension continues its source: same frame
            spec = self.spec(
                source.spec.width, source.spec.height, source.spec.fps, source.spec.seconds + 5, audio=source.spec.audio
            )
        job = self.new_job(body, job_id=str(880000000000000000 + len(self.jobs) + 1), call=call, spec=spec)
        job.extra["family"] = family
        if self.take("answer", call) == "drop":
            return Reply(drop=True)  # the task exists and is billed; the caller never hears
        return envelope(self._data(job, "submitted"))

    def _own_video(self, url: str) -> FakeJob | None:
        """The job of this fake whose media `url` is, if any (an edit of a take it made keeps its length)."""
        return next((j for j in self.jobs.values() if self.media_url(j) == url), None)

    def _data(self, job: FakeJob, status: str) -> dict[str, Any]:
        data = {
            "task_id": job.id,
            "task_status": status,
            "task_info": {"external_task_id": job.body.get("external_task_id")},
            "created_at": 1732352400000,
            "updated_at": 1732352400000,
        }
        if status == "succeed":
            videos = (
                [] if job.outcome == "empty" else [{"id": f"v{job.id}", "url": self.media_url(job), "duration": "5.1"}]
            )
            data["task_result"] = {"videos": videos}
        if status == "failed":
            data["task_status_msg"] = "Failure to pass the risk control system"
        return data

    def _get(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("poll", call)):
            return bad
        key, family = call.match["id"], call.match["family"]
        job = self.jobs.get(key) or next((j for j in self.jobs.values() if j.body.get("external_task_id") == key), None)
        if job is None or job.extra["family"] != family:
            return envelope(code=1203, message="task not found", status=404)
        seen = self.advance(job)
        if seen < self.polls_to_finish:
            return envelope(self._data(job, "submitted" if seen == 0 else "processing"))
        if job.outcome == "unknown":
            return envelope(self._data(job, "queueing"))
        return envelope(self._data(job, "failed" if job.outcome == "failed" else "succeed"))


def _raw_base64(value: object) -> bool:
    if not isinstance(value, str) or value.startswith("data:"):
        return False
    if value.startswith("https://"):
        return True
    try:
        base64.b64decode(value, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def _multi_shot(body: dict[str, Any], model: str) -> str | None:
    """What is wrong with Kling 3.0's multi-shot fields, if anything (None when absent or right)."""
    given = V3_FIELDS & set(body)
    if not given:
        return None
    if not model.startswith("kling-v3") or model == TURBO:
        return f"{sorted(given)} are Kling 3.0 fields; {model} takes none"
    if not isinstance(body.get("multi_shot", False), bool):
        return "multi_shot must be a boolean"
    if body.get("shot_type", "customize") not in ("customize", "intelligent"):
        return "shot_type must be customize or intelligent"
    shots = body.get("multi_prompt")
    if shots is None:
        return (
            "multi_prompt is required for customize shots"
            if body.get("multi_shot") and body.get("shot_type", "customize") == "customize"
            else None
        )
    if not isinstance(shots, list) or not 1 <= len(shots) <= MAX_SHOTS:
        return f"multi_prompt must list 1 to {MAX_SHOTS} shots"
    for shot in shots:
        if not (
            isinstance(shot, dict)
            and isinstance(shot.get("prompt"), str)
            and shot["prompt"]
            and isinstance(shot.get("duration"), str)
            and shot["duration"].isdigit()
            and int(shot["duration"]) >= 1
            and isinstance(shot.get("index"), int)
        ):
            return "each multi_prompt shot needs an index, a prompt and a string duration of 1 s or more"
        if len(shot["prompt"]) > SHOT_PROMPT_MAX:
            return f"a multi_prompt shot's prompt is at most {SHOT_PROMPT_MAX} characters"
    if [shot["index"] for shot in shots] != list(range(1, len(shots) + 1)):
        return "multi_prompt indexes must count 1, 2, 3, ..."
    total = sum(int(shot["duration"]) for shot in shots)
    if "duration" in body and total != int(body["duration"]):
        return f"multi_prompt durations add up to {total}, not the video's {body['duration']}"
    return None


def _omni(body: dict[str, Any], family: str, model: str) -> str | None:
    """What is wrong with an omni-video body (or with omni fields elsewhere), if anything."""
    if family != "omni-video":
        return None
    if model not in OMNI_MODELS:
        return f"omni-video takes {', '.join(OMNI_MODELS)}, not {model}"
    images, videos = body.get("image_list") or [], body.get("video_list") or []
    if not isinstance(images, list) or not isinstance(videos, list) or len(videos) > 1:
        return "image_list and video_list are lists; video_list holds at most one video"
    for image in images:
        if not (
            isinstance(image, dict)
            and set(image) <= {"image_url", "type"}
            and _raw_base64(image.get("image_url"))
            and image.get("type", "first_frame") in ("first_frame", "end_frame")
        ):
            return "each image_list entry is {image_url, type?: first_frame | end_frame}"
    kinds = [image.get("type") for image in images]
    if "end_frame" in kinds and "first_frame" not in kinds:
        return "an end_frame needs a first_frame"
    for video in videos:
        if not (
            isinstance(video, dict)
            and str(video.get("video_url", "")).startswith(("http://", "https://"))
            and video.get("refer_type", "base") in ("base", "feature")
            and video.get("keep_original_sound", "yes") in ("yes", "no")
        ):
            return "each video_list entry is {video_url (a URL), refer_type: base | feature, keep_original_sound}"
        if body.get("sound", "off") != "off":
            return "sound must be off when a reference video is given"
        if video.get("refer_type", "base") == "base" and any(kinds):
            return "a video to edit (refer_type base) takes no first or end frame"
    if not videos and "first_frame" not in kinds and "aspect_ratio" not in body:
        return "aspect_ratio is required without a first frame or a video to edit"
    return None


def _turbo(body: dict[str, Any], model: str) -> str | None:
    if model != TURBO:
        return None
    if "sound" in body:
        return f"{TURBO} always makes sound: it takes no sound field"
    if "image_tail" in body:
        return f"{TURBO} takes a first frame only"
    return None
