"""Kling's API as a loopback server: create, query by task id or external_task_id, envelope errors.

Verifies the bearer JWT with the secret (HS256, iss = access key, exp/nbf checked: an
expired token gets 401 code 1004), string durations, raw base64 images, and field names
per endpoint; video-extend takes only the video id of a finished video this fake made. Media: 24 fps (30 for v1, v1.5, v1.6 image2video), std 720p / pro 1080p at the aspect asked (image2video: 16:9
unless given), the duration asked, audio when `sound` is on. Outcomes: ok, failed (a risk-control refusal), empty (succeed, no videos).
Faults: billing (429/1102), arrears (429/1101), rate (429/1302), moderation (400/1301),
500 (code 5000), drop, slow.
"""

from __future__ import annotations

import base64
import binascii
import time

import jwt

from .fake import Fake, size_for
from .loopback import Call, Reply

ACCESS = "ak-fake-0123456789"
SECRET = "sk-fake-secret-0123456789abcdefghijklmnop"
COMMON = {"prompt", "negative_prompt", "cfg_scale", "callback_url", "external_task_id"}
# Kling 3.0's multi-shot fields ([3P]: Kling's v3 docs as transcribed in OpenMontage tools/_kling/schemas.py):
# multi_shot (bool), shot_type "customize" | "intelligent", multi_prompt [{index, prompt, duration}] of <= 6 shots.
V3_FIELDS = {"multi_shot", "shot_type", "multi_prompt"}
MAX_SHOTS = 6
FIELDS = {
    "text2video": COMMON | V3_FIELDS | {"model_name", "sound", "mode", "camera_control", "aspect_ratio", "duration",
                                        "watermark_info"},
    "image2video": COMMON | V3_FIELDS | {"model_name", "sound", "mode", "camera_control", "duration", "watermark_info",
                                         "image", "image_tail", "static_mask", "dynamic_masks", "voice_list", "aspect_ratio"},
    "video-extend": COMMON | {"video_id"},
}
DURATIONS = {"kling-v2-6": {"5", "10"}, "kling-v3": {str(s) for s in range(3, 16)}}


def envelope(data=None, code: int = 0, message: str = "SUCCEED", status: int = 200, headers=None) -> Reply:
    return Reply(status, {"code": code, "message": message, "request_id": f"req-{time.monotonic_ns()}", "data": data},
                 headers=headers or {})


class FakeKling(Fake):
    route_name = "kling"
    key_names = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")

    def __init__(self, access: str = ACCESS, secret: str = SECRET, **kw):
        self.access, self.secret = access, secret
        super().__init__(key=secret, **kw)

    def env(self) -> dict[str, str]:
        return {**super().env(), "KLING_ACCESS_KEY": self.access, "KLING_SECRET_KEY": self.secret}

    def routes(self) -> None:
        self.route("POST", r"/v1/videos/(?P<family>text2video|image2video|video-extend)")(self._create)
        self.route("GET", r"/v1/videos/(?P<family>text2video|image2video|video-extend)/(?P<id>[^/]+)")(self._get)

    def _auth(self, call: Call) -> Reply | None:
        header = call.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return envelope(code=1000, message="Authorization header missing", status=401)
        token = header[len("Bearer "):]
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

    def _create(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("create", call)):
            return bad
        family = call.match["family"]
        body = call.json()
        if not isinstance(body, dict) or set(body) - FIELDS[family]:
            return envelope(code=1201, message=f"unknown fields {sorted(set(body or {}) - FIELDS[family])}", status=400)
        if not isinstance(body.get("prompt", ""), str) or (family != "video-extend" and not body.get("prompt")):
            return envelope(code=1201, message="prompt is required", status=400)
        source = None
        if family == "video-extend":
            if not isinstance(body.get("video_id"), str):
                return envelope(code=1201, message="video_id is required", status=400)
            # Only a video this account made, named by its video id (not the task id), finished.
            source = next((j for j in self.jobs.values() if f"v{j.id}" == body["video_id"]), None)
            finished = source is not None and source.polls > self.polls_to_finish  # as _get reports `succeed`
            if not finished or source.outcome in ("failed", "empty", "unknown"):
                return envelope(code=1201, message=f"video_id {body['video_id']} is not a finished video of yours",
                                status=400)
        else:
            model = body.get("model_name", "kling-v1")
            if "duration" in body and (not isinstance(body["duration"], str)
                                       or body["duration"] not in DURATIONS.get(model, {"5", "10"})):
                return envelope(code=1201, message="duration must be a string among the allowed values", status=400)
            if body.get("mode", "std") not in ("std", "pro") or body.get("sound", "off") not in ("on", "off"):
                return envelope(code=1201, message="mode or sound invalid", status=400)
            if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
                return envelope(code=1201, message="aspect_ratio invalid", status=400)
            for key in ("image", "image_tail"):
                if key in body and not _raw_base64(body[key]):
                    return envelope(code=1201, message=f"{key} must be a URL or base64 without a data: prefix", status=400)
            if family == "image2video" and "image" not in body:
                return envelope(code=1201, message="image is required", status=400)
            if bad := _multi_shot(body, model):
                return envelope(code=1201, message=bad, status=400)
        ext = body.get("external_task_id")
        if ext and any(j.body.get("external_task_id") == ext for j in self.jobs.values()):
            return envelope(code=1201, message="external_task_id already exists", status=400)
        short = 1080 if body.get("mode") == "pro" else 720
        width, height = size_for(body.get("aspect_ratio", "16:9"), short)
        model = body.get("model_name", "kling-v1")
        # Kling's capability map: v1, v1.5 and v1.6 image-to-video make 30 fps; v1.6 text and v2+ make 24.
        fps = 30 if model in ("kling-v1", "kling-v1-5") or (model == "kling-v1-6" and family == "image2video") else 24
        spec = self.spec(width, height, fps, int(body.get("duration", "5")), audio=body.get("sound") == "on")
        if source is not None and source.spec is not None:  # the extension continues its source: same frame
            spec = self.spec(source.spec.width, source.spec.height, source.spec.fps, source.spec.seconds + 5,
                             audio=source.spec.audio)
        job = self.new_job(body, job_id=str(880000000000000000 + len(self.jobs) + 1), call=call, spec=spec)
        job.extra["family"] = family
        if self.take("answer", call) == "drop":
            return Reply(drop=True)  # the task exists and is billed; the caller never hears
        return envelope(self._data(job, "submitted"))

    def _data(self, job, status: str) -> dict:
        data = {"task_id": job.id, "task_status": status, "task_info": {"external_task_id": job.body.get("external_task_id")},
                "created_at": 1732352400000, "updated_at": 1732352400000}
        if status == "succeed":
            videos = [] if job.outcome == "empty" else [{"id": f"v{job.id}", "url": self.media_url(job), "duration": "5.1"}]
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


def _raw_base64(value) -> bool:
    if not isinstance(value, str) or value.startswith("data:"):
        return False
    if value.startswith("https://"):
        return True
    try:
        base64.b64decode(value, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def _multi_shot(body: dict, model: str) -> str | None:
    """What is wrong with Kling 3.0's multi-shot fields, if anything (None when absent or right)."""
    given = V3_FIELDS & set(body)
    if not given:
        return None
    if not model.startswith("kling-v3"):
        return f"{sorted(given)} are Kling 3.0 fields; {model} takes none"
    if not isinstance(body.get("multi_shot", False), bool):
        return "multi_shot must be a boolean"
    if body.get("shot_type", "customize") not in ("customize", "intelligent"):
        return "shot_type must be customize or intelligent"
    shots = body.get("multi_prompt")
    if shots is None:
        return "multi_prompt is required for customize shots" if body.get("multi_shot") and \
            body.get("shot_type", "customize") == "customize" else None
    if not isinstance(shots, list) or not 1 <= len(shots) <= MAX_SHOTS:
        return f"multi_prompt must list 1 to {MAX_SHOTS} shots"
    for shot in shots:
        if not (isinstance(shot, dict) and isinstance(shot.get("prompt"), str) and shot["prompt"]
                and isinstance(shot.get("duration"), str) and shot["duration"].isdigit()):
            return "each multi_prompt shot needs a prompt and a string duration"
    total = sum(int(shot["duration"]) for shot in shots)
    if "duration" in body and total != int(body["duration"]):
        return f"multi_prompt durations add up to {total}, not the video's {body['duration']}"
    return None
