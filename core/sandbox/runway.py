"""Runway's API as a loopback server: /v1/{text,image}_to_video, /v1/tasks/{id}, with its faults.

Checks what the real API checks: bearer key, `X-Runway-Version`, camelCase fields per
model, pixel ratios, an integer duration, data-URI size. Models: gen4.5, gen4_turbo (image only),
veo3.1 and veo3.1_fast. Media: 24 fps at the ratio and duration asked; Veo with audio. Outcomes: ok, throttled (a few
THROTTLED polls, then success), safety, bad_output, empty (SUCCEEDED without output).
"""

from __future__ import annotations

import uuid

from .fake import Fake, is_int
from .loopback import Call, Reply

VERSION = "2024-11-06"
T2V_RATIOS = {"1280:720", "720:1280"}
I2V_RATIOS = T2V_RATIOS | {"1104:832", "960:960", "832:1104", "1584:672"}
VEO_RATIOS = {"1280:720", "720:1280", "1080:1920", "1920:1080"}
# model -> (ratios for text_to_video (None: image only), for image_to_video, durations, makes audio)
MODELS = {
    "gen4.5": (T2V_RATIOS, I2V_RATIOS, range(2, 11), False),
    "gen4_turbo": (None, I2V_RATIOS, range(2, 11), False),
    "veo3.1": (VEO_RATIOS, VEO_RATIOS, (4, 6, 8), True),  # Google's Veo, routed through Runway
    "veo3.1_fast": (VEO_RATIOS, VEO_RATIOS, (4, 6, 8), True),
}
FIELDS = {"model", "promptText", "ratio", "duration", "seed", "promptImage", "contentModeration", "audio",
          "negativePrompt"}


def _bad(message: str, status: int = 400) -> Reply:
    return Reply(status, {"error": message}, headers={"x-powered-by": "Express"})


class FakeRunway(Fake):
    route_name = "runway"
    key_names = ("RUNWAYML_API_SECRET",)

    def routes(self) -> None:
        self.route("POST", r"/v1/(?P<kind>text_to_video|image_to_video)")(self._create)
        self.route("GET", r"/v1/tasks/(?P<id>[^/]+)")(self._task)
        self.route("DELETE", r"/v1/tasks/(?P<id>[^/]+)")(self._delete)

    def _check_headers(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            got = call.headers.get("authorization", "")
            return _bad(f"Invalid API secret: {got}", 401)  # echoes what it got, as careless servers do
        if call.headers.get("x-runway-version") != VERSION:
            return _bad("Missing or invalid X-Runway-Version header")
        return None

    def _fault(self, op: str, call: Call) -> Reply | None:
        name = self.take(op, call)
        if name == "429":
            return Reply(429, {"error": "Too many requests"}, headers={"Retry-After": "7"})
        if name == "429-bare":
            return Reply(429, {"error": "Too many requests"})
        if name in ("500", "502", "503"):
            return _bad("Internal error", int(name))
        if name == "credits":
            return _bad("You do not have enough credits to run this task.")
        return self.transport_fault(name)

    def _create(self, call: Call) -> Reply:
        if (bad := self._check_headers(call)) or (bad := self._fault("create", call)):
            return bad
        body = call.json()
        kind = call.match["kind"]
        if not isinstance(body, dict) or set(body) - FIELDS:
            return _bad(f"Unrecognized keys: {sorted(set(body or {}) - FIELDS)}")
        rules = MODELS.get(body.get("model"))
        ratios = None if rules is None else rules[0 if kind == "text_to_video" else 1]
        if ratios is None:
            return _bad(f"Invalid parameter 'model' for {kind}")
        if not isinstance(body.get("promptText"), str) or not 1 <= len(body["promptText"]) <= 1000:
            return _bad("Invalid parameter 'promptText'")
        if body.get("ratio") not in ratios:
            return _bad("Invalid parameter 'ratio'")
        if not is_int(body.get("duration")) or body["duration"] not in rules[2]:
            return _bad("Invalid parameter 'duration'")
        if "audio" in body and (not rules[3] or not isinstance(body["audio"], bool)):
            return _bad("Invalid parameter 'audio'")
        if "seed" in body and not is_int(body["seed"]):
            return _bad("Invalid parameter 'seed'")
        if kind == "text_to_video" and "promptImage" in body:
            return _bad("Unrecognized key 'promptImage'")
        if kind == "image_to_video":
            image = body.get("promptImage")
            uris = [image] if isinstance(image, str) else [i.get("uri") for i in image or [] if isinstance(i, dict)]
            if not uris or not all(isinstance(u, str) and u.startswith(("https://", "data:image/")) for u in uris):
                return _bad("Invalid parameter 'promptImage'")
            if any(len(u) > 5 * 1024 * 1024 for u in uris):
                return _bad("promptImage data URI exceeds 5MB")
            if isinstance(image, list) and [i.get("position") for i in image] not in (["first"], ["first", "last"]):
                return _bad("Invalid parameter 'promptImage': positions must be first, or first and last")
        width, height = (int(x) for x in body["ratio"].split(":"))
        job = self.new_job(body, job_id=str(uuid.uuid4()), call=call,
                           spec=self.spec(width, height, 24, body["duration"], audio=rules[3] and body.get("audio", True)))
        return Reply(200, {"id": job.id})

    def _task(self, call: Call) -> Reply:
        if (bad := self._check_headers(call)) or (bad := self._fault("poll", call)):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return _bad("Task not found", 404)
        seen = self.advance(job)
        base = {"id": job.id, "createdAt": "2026-11-23T09:00:00.000Z"}
        if job.canceled:
            return Reply(200, {**base, "status": "CANCELLED"})
        if job.outcome == "throttled" and seen < 2:
            return Reply(200, {**base, "status": "THROTTLED"})
        if seen < self.polls_to_finish:
            return Reply(200, {**base, "status": "PENDING"} if seen == 0 else {**base, "status": "RUNNING", "progress": 0.5})
        if job.outcome == "safety":
            return Reply(200, {**base, "status": "FAILED", "failure": "Input text failed moderation", "failureCode": "SAFETY.INPUT.TEXT"})
        if job.outcome == "bad_output":
            return Reply(200, {**base, "status": "FAILED", "failure": "Output rejected", "failureCode": "INTERNAL.BAD_OUTPUT.CODE01"})
        if job.outcome == "unknown":
            return Reply(200, {**base, "status": "WARMING_UP"})
        output = [] if job.outcome == "empty" else [self.media_url(job)]
        return Reply(200, {**base, "status": "SUCCEEDED", "output": output})

    def _delete(self, call: Call) -> Reply:
        if bad := self._check_headers(call):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return _bad("Task not found", 404)
        job.canceled = True
        return Reply(204)
