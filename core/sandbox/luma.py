"""Luma's Agents API (Ray 3.2 video) as a loopback server: POST /v1/generations, GET /v1/generations/{id}.

Strict as the SDK's types say the service is (luma-agents 0.5.0): Bearer key, the create's fields and
nothing else, `type` video or video_edit with model ray-3.2, `video` options by name (duration 5s | 10s,
resolution 360p-1080p), media references naming exactly one of url / data (+ media_type) / generation_id
/ file_id, keyframes 1-64 with parallel unique indexes on the 24 fps grid and not with start/end frames,
start/end frames not at 10 s, a generation_id that names a finished video of this caller, an edit's
source a video (at most 18 s) and no duration. Media: 24 fps, no audio, at the aspect and resolution
asked; an extension is the new 5 s; an edit keeps its source's size and length. Faults: create/poll 429,
429-bare, 500, 502, 503, drop, slow; create:budget (402); outcomes: moderated, failed, budget, empty.
"""

from __future__ import annotations

import uuid
from fractions import Fraction
from typing import Any

from .fake import Fake, FakeJob
from .loopback import Call, Reply

FIELDS = {
    "prompt",
    "aspect_ratio",
    "image_ref",
    "layering",
    "model",
    "output_format",
    "source",
    "style",
    "type",
    "user_id",
    "video",
    "web_search",
}
VIDEO_FIELDS = {
    "duration",
    "edit",
    "end_frame",
    "exr_export",
    "guide_frame",
    "hdr",
    "keyframe_indexes",
    "keyframes",
    "loop",
    "resolution",
    "source_position",
    "start_frame",
}
REF_FIELDS = {"url", "data", "media_type", "generation_id", "file_id"}
ASPECTS = {
    "21:9": (21, 9),
    "16:9": (16, 9),
    "4:3": (4, 3),
    "3:2": (3, 2),
    "1:1": (1, 1),
    "3:4": (3, 4),
    "2:3": (2, 3),
    "9:16": (9, 16),
}
SHORT_SIDE = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}
OUTCOME_FAILURES = {
    "moderated": ("content_moderated", "The prompt was flagged by content moderation"),
    "failed": ("generation_failed", "Generation failed"),
    "budget": ("budget_exhausted", "Credit budget exhausted"),
}


def _error(status: int, message: str, headers: dict[str, Any] | None = None) -> Reply:
    return Reply(
        status,
        {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "api_error"}},
        headers=headers or {},
    )


def frame(aspect: str, resolution: str) -> tuple[int, int]:
    """The output size: the short side is the resolution (1280x720 at 720p 16:9), the long side even."""
    w, h = ASPECTS[aspect]
    short = SHORT_SIDE[resolution]
    long = short * max(w, h) // min(w, h) // 2 * 2
    return (long, short) if w >= h else (short, long)


class FakeLuma(Fake):
    route_name = "luma"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"  # the SDK's base URL ends in /v1

    def routes(self) -> None:
        self.route("POST", r"/v1/generations")(self._create)
        self.route("GET", r"/v1/generations/(?P<id>[^/]+)")(self._get)

    def error_reply(self, status: int, message: str, headers: dict[str, str]) -> Reply:
        return _error(status, message, headers)

    def bad_body(self, status: int, message: str) -> Reply:
        return _error(status, message)

    def auth_refusal(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return _error(401, "Invalid or missing API key")
        return None

    def _ref(self, ref: object, where: str, video: bool = False) -> Reply | FakeJob | None:
        """Refusal, or the generation it names (None for url / data / file refs)."""
        if not isinstance(ref, dict) or set(ref) - REF_FIELDS:
            return _error(400, f"{where}: not a media reference")
        named = [k for k in ("url", "data", "generation_id", "file_id") if ref.get(k) is not None]
        if len(named) != 1:
            return _error(400, f"{where}: provide exactly one of url, data, generation_id or file_id")
        if "data" in named and not ref.get("media_type"):
            return _error(400, f"{where}: media_type is required with data")
        kind = "video/" if video else "image/"
        if ("data" in named or ("url" in named and video)) and not str(ref.get("media_type", "")).startswith(kind):
            return _error(400, f"{where}: media_type must be {kind}*")
        if "generation_id" in named:
            earlier: FakeJob | None = self.jobs.get(ref["generation_id"])
            if (
                earlier is None
                or earlier.body.get("type") not in ("video", "video_edit")
                or earlier.polls <= self.polls_to_finish
            ):
                return _error(400, f"{where}: generation {ref['generation_id']} is not a finished video of yours")
            return earlier
        return None

    def _create(self, call: Call) -> Reply:  # noqa: C901 - Luma's create validation, rule for rule
        body = self.checked_create(
            call, FIELDS, {"budget": _error(402, "Insufficient credits: your credit budget is exhausted")}
        )
        if isinstance(body, Reply):
            return body
        if body.get("model") != "ray-3.2":
            return _error(404, f"model {body.get('model')!r} not found")
        if body.get("type") not in ("video", "video_edit"):
            return _error(400, f"type {body.get('type')!r} is not served here")
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            return _error(400, "prompt is required")
        video = body.get("video") or {}
        if not isinstance(video, dict) or set(video) - VIDEO_FIELDS:
            return _error(400, f"video: unknown fields {sorted(set(video) - VIDEO_FIELDS)}")
        resolution = video.get("resolution", "720p")
        if resolution not in SHORT_SIDE:
            return _error(400, "video.resolution must be one of 360p, 540p, 720p, 1080p")
        if body["type"] == "video_edit":
            return self._edit(call, body, video, resolution)
        if "source" in body:
            return _error(400, "source is only for video_edit and video_reframe")
        duration = video.get("duration", "5s")
        if duration not in ("5s", "10s"):
            return _error(400, "video.duration must be 5s or 10s")
        seconds = int(duration[:-1])
        aspect = body.get("aspect_ratio", "16:9")
        if aspect not in ASPECTS:
            return _error(400, f"aspect_ratio {aspect!r} is not valid for ray-3.2")
        legacy = [k for k in ("start_frame", "end_frame") if k in video]
        if legacy and seconds == 10:
            return _error(400, "start_frame / end_frame do not support 10s; use keyframes")
        if "keyframes" in video or "keyframe_indexes" in video:
            if legacy or video.get("loop"):
                return _error(400, "keyframes are mutually exclusive with start_frame / end_frame / loop")
            frames, at = video.get("keyframes"), video.get("keyframe_indexes")
            if (
                not isinstance(frames, list)
                or not isinstance(at, list)
                or not 1 <= len(frames) <= 64
                or len(frames) != len(at)
                or len(set(at)) != len(at)
                or not all(isinstance(i, int) and 0 <= i <= seconds * 24 for i in at)
            ):
                return _error(
                    400, "keyframes and keyframe_indexes must be parallel, unique, on the duration x 24fps grid"
                )
            for i, ref in enumerate(frames):
                if isinstance(refused := self._ref(ref, f"video.keyframes[{i}]"), Reply):
                    return refused
        for key in legacy:
            if isinstance(refused := self._ref(video[key], f"video.{key}"), Reply):
                return refused
        width, height = frame(aspect, resolution)
        return self._accept(body, call, width, height, seconds)

    def _edit(self, call: Call, body: dict[str, Any], video: dict[str, Any], resolution: str) -> Reply:
        if "duration" in video or "keyframes" in video:
            return _error(400, "video_edit output duration matches the source; duration is not accepted")
        source = self._ref(body.get("source"), "source", video=True)
        if isinstance(source, Reply):
            return source
        if source is not None and source.spec is not None:  # a finished generation of this fake has a spec
            width, height, seconds = source.spec.width, source.spec.height, source.spec.seconds
        else:
            (width, height), seconds = frame(body.get("aspect_ratio", "16:9"), resolution), Fraction(5)
        if seconds > 18:
            return _error(400, "the source video must be 18 seconds or shorter")
        return self._accept(body, call, width, height, seconds)

    def _accept(self, body: dict[str, Any], call: Call, width: int, height: int, seconds: Fraction | int) -> Reply:
        job = self.new_job(body, job_id=str(uuid.uuid4()), call=call, spec=self.spec(width, height, 24, seconds))
        return Reply(201, self._generation(job, "queued"))

    def _generation(self, job: FakeJob, state: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": job.id,
            "created_at": "2026-12-06T09:00:00Z",
            "model": job.body["model"],
            "state": state,
            "type": job.body["type"],
            **extra,
        }

    def _get(self, call: Call) -> Reply:
        job = self.checked_read(call, _error(404, "Generation not found"))
        if isinstance(job, Reply):
            return job
        seen = self.advance(job)
        if seen < self.polls_to_finish:
            return Reply(200, self._generation(job, "queued" if seen == 0 else "processing"))
        if job.outcome in OUTCOME_FAILURES:
            code, reason = OUTCOME_FAILURES[job.outcome]
            return Reply(200, self._generation(job, "failed", failure_code=code, failure_reason=reason))
        output = [] if job.outcome == "empty" else [{"type": "video", "url": self.media_url(job)}]
        return Reply(200, self._generation(job, "completed", output=output))
