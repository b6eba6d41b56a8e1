"""xAI's videos API as a loopback server: POST /v1/videos/{generations,edits,extensions}, GET /v1/videos/{id}.

Strict as the service is: Bearer key (a wrong one is answered 400 "Incorrect API key provided", echoing
it, as xAI does), the fields each endpoint takes and nothing else, models grok-imagine-video and
grok-imagine-video-1.5 (1080p only on 1.5), integer durations 1-15 (extensions 2-10), the seven aspect
ratios, inputs as `{url}` objects (https or data URI), a first frame or 1-7 reference images, not both;
an edit's source at most 8.7 s, an extension's 2-15 s.
Media: 24 fps with audio at the size asked; an edit keeps its source's size and length (its source made
here, else 1280x720 for 5 s); an extension is its source plus the new seconds. Faults: create/poll
429, 429-bare, 500, 502, 503, drop, slow; create:credits (429, spending limit); outcomes: moderation (done,
respect_moderation false), failed (status failed with an error), expired, empty (done without a url).
A done answer says what it charged, as xAI's does: `usage.cost_in_usd_ticks` (1 tick is 1e-10 USD), at
`prices` (USD per second of what it made new: a generation's or an extension's duration, an edit's
source), which a test may change to charge other than promptreel's catalog.
"""

from __future__ import annotations

import uuid
from typing import Any

from .fake import Fake, FakeJob, is_int
from .loopback import Call, Reply

MODELS = {"grok-imagine-video": ("480p", "720p"), "grok-imagine-video-1.5": ("480p", "720p", "1080p")}
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "3:4": (3, 4), "3:2": (3, 2), "2:3": (2, 3)}
SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}
# USD per second by model and resolution: the prices the catalog records for xAI ([3P] there).
PRICES = {
    "grok-imagine-video": {"480p": 0.05, "720p": 0.07},
    "grok-imagine-video-1.5": {"480p": 0.08, "720p": 0.14, "1080p": 0.25},
}
TICKS_PER_USD = 10**10
FIELDS = {
    "generations": {
        "model",
        "prompt",
        "duration",
        "aspect_ratio",
        "resolution",
        "image",
        "reference_images",
        "output",
        "user",
        "size",
    },
    "edits": {"model", "prompt", "video", "output", "user"},
    "extensions": {"model", "prompt", "video", "duration", "output", "user"},
}


def _error(status: int, message: str, headers: dict[str, Any] | None = None) -> Reply:
    return Reply(status, {"code": "Client specified an invalid argument", "error": message}, headers=headers or {})


def frame(aspect: str, resolution: str) -> tuple[int, int]:
    """The output size for an aspect at a resolution: the short side is the resolution (848x480 at 480p 16:9)."""
    w, h = ASPECTS[aspect]
    short = SHORT_SIDE[resolution]
    long = short * max(w, h) // min(w, h) // 16 * 16  # down to a multiple of 16 px: 848x480
    return (long, short) if w >= h else (short, long)


class FakeXAI(Fake):
    route_name = "xai"

    def __init__(self, *args: Any, **kw: Any):
        self.prices = {model: dict(by_resolution) for model, by_resolution in PRICES.items()}
        super().__init__(*args, **kw)

    def routes(self) -> None:
        self.route("POST", r"/v1/videos/(?P<kind>generations|edits|extensions)", op=None)(self._create)
        self.route("GET", r"/v1/videos/(?P<id>[^/]+)", op=None)(self._get)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        return _error(status, message, headers)

    def bad_body(self, status: int, message: str) -> Reply:
        return _error(status, message)

    def auth_refusal(self, call: Call) -> Reply | None:
        got = call.headers.get("authorization", "")
        if got != f"Bearer {self.key}":
            return _error(
                400,
                f"Incorrect API key provided: {got.removeprefix('Bearer ')}. You can obtain an API key "
                "from https://console.x.ai.",
            )
        return None

    def _create(self, call: Call) -> Reply:
        kind = call.match["kind"]
        body = self.checked_create(
            call,
            FIELDS[kind],
            {
                "credits": _error(
                    429, "Your team has either used all available credits or reached its monthly spending limit."
                )
            },
            not_object=422,
            unknown=422,
        )
        if isinstance(body, Reply):
            return body
        model = body.get("model")
        if model not in MODELS:
            return Reply(
                404,
                {
                    "code": "Some requested entity was not found",
                    "error": f"The model {model} does not exist or your team does not have access to it.",
                },
            )
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            return _error(422, "prompt is required")
        if kind == "generations":
            return self._generate(call, body)
        source = self._source(body.get("video"), "video")
        if isinstance(source, Reply):
            return source
        width, height, seconds = source
        if kind == "edits" and seconds > 8.7:
            return _error(400, "the input video for an edit can be at most 8.7 seconds long")
        if kind == "extensions" and not 2 <= seconds <= 15:
            return _error(400, "the input video for an extension must be 2 to 15 seconds long")
        if kind == "extensions":
            duration = body.get("duration", 6)
            if not is_int(duration) or not 2 <= duration <= 10:
                return _error(400, "duration must be an integer between 2 and 10 for extensions")
            return self._accept(body, call, width, height, seconds + duration, billed=duration)
        return self._accept(body, call, width, height, seconds)

    def _generate(self, call: Call, body: dict[str, Any]) -> Reply:
        duration = body.get("duration", 8)
        if not is_int(duration) or not 1 <= duration <= 15:
            return _error(400, "duration must be an integer between 1 and 15")
        aspect, resolution = body.get("aspect_ratio", "16:9"), body.get("resolution", "480p")
        if aspect not in ASPECTS:
            return _error(400, f"invalid aspect_ratio {aspect!r}")
        if resolution not in MODELS[body["model"]]:
            return _error(400, f"resolution {resolution!r} is not supported for {body['model']}")
        if "image" in body and "reference_images" in body:
            return _error(400, "image and reference_images cannot be used together")
        if "image" in body and isinstance(bad := self._image(body["image"]), Reply):
            return bad
        refs = body.get("reference_images")
        if refs is not None:
            if not isinstance(refs, list) or not 1 <= len(refs) <= 7:
                return _error(400, "reference_images takes 1 to 7 images")
            for ref in refs:
                if isinstance(bad := self._image(ref), Reply):
                    return bad
        width, height = frame(aspect, resolution)
        return self._accept(body, call, width, height, duration)

    @staticmethod
    def _image(value: object) -> Reply | None:
        url = value.get("url") if isinstance(value, dict) and set(value) <= {"url", "detail"} else None
        if not isinstance(url, str) or not url.startswith(("https://", "data:image/")):
            return _error(400, "image.url must be an https URL or a data:image URI")
        return None

    def _source(self, value: object, what: str) -> tuple[int, int, int] | Reply:
        """(width, height, seconds) of the source video, or the refusal."""
        url = value.get("url") if isinstance(value, dict) and set(value) == {"url"} else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://", "data:video/mp4;base64,")):
            return _error(400, f"{what}.url must be a URL or a data:video/mp4 URI")
        made_here = url.startswith(self.cdn.url + "/media/")
        if made_here:
            job = self.jobs.get(url.rsplit("/", 1)[-1].removesuffix(".mp4"))
            if job is None or job.spec is None:
                return _error(400, "the source video could not be downloaded")
            return job.spec.width, job.spec.height, int(job.spec.seconds)
        return 1280, 720, 5

    def _accept(
        self, body: dict[str, Any], call: Call, width: int, height: int, seconds: int, billed: float | None = None
    ) -> Reply:
        job = self.new_job(
            body, job_id=str(uuid.uuid4()), call=call, spec=self.spec(width, height, 24, seconds, audio=True)
        )
        job.extra["billed_seconds"] = seconds if billed is None else billed
        return Reply(200, {"request_id": job.id})

    def _get(self, call: Call) -> Reply:
        job = self.checked_read(
            call, Reply(404, {"code": "Some requested entity was not found", "error": "Request not found"})
        )
        if isinstance(job, Reply):
            return job
        seen = self.advance(job)
        if seen < self.polls_to_finish:
            return Reply(202, {"status": "pending", "progress": 50 if seen else 0})
        model = job.body["model"]
        if job.outcome == "expired":
            return Reply(200, {"status": "expired"})
        if job.outcome == "failed":
            return Reply(
                200,
                {
                    "status": "failed",
                    "model": model,
                    "error": {"code": "internal_error", "message": "Video generation failed"},
                },
            )
        video = {
            "url": "" if job.outcome == "empty" else self.media_url(job),
            "duration": int(job.spec.seconds) if job.spec else 0,
            "respect_moderation": job.outcome != "moderation",
        }
        return Reply(
            200,
            {
                "status": "done",
                "model": model,
                "video": video,
                "progress": 100,
                "usage": {"cost_in_usd_ticks": self.charge_ticks(job)},
            },
        )

    def charge_ticks(self, job: FakeJob) -> int:
        """What a job cost, in xAI's ticks: its billed seconds at the price of its model and resolution."""
        assert job.spec is not None  # every job of this fake is made with its spec (_accept)
        short = min(job.spec.width, job.spec.height)
        resolution = min(
            (r for r, side in SHORT_SIDE.items() if side >= short), key=lambda r: SHORT_SIDE[r], default="1080p"
        )
        usd: float = self.prices[job.body["model"]].get(resolution, 0.0) * job.extra["billed_seconds"]
        return round(usd * TICKS_PER_USD)
