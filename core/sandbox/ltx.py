"""LTX's hosted API as a loopback server: one synchronous POST answering with the MP4 itself.

Checks the bearer key and the body (types and allowed values). Media: the resolution, fps (25
by default) and duration asked, with audio unless generate_audio is false. Faults: 429 (rate, with
Retry-After), concurrency (429 concurrency_limit_error), 500, truncate (the MP4 breaks
off), json (200 without a video), moderation, drop, slow.
"""

from __future__ import annotations

import re
import time

from .fake import Fake, is_int
from .loopback import Call, Reply

MODELS = {"ltx-2-pro", "ltx-2-fast", "ltx-2-3-pro", "ltx-2-3-fast"}
RESOLUTIONS = {"1280x720", "720x1280", "1920x1080", "2560x1440", "3840x2160", "1080x1920", "1440x2560", "2160x3840"}
FIELDS = {"prompt", "model", "duration", "resolution", "fps", "generate_audio", "image_uri", "camera_motion"}


def error(status: int, kind: str, message: str, headers=None) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}}, headers=headers or {})


class FakeLTX(Fake):
    route_name = "ltx"
    key_names = ("LTX_API_KEY",)

    def routes(self) -> None:
        self.route("POST", r"/v1/(?P<kind>text-to-video|image-to-video)")(self._create)

    def _create(self, call: Call) -> Reply:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return error(401, "authentication_error", "Invalid API key")
        name = self.take("create", call)
        if name == "429":
            return error(429, "rate_limit_error", "Rate limit exceeded", {"Retry-After": "3"})
        if name == "concurrency":
            return error(429, "concurrency_limit_error", "Too many concurrent requests", {"Retry-After": "10"})
        if name == "500":
            return error(500, "api_error", "Internal server error")
        if name == "moderation":
            return error(400, "content_policy_error", "The prompt was flagged by content moderation")
        if reply := self.transport_fault(name):
            return reply
        body = call.json()
        if not isinstance(body, dict) or set(body) - FIELDS:
            return error(400, "invalid_request_error", f"Unknown fields: {sorted(set(body or {}) - FIELDS)}")
        problems = []
        if not isinstance(body.get("prompt"), str) or not 1 <= len(body["prompt"]) <= 10000:
            problems.append("prompt")
        if body.get("model") not in MODELS:
            problems.append("model")
        if not is_int(body.get("duration")) or body["duration"] not in (6, 8, 10, 12, 14, 16, 18, 20):
            problems.append("duration")
        if not isinstance(body.get("resolution"), str) or not re.fullmatch(r"\d+x\d+", body["resolution"]) \
                or body["resolution"] not in RESOLUTIONS:
            problems.append("resolution")
        if "fps" in body and (not is_int(body["fps"]) or body["fps"] not in (24, 25, 48, 50)):
            problems.append("fps")
        if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
            problems.append("generate_audio")
        if call.match["kind"] == "image-to-video" and not str(body.get("image_uri", "")).startswith(("https://", "data:image/")):
            problems.append("image_uri")
        if problems:
            return error(400, "invalid_request_error", f"Invalid values: {', '.join(problems)}")
        width, height = (int(x) for x in body["resolution"].split("x"))
        job = self.new_job(body, call=call, spec=self.spec(width, height, body.get("fps", 25), body["duration"],
                                                           audio=body.get("generate_audio", True)))
        if self.latency:  # synchronous: the whole generation happens inside this answer
            time.sleep(self.latency)
        headers = {"Content-Type": "video/mp4", "x-request-id": job.id}
        data = self.job_media(job)
        if name == "truncate":
            return Reply(200, data, headers=headers, truncate_at=len(data) // 3)
        if name == "json":
            return Reply(200, {"status": "ok"}, headers={"x-request-id": job.id})
        return Reply(200, data, headers=headers)
