"""MiniMax's video generation V2 API as a loopback server: POST /v2/video_generation,
GET /v2/query/video_generation/{task_id}.

Strict as the service is: Bearer key, the body's fields and nothing else, model MiniMax-H3, a content
array with exactly one non-empty text item and image items `{type: image_url, image_url: {url}, role}`
(https or data URI; keyframe roles and reference roles not mixed; one first and one last frame at most),
an integer duration 5-15, resolution 768P or 2K, a ratio that text-to-video must give and may not make
"adaptive". Media: 24 fps with audio; the ratio's size at the resolution (1366x768, 2560x1440...), or,
with keyframes, the first frame's orientation. Errors in MiniMax's envelope. Faults: create/poll 429,
429-bare, 500, 502, 503, drop, slow; create:balance (402), create:sensitive (422, code 1026); outcomes:
failed, sensitive (failed with 1026), empty (succeeded without a url), expired.
"""

from __future__ import annotations

import base64
import itertools
import struct
from typing import Any

from .fake import Fake, is_int
from .loopback import Call, Reply

MODELS = {"MiniMax-H3"}
FIELDS = {"model", "content", "duration", "resolution", "ratio", "seed", "aigc_watermark", "callback_url"}
RATIOS = {"21:9": (21, 9), "16:9": (16, 9), "4:3": (4, 3), "1:1": (1, 1), "3:4": (3, 4), "9:16": (9, 16)}
SHORT_SIDE = {"768P": 768, "2K": 1440}
KEYFRAMES, REFERENCES = {"first_frame", "last_frame"}, {"reference_image"}


def envelope(status: int, kind: str, message: str, headers: dict[str, Any] | None = None) -> Reply:
    return Reply(
        status,
        {
            "type": "error",
            "error": {"type": kind, "message": message, "http_code": str(status)},
            "request_id": "021785229015510a2c883cf675b9804d",
        },
        headers=headers or {},
    )


def frame(ratio: str, resolution: str) -> tuple[int, int]:
    """The output size: the short side is the resolution, the long side the ratio's (1366x768 at 768P 16:9)."""
    w, h = RATIOS[ratio]
    short = SHORT_SIDE[resolution]
    long = round(short * max(w, h) / min(w, h))
    long += long % 2  # even, as encoders want
    return (long, short) if w >= h else (short, long)


def png_orientation(uri: str) -> str:
    """16:9, 9:16 or 1:1 from a PNG data URI's header (other images: 16:9)."""
    try:
        raw = base64.b64decode(uri.split(",", 1)[1][:64])
        w, h = struct.unpack(">II", raw[16:24])
    except (IndexError, ValueError, struct.error):
        return "16:9"
    return "16:9" if w > h else "9:16" if h > w else "1:1"


class FakeMiniMax(Fake):
    route_name = "minimax"

    def __init__(self, *a: Any, **kw: Any):
        self._task_ids = itertools.count(424010985738629)
        super().__init__(*a, **kw)

    def routes(self) -> None:
        self.route("POST", r"/v2/video_generation")(self._create)
        self.route("GET", r"/v2/query/video_generation/(?P<id>[^/]+)")(self._query)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        kind = {429: "rate_limit_error"}.get(status, "server_error")
        return envelope(status, kind, message, headers)

    def bad_body(self, status: int, message: str) -> Reply:
        return envelope(status, "bad_request_error", f"invalid params, {message} (2013)")

    def auth_refusal(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return envelope(
                401,
                "authorized_error",
                "login fail: Please carry the API secret key in the 'Authorization' field of the request header (1004)",
            )
        return None

    def _create(self, call: Call) -> Reply:
        body = self.checked_create(
            call,
            FIELDS,
            {
                "balance": envelope(402, "insufficient_balance_error", "insufficient balance (1008)"),
                "sensitive": envelope(
                    422, "unprocessable_entity_error", "video description contains sensitive content (1026)"
                ),
            },
        )
        if isinstance(body, Reply):
            return body
        if body.get("model") not in MODELS:
            return envelope(404, "not_found_error", f"model {body.get('model')} not found (2013)")
        content = body.get("content")
        if not isinstance(content, list) or not content:
            return envelope(400, "bad_request_error", "invalid params, content is required (2013)")
        texts = [i for i in content if isinstance(i, dict) and i.get("type") == "text"]
        if len(texts) != 1 or not isinstance(texts[0].get("text"), str) or not texts[0]["text"].strip():
            return envelope(
                400,
                "bad_request_error",
                "invalid params, content must include a non-empty text item (prompt is required) (2013)",
            )
        images = [i for i in content if i not in texts]
        roles = []
        for item in images:
            url = (item.get("image_url") or {}).get("url") if isinstance(item, dict) else None
            if (
                item.get("type") != "image_url"
                or set(item) - {"type", "image_url", "role"}
                or not isinstance(url, str)
                or not url.startswith(("https://", "data:image/", "mm_file://"))
            ):
                return envelope(
                    400, "bad_request_error", "invalid params, content item is not a valid image_url (2013)"
                )
            roles.append(item.get("role") or "first_frame")
        if (
            set(roles) & KEYFRAMES
            and set(roles) & REFERENCES
            or set(roles) - KEYFRAMES - REFERENCES
            or roles.count("first_frame") > 1
            or roles.count("last_frame") > 1
        ):
            return envelope(400, "bad_request_error", f"invalid params, roles {roles} cannot be combined (2013)")
        duration = body.get("duration")
        if not is_int(duration) or not 5 <= duration <= 15:
            return envelope(400, "bad_request_error", "invalid params, duration must be an integer in [5, 15] (2013)")
        if body.get("resolution") not in SHORT_SIDE:
            return envelope(400, "bad_request_error", "invalid params, resolution must be 768P or 2K (2013)")
        ratio = body.get("ratio", "adaptive")
        if ratio != "adaptive" and ratio not in RATIOS:
            return envelope(400, "bad_request_error", f"invalid params, ratio {ratio!r} (2013)")
        keyed = set(roles) & KEYFRAMES
        if ratio == "adaptive" and not keyed:
            return envelope(400, "bad_request_error", "invalid params, text-to-video needs a fixed ratio (2013)")
        if "seed" in body and (not is_int(body["seed"]) or not -1 <= body["seed"] < 2**32):
            return envelope(400, "bad_request_error", "invalid params, seed (2013)")
        if keyed:  # the image sets the frame
            first = next((i for i in images if (i.get("role") or "first_frame") == "first_frame"), images[0])
            ratio = png_orientation(first["image_url"]["url"])
        width, height = frame(ratio, body["resolution"])
        job = self.new_job(
            body, job_id=str(next(self._task_ids)), call=call, spec=self.spec(width, height, 24, duration, audio=True)
        )
        return Reply(200, {"task_id": job.id})

    def _query(self, call: Call) -> Reply:
        job = self.checked_read(call, envelope(400, "bad_request_error", "invalid task_id (2013)"))
        if isinstance(job, Reply):
            return job
        seen = self.advance(job)
        base = {
            "id": job.id,
            "model": job.body["model"],
            "type": "video_generation",
            "resolution": job.body["resolution"],
        }
        if seen < self.polls_to_finish:
            return Reply(200, {"task": {**base, "status": "queued" if seen == 0 else "running"}})
        if job.outcome == "failed":
            return Reply(
                200, {"task": {**base, "status": "failed", "error": {"code": 1000, "message": "internal error"}}}
            )
        if job.outcome == "sensitive":
            return Reply(
                200,
                {
                    "task": {
                        **base,
                        "status": "failed",
                        "error": {"code": 1026, "message": "video contains sensitive content"},
                    }
                },
            )
        if job.outcome == "expired":
            return Reply(200, {"task": {**base, "status": "expired"}})
        content: dict[str, float | str] = {"duration": float(job.spec.seconds) if job.spec else 0.0}
        if job.outcome != "empty":
            content["url"] = self.media_url(job)
        return Reply(200, {"task": {**base, "status": "succeeded", "content": content}})
