"""fal's queue API as a loopback server: submit to /{model_id}[/{subpath}], status and result URLs
under /{owner}/{app}/requests/{id} (no sub-path, as the real queue does), cancel by PUT.

Validates `Authorization: Key`, and the body per endpoint (veo3.1 text, image-to-video,
first-last-frame; veo3.1/fast text and first-last-frame; sora-2 text and image-to-video, with
integer durations; kling-video/v3 standard and pro text-to-video, with string durations; Google's
gemini-omni-flash text, image-to-video and reference-to-video, 720p, integer 3-10 s). Media: 24 fps
(Sora 30) at the aspect, resolution (Kling: the app's) and duration asked, with audio unless
generate_audio is false. Outcomes: ok, moderation (result 422 content_policy_violation),
runner (result 500 with X-Fal-Error-Type), empty (no video), unknown (odd status).
Faults: 429, 500 (runner_scheduling_failure), locked (403 exhausted balance), drop, slow.
Status answers carry `logs` (a list with ?logs=1, else null) past IN_QUEUE, and `metrics` when COMPLETED,
as fal-client reads them. The Sora apps answer 404 "Model not found" from the Sora API's shutdown.
fal's Platform API (model listing with OpenAPI schemas, pricing) is served under /v1 (see fal_platform.py),
and the apps it lists beyond the tables below run too, validated against their listed schemas.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from . import fal_platform as platform
from .fake import Fake, FakeJob, is_int, size_for
from .loopback import Call, Reply
from .media import Spec

Rule = type | tuple[object, ...]  # the type a value has, or the values allowed
VEO_COMMON: dict[str, Rule] = {
    "prompt": str,
    "aspect_ratio": ("auto", "16:9", "9:16"),
    "duration": ("4s", "6s", "8s"),
    "resolution": ("720p", "1080p", "4k"),
    "generate_audio": bool,
    "negative_prompt": str,
    "seed": int,
    "enhance_prompt": bool,
    "auto_fix": bool,
}
SORA_COMMON: dict[str, Rule] = {
    "prompt": str,
    "resolution": ("720p",),
    "aspect_ratio": ("16:9", "9:16"),
    "duration": (4, 8, 12, 16, 20),
    "delete_video": bool,
    "model": ("sora-2", "sora-2-2025-12-08", "sora-2-2025-10-06"),
    "detect_and_block_ip": bool,
    "character_ids": list,
}
KLING_V3: dict[str, Rule] = {
    "prompt": str,
    "duration": tuple(str(s) for s in range(3, 16)),
    "multi_prompt": list,
    "generate_audio": bool,
    "shot_type": ("customize", "intelligent"),
    "aspect_ratio": ("16:9", "9:16", "1:1"),
    "negative_prompt": str,
    "cfg_scale": float,
}
OMNI: dict[str, Rule] = {"prompt": str, "aspect_ratio": ("16:9", "9:16"), "duration": tuple(range(3, 11))}
SCHEMAS: dict[str, dict[str, Rule]] = {
    "fal-ai/veo3.1": VEO_COMMON,
    "fal-ai/veo3.1/image-to-video": {**VEO_COMMON, "image_url": str},
    "fal-ai/veo3.1/first-last-frame-to-video": {**VEO_COMMON, "first_frame_url": str, "last_frame_url": str},
    "fal-ai/veo3.1/fast": VEO_COMMON,
    "fal-ai/veo3.1/fast/first-last-frame-to-video": {**VEO_COMMON, "first_frame_url": str, "last_frame_url": str},
    "fal-ai/sora-2/text-to-video": SORA_COMMON,
    "fal-ai/sora-2/image-to-video": {
        **SORA_COMMON,
        "resolution": ("auto", "720p"),
        "aspect_ratio": ("auto", "16:9", "9:16"),
        "duration": (4, 8, 12),
        "image_url": str,
    },
    "fal-ai/kling-video/v3/standard/text-to-video": KLING_V3,
    "fal-ai/kling-video/v3/pro/text-to-video": KLING_V3,
    "google/gemini-omni-flash": OMNI,
    "google/gemini-omni-flash/image-to-video": {**OMNI, "image_url": str},
    "google/gemini-omni-flash/reference-to-video": {**OMNI, "image_urls": list},
}
REQUIRED = {
    "fal-ai/veo3.1/image-to-video": ("image_url",),
    "fal-ai/veo3.1/first-last-frame-to-video": ("first_frame_url", "last_frame_url"),
    "fal-ai/veo3.1/fast/first-last-frame-to-video": ("first_frame_url", "last_frame_url"),
    "fal-ai/sora-2/image-to-video": ("image_url",),
    "google/gemini-omni-flash/image-to-video": ("image_url",),
    "google/gemini-omni-flash/reference-to-video": ("image_urls",),
}
# What each app makes where the body does not say: Sora 30 fps with sound at 720p; Kling's pro app
# 1080p and its standard app 720p (no resolution field), 24 fps; Veo 24 fps at the resolution asked.
FPS = {"fal-ai/sora-2": 30}
SHORT_SIDE = {"fal-ai/kling-video/v3/pro/text-to-video": 1080}
DEFAULT_SECONDS = {"fal-ai/sora-2": 4, "fal-ai/kling-video": 5}


def detail(status: int, text: str, error_type: str | None = None) -> Reply:
    headers = {"X-Fal-Error-Type": error_type} if error_type else {}
    body = {"detail": text, **({"error_type": error_type} if error_type else {})}
    return Reply(status, body, headers=headers)


def validation(loc: str, msg: str, kind: str) -> Reply:
    return Reply(422, {"detail": [{"loc": ["body", loc], "msg": msg, "type": kind}]})


class FakeFal(Fake):
    route_name = "fal"
    # fal's Sora apps ran on OpenAI's Sora API, shut down 2026-09-24; since then they answer "model not found".
    shut_down = {app: date(2026, 9, 24) for app in ("fal-ai/sora-2/text-to-video", "fal-ai/sora-2/image-to-video")}

    def env(self) -> dict[str, str]:
        return {**super().env(), "PROMPTREEL_FAL_API_BASE_URL": self.url + "/v1"}

    def routes(self) -> None:
        self.route("GET", r"/v1/models")(self._models)
        self.route("GET", r"/v1/models/pricing")(self._pricing)
        self.route("POST", r"/v1/models/pricing/estimate")(self._estimate)
        app = r"/(?P<app>(?:fal-ai|google)/[^/]+)/requests/(?P<id>[0-9a-f-]+)"
        self.route("GET", app + r"/status")(self._status)
        self.route("PUT", app + r"/cancel")(self._cancel)
        self.route("GET", app)(self._result)
        self.route("POST", r"/(?P<model>(?:fal-ai|google)/.+)")(self._submit)

    def _auth(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Key {self.key}":
            return detail(401, "Invalid key authorization header")
        return None

    def _models(self, call: Call) -> Reply:
        # The listing takes no key, but a wrong one is refused (a key grants higher rate limits).
        if "authorization" in call.headers and (bad := self._auth(call)):
            return bad
        return platform.serve_models(call, SCHEMAS)

    def _pricing(self, call: Call) -> Reply:
        return self._auth(call) or platform.serve_pricing(call)

    def _estimate(self, call: Call) -> Reply:
        return self._auth(call) or platform.serve_estimate(call)

    def _submit_listed(self, call: Call, model: str) -> Reply:
        """An app the Platform API lists (not in the tables above): its body checked against the listed schema."""
        body = call.json()
        if not isinstance(body, dict):
            return validation("", "body must be an object", "type_error")
        if (wrong := platform.check_body(model, body)) is not None:
            key, _, msg = wrong.partition(": ")
            return validation(key, msg, "value_error")
        fps, short, aspect, seconds = platform.made(model, body)
        width, height = size_for(aspect, short)
        return self._queued(call, model, body, self.spec(width, height, fps, seconds))

    def _queued(self, call: Call, model: str, body: dict[str, Any], spec: Spec) -> Reply:
        """Make the job and answer as the queue does: its id and the URLs to follow it by."""
        app = "/".join(model.split("/")[:2])  # the queue addresses owner/app, never the sub-path
        job = self.new_job(body, job_id=str(uuid.uuid4()), call=call, spec=spec)
        job.extra["app"] = app
        base = f"{self.url}/{app}/requests/{job.id}"
        return Reply(
            200,
            {
                "request_id": job.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": 0,
            },
        )

    def _fault(self, op: str, call: Call) -> Reply | None:
        name = self.take(op, call)
        if name == "429":
            return Reply(429, {"detail": "Too many requests"}, headers={"Retry-After": "2"})
        if name == "500":
            return detail(503, "Could not schedule a runner", "runner_scheduling_failure")
        if name == "locked":
            return detail(
                403, "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
            )
        return self.transport_fault(name)

    def _submit(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("create", call)):
            return bad
        model = call.match["model"]
        if self.gone(model):
            return detail(404, "Model not found")
        if model in platform.APPS:
            return self._submit_listed(call, model)
        if model not in SCHEMAS:
            return detail(404, f"Application {model} not found")
        body = call.json()
        schema = SCHEMAS[model]
        if not isinstance(body, dict):
            return validation("", "body must be an object", "type_error")
        for key, value in body.items():
            rule = schema.get(key)
            if rule is None:
                return validation(key, "Extra inputs are not permitted", "extra_forbidden")
            ok = (
                value in rule and type(value) is type(rule[0])
                if isinstance(rule, tuple)
                else (is_int(value) if rule is int else isinstance(value, rule))
            )
            if not ok:
                return validation(key, f"Input should be valid: {value!r}", "value_error")
        for key in ("prompt", *REQUIRED.get(model, ())):
            if key not in body:
                return validation(key, "Field required", "missing")
        app = "/".join(model.split("/")[:2])  # the queue addresses owner/app, never the sub-path
        short = SHORT_SIDE.get(model) or {"1080p": 1080, "4k": 2160}.get(body.get("resolution", "720p"), 720)
        aspect = body.get("aspect_ratio", "16:9")
        width, height = size_for("16:9" if aspect == "auto" else aspect, short)
        seconds = int(str(body.get("duration", DEFAULT_SECONDS.get(app, "8s"))).rstrip("s"))
        spec = self.spec(width, height, FPS.get(app, 24), seconds, audio=body.get("generate_audio", True))
        return self._queued(call, model, body, spec)

    def _job(self, call: Call) -> FakeJob | None:
        job = self.jobs.get(call.match["id"])
        return job if job is not None and job.extra["app"] == call.match["app"] else None

    def _state(self, job: FakeJob) -> str:
        if job.canceled:
            return "CANCELED"  # third-party schemas of the queue API; fal's own pages name only the three below
        if job.polls <= self.polls_to_finish:
            return "IN_QUEUE" if job.polls <= 1 else "IN_PROGRESS"
        return "WARMING" if job.outcome == "unknown" else "COMPLETED"

    def _status(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("poll", call)):
            return bad
        job = self._job(call)
        if job is None:
            return detail(404, "Request not found")
        self.advance(job)
        state = self._state(job)
        base = f"{self.url}/{job.extra['app']}/requests/{job.id}"
        body: dict[str, Any] = {"status": state, "request_id": job.id, "response_url": base}
        if state == "IN_QUEUE":
            body["queue_position"] = 0
        else:
            # fal-client reads `logs` on IN_PROGRESS and COMPLETED (fal_client/client.py _parse_status): a list
            # when the status was asked with ?logs=1, else null; COMPLETED carries `metrics` too.
            asked = (call.query.get("logs") or ["0"])[0].lower() in ("1", "true")
            body["logs"] = (
                [
                    {
                        "message": f"step {job.polls}",
                        "level": "INFO",
                        "source": "user",
                        "timestamp": "2026-12-06T00:00:00Z",
                    }
                ]
                if asked
                else None
            )
            if state == "COMPLETED":
                body["metrics"] = {"inference_time": 1.0}
        return Reply(202 if state != "COMPLETED" else 200, body)

    def _result(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("result", call)):
            return bad
        job = self._job(call)
        if job is None:
            return detail(404, "Request not found")
        if self._state(job) != "COMPLETED":
            return detail(400, "Request is still in progress")
        if job.outcome == "moderation":
            return validation(
                "prompt",
                "The content could not be processed because it contained material flagged by a content checker.",
                "content_policy_violation",
            )
        if job.outcome == "runner":
            return detail(500, "Runner disconnected", "runner_disconnected")
        if job.outcome == "empty":
            return Reply(200, {"video": None, "seed": 1})
        return Reply(
            200,
            {
                "video": {
                    "url": self.media_url(job),
                    "content_type": "video/mp4",
                    "file_name": "output.mp4",
                    "file_size": 40000,
                },
                "seed": 1,
            },
        )

    def _cancel(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        job = self._job(call)
        if job is None:
            return detail(404, "Request not found")
        if self._state(job) == "COMPLETED":
            return Reply(400, {"status": "ALREADY_COMPLETED"})
        job.canceled = True
        return Reply(202, {"status": "CANCELLATION_REQUESTED"})
