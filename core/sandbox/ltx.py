"""LTX's async (v2) API as a loopback server: POST /v2/{endpoint} -> 202 {id}, GET /v2/{endpoint}/{id}.

Checks the bearer key and each body strictly (fields, types, allowed values; docs.ltx.video API reference,
checked 2026-12-06): text/image-to-video at LTX-2.3's sizes and 24/25/48/50 fps, 6-10 s (Fast: to 20 s at
1080p and 24/25 fps); extend (2-20 s, mode end|start) and retake (>= 2 s) of a video given as a data URI or
https URL, at least 73 frames, 16:9 or 9:16 for extend. A job reads pending, then processing, then ends.
Media: the resolution, fps and duration asked, with audio unless generate_audio is false; an extension is
the input video plus the new seconds at the input's size and rate; a retake keeps the input's length.

Faults: create: 429 (rate, Retry-After), 429-bare, concurrency (429 concurrency_limit_error), 500, 502, 503,
moderation, credits, drop (the job is made, its answer lost), slow. poll: 429, 429-bare, 500, 502, 503, expired
(404, past the 24 h retention), drop, slow. Outcomes: failed (content_policy_error), failed_text (a bare
error string), no_url (completed without a video URL), unknown (a status it has not documented, then
success). media: truncate, corrupt, expired. LTX-2 Pro / Fast, removed on 2026-08-15, answer 404
"Model ... not found".
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import date
from fractions import Fraction
from typing import Any

from .fake import Fake, is_int
from .loopback import Call, Reply
from .media import Spec, video_shape

MODELS = {"ltx-2-3-pro", "ltx-2-3-fast"}
RESOLUTIONS = {"1920x1080", "2560x1440", "3840x2160", "1080x1920", "1440x2560", "2160x3840"}
LONG = {"1920x1080", "1080x1920"}  # Fast's 12-20 s: only at 1080p, 24 or 25 fps
FIELDS = {
    "text-to-video": {"prompt", "model", "duration", "resolution", "fps", "generate_audio", "camera_motion"},
    "image-to-video": {
        "prompt",
        "model",
        "duration",
        "resolution",
        "fps",
        "generate_audio",
        "camera_motion",
        "image_uri",
    },
    "extend": {"video_uri", "duration", "prompt", "mode", "model", "context"},
    "retake": {"video_uri", "start_time", "duration", "prompt", "mode", "resolution", "model"},
}
VIDEO_DATA_URI_LIMIT = 15 * 1024 * 1024
MIN_FRAMES = 73


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}}, headers=headers or {})


def invalid(message: str) -> Reply:
    return error(400, "invalid_request_error", message)


class FakeLTX(Fake):
    route_name = "ltx"
    # LTX-2 Fast / Pro were removed on 2026-08-15 in favour of LTX-2.3 (docs.ltx.video/ltx-2-deprecation).
    shut_down = {"ltx-2-pro": date(2026, 8, 15), "ltx-2-fast": date(2026, 8, 15)}

    def routes(self) -> None:
        kinds = "|".join(FIELDS)
        self.route("POST", rf"/v2/(?P<kind>{kinds})")(self._create)
        self.route("GET", rf"/v2/(?P<kind>{kinds})/(?P<id>[^/]+)")(self._status)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        kind = "rate_limit_error" if status == 429 else "api_error"
        return error(status, kind, message, headers)

    def _auth(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return error(401, "authentication_error", "Invalid API key")
        return None

    def _fault(self, name: str | None) -> Reply | None:
        if name == "429":
            return error(429, "rate_limit_error", "Rate limit exceeded", {"Retry-After": "3"})
        if name == "concurrency":
            return error(429, "concurrency_limit_error", "Too many concurrent requests", {"Retry-After": "10"})
        if name == "500":
            return error(500, "api_error", "Internal server error")
        if name == "moderation":
            return error(400, "content_policy_error", "The prompt was flagged by content moderation")
        if name == "credits":
            return error(402, "insufficient_credits_error", "Insufficient credits")
        if name == "expired":
            return error(404, "not_found_error", "Job not found")
        return self.op_fault(name)  # 429-bare, 502, 503, drop, slow: in LTX's envelope (error_reply)

    # --- create ------------------------------------------------------------------------
    def _create(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        name = self.take("create", call)
        if name != "drop" and (bad := self._fault(name)):
            return bad
        kind = call.match["kind"]
        body = call.json()
        if not isinstance(body, dict) or set(body) - FIELDS[kind]:
            return invalid(f"Unknown fields: {sorted(set(body or {}) - FIELDS[kind])}")
        if self.gone(str(body.get("model"))):
            return error(404, "not_found_error", f"Model {body['model']} not found")
        if "model" in body and body["model"] not in MODELS:
            return invalid(f"Invalid model: {body['model']!r}")
        checked = self._check_edit(kind, body) if kind in ("extend", "retake") else self._check_generate(kind, body)
        if isinstance(checked, Reply):
            return checked
        job = self.new_job(body, job_id=str(uuid.uuid4()), call=call, spec=checked)
        job.extra["kind"] = kind
        if name == "drop":  # the job was made; only its answer is lost
            return Reply(drop=True)
        return Reply(202, {"id": job.id, "created_at": "2026-12-06T10:00:00.000Z"})

    def _check_generate(self, kind: str, body: dict[str, Any]) -> Spec | Reply:
        problems = []
        if not isinstance(body.get("prompt"), str) or not 1 <= len(body["prompt"]) <= 5000:
            problems.append("prompt")
        if body.get("model") not in MODELS:
            problems.append("model")
        fast = body.get("model") == "ltx-2-3-fast"
        fps = body.get("fps", 24)
        if not is_int(fps) or fps not in (24, 25, 48, 50):
            problems.append("fps")
        resolution = body.get("resolution")
        if not isinstance(resolution, str) or not re.fullmatch(r"\d+x\d+", resolution) or resolution not in RESOLUTIONS:
            problems.append("resolution")
        duration = body.get("duration")
        long_ok = fast and resolution in LONG and fps in (24, 25)
        if not is_int(duration) or duration not in ((6, 8, 10, 12, 14, 16, 18, 20) if long_ok else (6, 8, 10)):
            problems.append("duration")
        if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
            problems.append("generate_audio")
        if kind == "image-to-video" and not str(body.get("image_uri", "")).startswith(("https://", "data:image/")):
            problems.append("image_uri")
        if problems:
            return invalid(f"Invalid values: {', '.join(problems)}")
        assert isinstance(resolution, str) and is_int(duration)  # else a problem above
        width, height = (int(x) for x in resolution.split("x"))
        return self.spec(width, height, fps, duration, audio=body.get("generate_audio", True))

    def _check_edit(self, kind: str, body: dict[str, Any]) -> Spec | Reply:
        if "prompt" in body and (not isinstance(body["prompt"], str) or len(body["prompt"]) > 5000):
            return invalid("Invalid values: prompt")
        shape = self._input_video(body.get("video_uri"))
        if isinstance(shape, Reply):
            return shape
        width, height, fps, seconds = shape
        duration = body.get("duration")
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            return invalid("Invalid values: duration")
        if kind == "extend":
            if not 2 <= duration <= 20:
                return invalid("duration must be between 2 and 20 seconds")
            if body.get("mode", "end") not in ("end", "start"):
                return invalid("Invalid values: mode")
            if width * 9 != height * 16 and height * 9 != width * 16:
                return invalid("Input video must be 16:9 or 9:16")
            return self.spec(width, height, fps, seconds + duration, audio=True)
        start = body.get("start_time")
        if not isinstance(start, (int, float)) or isinstance(start, bool) or start < 0 or duration < 2:
            return invalid("Invalid values: start_time or duration")
        if body.get("mode", "replace_audio_and_video") not in (
            "replace_audio",
            "replace_video",
            "replace_audio_and_video",
        ):
            return invalid("Invalid values: mode")
        resolution = body.get("resolution")
        if resolution is not None:
            if resolution not in RESOLUTIONS:
                return invalid("Invalid values: resolution")
            width, height = (int(x) for x in resolution.split("x"))
        else:  # LTX's default: 1080p in the input's orientation
            width, height = (1920, 1080) if width >= height else (1080, 1920)
        return self.spec(width, height, fps, seconds, audio=True)

    def _input_video(self, uri: object) -> tuple[int, int, Fraction | int, float] | Reply:
        """(width, height, fps, seconds) of a data-URI video (an https URL is trusted as a 1080p, 5 s clip)."""
        if not isinstance(uri, str):
            return invalid("video_uri is required")
        if uri.startswith("https://"):
            return 1920, 1080, 24, 5.0
        m = re.fullmatch(r"data:(video/(?:mp4|quicktime|x-matroska));base64,(.+)", uri, re.S)
        if not m:
            return invalid("video_uri must be an https URL, an ltx:// upload or a data URI of a video")
        if len(uri) > VIDEO_DATA_URI_LIMIT:
            return invalid("video_uri data URI exceeds 15 MB")
        try:
            data = base64.b64decode(m.group(2), validate=True)
        except (binascii.Error, ValueError):
            return invalid("video_uri is not valid base64")
        shape = video_shape(data)
        if shape is None:
            return invalid("video_uri could not be decoded as a video")
        width, height, fps, seconds = shape
        # A take this fake cut short (its media limit) counts as long enough: the real model never makes one.
        least = MIN_FRAMES if self.limit.seconds is None else min(MIN_FRAMES, int(self.limit.seconds * fps))
        if round(seconds * fps) < least:
            return invalid(f"Input video must have at least {MIN_FRAMES} frames")
        return width, height, fps, seconds

    # --- status ------------------------------------------------------------------------
    def _status(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault(self.take("poll", call))):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None or job.extra.get("kind") != call.match["kind"]:
            return error(404, "not_found_error", "Job not found")
        seen = self.advance(job)
        base = {"id": job.id, "created_at": "2026-12-06T10:00:00.000Z"}
        if job.outcome == "unknown" and seen < 1:
            return Reply(200, {**base, "status": "warming_up"})
        if seen < self.polls_to_finish:
            return Reply(200, {**base, "status": "pending" if seen == 0 else "processing"})
        done = {**base, "completed_at": "2026-12-06T10:02:30.000Z"}
        if job.outcome == "failed":
            return Reply(
                200,
                {
                    **done,
                    "status": "failed",
                    "error": {"type": "content_policy_error", "message": "Output flagged by moderation"},
                },
            )
        if job.outcome == "failed_text":
            return Reply(200, {**done, "status": "failed", "error": "Generation failed"})
        if job.outcome == "no_url":
            return Reply(200, {**done, "status": "completed", "result": {}})
        return Reply(200, {**done, "status": "completed", "result": {"video_url": self.media_url(job)}})
