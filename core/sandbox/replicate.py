"""Replicate's API as a loopback server: official-model predictions, polling, listing, cancel.

Validates the bearer token, the `{"input": ...}` body against each hosted model's schema
(names and types), and honours `Prefer: wait=N`. Media as each hosted model makes it (Veo and
Runway 24 fps, Sora 30 fps; Veo and Sora with audio). Outcomes: ok, instant (done within the
wait), failed, nsfw, aborted, empty, unknown. Faults: 429 (Retry-After), 422, 402, 500,
drop, slow. Errors are problem JSON.

The Files API as the SDK uses it: `POST /v1/files` takes multipart/form-data with the file in a
`content` part (a filename on it, or a `filename` field, at most 255 bytes), optional `type` and
`metadata` (JSON) fields and nothing else, and answers 201 with the file object; `GET /v1/files/{id}`.
A prediction's input may name a file only by a URL this fake gave out, and data URLs only up to 256 KB.
The model listing (collections, QUERY search, one model with its latest version's openapi_schema) is in
replicate_listing.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from . import replicate_listing as listing
from .fake import Fake, FakeJob, is_int, size_for
from .loopback import Call, Reply
from .media import Spec, multipart

STR, INT, BOOL, LIST = "str", "int", "bool", "list"
Rule = str | tuple[object, ...]  # a type name (CHECKS), or the values allowed
SCHEMAS: dict[str, dict[str, Rule]] = {
    "google/veo-3.1": {
        "prompt": STR,
        "duration": (4, 6, 8),
        "aspect_ratio": ("16:9", "9:16"),
        "resolution": ("720p", "1080p"),
        "image": STR,
        "last_frame": STR,
        "reference_images": LIST,
        "negative_prompt": STR,
        "generate_audio": BOOL,
        "seed": INT,
    },
    "openai/sora-2": {
        "prompt": STR,
        "seconds": (4, 8, 12),
        "aspect_ratio": ("portrait", "landscape"),
        "input_reference": STR,
        "openai_api_key": STR,
    },
    "openai/sora-2-pro": {
        "prompt": STR,
        "seconds": (4, 8, 12),
        "aspect_ratio": ("portrait", "landscape"),
        "resolution": ("standard", "high"),
        "input_reference": STR,
        "openai_api_key": STR,
    },
    "runwayml/gen-4.5": {
        "prompt": STR,
        "duration": tuple(range(2, 11)),
        "aspect_ratio": ("16:9", "9:16", "4:3", "3:4", "1:1", "21:9"),
        "image": STR,
        "seed": INT,
    },
}
SCHEMAS.update(listing.EXTRA)
DATA_URL_LIMIT = 256 * 1024
FILE_FIELDS = {"filename", "type", "metadata"}
CHECKS: dict[str, Callable[[object], bool]] = {
    STR: lambda v: isinstance(v, str),
    INT: is_int,
    BOOL: lambda v: isinstance(v, bool),
    LIST: lambda v: isinstance(v, list),
}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status,
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        headers={"Content-Type": "application/problem+json", **(headers or {})},
    )


def validate(schema: dict[str, Rule], data: dict[str, Any]) -> list[str]:
    out = [f"{k}: Additional property is not allowed" for k in data if k not in schema]
    for key, rule in schema.items():
        if key not in data:
            continue
        ok = (
            data[key] in rule and type(data[key]) is type(rule[0])
            if isinstance(rule, tuple)
            else CHECKS[rule](data[key])
        )
        if not ok:
            out.append(f"{key}: invalid value {data[key]!r}")
    if not isinstance(data.get("prompt"), str):
        out.append("prompt: required")
    return out


class FakeReplicate(Fake):
    route_name = "replicate"
    # OpenAI's Sora models ran on its Sora API, shut down 2026-09-24; since then they answer "not found".
    shut_down = {m: date(2026, 9, 24) for m in ("openai/sora-2", "openai/sora-2-pro")}

    def __init__(self, *args: Any, **kw: Any):
        self.files: dict[str, dict[str, Any]] = {}  # file id -> the file object given out
        super().__init__(*args, **kw)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"  # the SDK's form

    def reset(self) -> None:
        super().reset()
        self.files.clear()

    def routes(self) -> None:
        self.route("POST", r"/v1/files")(self._upload)
        self.route("GET", r"/v1/files/(?P<id>[^/]+)")(self._file)
        self.route("GET", r"/v1/collections/(?P<slug>[^/]+)")(self._collection)
        self.route("QUERY", r"/v1/models")(self._search)
        self.route("GET", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)")(self._model)
        self.route("POST", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions")(self._create)
        self.route("GET", r"/v1/predictions/(?P<id>[^/]+)")(self._get)
        self.route("GET", r"/v1/predictions")(self._list)
        self.route("POST", r"/v1/predictions/(?P<id>[^/]+)/cancel")(self._cancel)

    def _listed(self) -> list[dict[str, Any]]:
        return [listing.model(key, rules) for key, rules in SCHEMAS.items() if not self.gone(key)]

    def _collection(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        if call.match["slug"] != "text-to-video":
            return problem(404, "Not found", "Collection not found")
        return Reply(
            200,
            {
                "name": "Generate videos",
                "slug": "text-to-video",
                "description": "Models that create and edit videos",
                "models": self._listed(),
            },
        )

    def _search(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        words = call.body.decode("utf-8", "replace").strip().lower()
        hits = [m for m in self._listed() if words in f"{m['owner']}/{m['name']} {m['description']}".lower()]
        return Reply(200, {"previous": None, "next": None, "results": hits})

    def _model(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        key = f"{call.match['owner']}/{call.match['name']}"
        found = next((m for m in self._listed() if f"{m['owner']}/{m['name']}" == key), None)
        return Reply(200, found) if found else problem(404, "Not found", f"Model {key} not found")

    def output_spec(self, model: str, given: dict[str, Any]) -> Spec:
        if model.startswith("openai/"):
            landscape = given.get("aspect_ratio", "portrait") == "landscape"
            size = (1792, 1024) if given.get("resolution") == "high" else (1280, 720)
            width, height = size if landscape else size[::-1]
            return self.spec(width, height, 30, given.get("seconds", 4), audio=True)
        if model.startswith("google/veo"):
            short = 1080 if given.get("resolution") == "1080p" else 720
            width, height = size_for(given.get("aspect_ratio", "16:9"), short)
            return self.spec(width, height, 24, given.get("duration", 8), audio=given.get("generate_audio", True))
        width, height = size_for(given.get("aspect_ratio", "16:9"), 720)
        return self.spec(width, height, 24, given.get("duration", 5), audio=False)

    def _auth(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.key}":
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return None

    def _fault(self, op: str, call: Call) -> Reply | None:
        name = self.take(op, call)
        if name == "429":
            return problem(429, "Request was throttled", "Expected available in 4 seconds.", {"Retry-After": "4"})
        if name == "402":
            return problem(402, "Payment required", "You have reached your monthly spend limit.")
        if name == "422":
            return problem(422, "Input validation failed", "- input: prompt is required")
        if name in ("500", "503"):
            return problem(int(name), "Internal server error", "Something went wrong")
        return self.transport_fault(name)

    def _prediction(self, job: FakeJob) -> dict[str, Any]:
        seen = job.polls
        status, output, error = "starting", None, None
        done = seen >= self.polls_to_finish or (job.outcome == "instant" and self.ready(job.created))
        if job.canceled:
            status = "canceled"
        elif not done:
            status = "starting" if seen == 0 else "processing"
        elif job.outcome == "failed":
            status, error = "failed", "Prediction interrupted; please retry (code: PA)"
        elif job.outcome == "nsfw":
            status, error = (
                "failed",
                "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
            )
        elif job.outcome == "aborted":
            status = "aborted"
        elif job.outcome == "unknown":
            status = "waking_up"
        else:
            status = "succeeded"
            output = None if job.outcome == "empty" else self.media_url(job)
        created = job.extra["created_at"]
        return {
            "id": job.id,
            "model": job.extra["model"],
            "version": "hidden",
            "input": job.body["input"],
            "output": output,
            "error": error,
            "logs": "",
            "status": status,
            "created_at": _iso(created),
            "data_removed": False,
            "completed_at": _iso(job.extra.setdefault("completed_at", datetime.now(timezone.utc)))
            if status in ("succeeded", "failed", "canceled", "aborted")
            else None,
            "urls": {
                "get": f"{self.url}/v1/predictions/{job.id}",
                "cancel": f"{self.url}/v1/predictions/{job.id}/cancel",
            },
        }

    def _create(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("create", call)):
            return bad
        model = f"{call.match['owner']}/{call.match['name']}"
        if model not in SCHEMAS or self.gone(model):
            return problem(404, "Not found", f"Model {model} not found")
        body = call.json()
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("input"), dict)
            or set(body) - {"input", "webhook", "webhook_events_filter"}
        ):
            return problem(422, "Input validation failed", 'body must be {"input": {...}}')
        errors = validate(SCHEMAS[model], body["input"]) + self._file_inputs(body["input"])
        errors += [f"{k}: required" for k in listing.REQUIRED.get(model, []) if k not in body["input"]]
        if errors:
            return problem(422, "Input validation failed", "; ".join(errors))
        prefer = call.headers.get("prefer", "")
        if prefer and not (prefer.startswith("wait") and (prefer == "wait" or 1 <= int(prefer.split("=")[1]) <= 60)):
            return problem(400, "Bad Prefer header", prefer)
        job = self.new_job(body, prefix="rp", call=call, spec=self.output_spec(model, body["input"]))
        job.extra.update(model=model, created_at=datetime.now(timezone.utc))
        if self.take("answer", call) == "drop":
            return Reply(drop=True)  # the prediction runs and bills; the caller never hears
        return Reply(201, self._prediction(job))

    def _file_inputs(self, data: dict[str, Any]) -> list[str]:
        """File inputs as Replicate takes them: a URL it can fetch (here: one of our uploads), or a small data URL."""
        out = []
        for key, value in data.items():
            for v in value if isinstance(value, list) else [value]:
                if not isinstance(v, str):
                    continue
                if v.startswith("data:") and len(v) > DATA_URL_LIMIT:
                    out.append(f"{key}: data URL of {len(v)} bytes; larger than 256 KB, upload it with the Files API")
                elif v.startswith(self.url) and v.rsplit("/", 1)[-1] not in self.files:
                    out.append(f"{key}: {v} is not a file that exists")
                elif v.startswith(("http://", "https://")) and not v.startswith(self.url):
                    out.append(f"{key}: cannot fetch {v} (the sandbox has no network)")
        return out

    def _upload(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("upload", call)):
            return bad
        parts = multipart(call)
        if parts is None:
            return problem(415, "Unsupported media type", "Send multipart/form-data")
        fields, files = parts
        unknown = (set(fields) | set(files)) - FILE_FIELDS - {"content"}
        if unknown or set(files) != {"content"}:
            return problem(
                422,
                "Input validation failed",
                f"expected a `content` file part and only {sorted(FILE_FIELDS)}; "
                f"got {sorted(set(fields) | set(files))}",
            )
        name, data, part_type = files["content"]
        filename = fields.get("filename") or name
        if not filename or len(filename.encode()) > 255:
            return problem(422, "Input validation failed", "filename is required and at most 255 bytes")
        try:
            metadata = json.loads(fields.get("metadata", "{}"))
        except ValueError:
            return problem(422, "Input validation failed", "metadata must be valid JSON")
        with self._lock:
            file_id = f"f{len(self.files) + 1:06d}"
            now = datetime.now(timezone.utc)
            self.files[file_id] = {
                "id": file_id,
                "name": filename,
                "content_type": fields.get("type") or part_type or "application/octet-stream",
                # `etag` is required by replicate-python's File (replicate/file.py); Replicate's is the MD5
                # of the content.
                "size": len(data),
                "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "checksums": {"sha256": hashlib.sha256(data).hexdigest()},
                "metadata": metadata,
                "created_at": _iso(now),
                "expires_at": _iso(now + timedelta(days=1)),
                "urls": {"get": f"{self.url}/v1/files/{file_id}"},
            }
        return Reply(201, self.files[file_id])

    def _file(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        found = self.files.get(call.match["id"])
        return Reply(200, found) if found else problem(404, "Not found", "File not found")

    def _get(self, call: Call) -> Reply:
        if (bad := self._auth(call)) or (bad := self._fault("poll", call)):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return problem(404, "Not found", "Prediction not found")
        self.advance(job)
        return Reply(200, self._prediction(job))

    def _list(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        newest = sorted(self.jobs.values(), key=lambda j: j.extra["created_at"], reverse=True)
        return Reply(200, {"previous": None, "next": None, "results": [self._prediction(j) for j in newest]})

    def _cancel(self, call: Call) -> Reply:
        if bad := self._auth(call):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return problem(404, "Not found", "Prediction not found")
        job.canceled = True
        return Reply(200, self._prediction(job))


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")
