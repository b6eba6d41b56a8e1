"""Runway's API as a loopback server: /v1/{text,image,video}_to_video, /v1/tasks/{id}, with its faults.

Checks what the real API checks: bearer key, `X-Runway-Version`, and per endpoint and model exactly
the fields Runway's SDK types allow (runwayml 5.24.0, types/*_to_video_create_params.py, read
2026-12-06): required fields, ratios, resolutions, lengths (where the SDK leaves them open, the ranges
Runway's model pages give [3P]), promptImage positions, references, source clips, data URIs of at
most 5 MB that decode, or `runway://` URIs of files uploaded through /v1/uploads (then posted, without
the key, to the storage URL it hands out). Media: 24 fps at the size and length asked (a source clip's own size and
length where the model follows it), with audio where the model makes it. Outcomes: ok, throttled (a
few THROTTLED polls, then success), safety, bad_output, empty (SUCCEEDED without output), unknown.
A SUCCEEDED task says what it charged (`cost: {credits}`, runwayml 5.24.0 types/task_retrieve_response.py)
for the models a test gives a rate in `credits_per_second`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Container
from contextvars import ContextVar
from fractions import Fraction
from typing import Any, Literal

from .fake import Fake, is_int, size_for
from .loopback import Call, Reply
from .media import image_size, multipart, video_seconds

VERSION = "2024-11-06"
DATA_URI_MAX = 5 * 1024 * 1024
Check = Callable[[object], bool]
UPLOADED: ContextVar[dict[str, bytes] | None] = ContextVar("uploaded", default=None)  # runway:// URI -> bytes, per fake


# --- the field checks ------------------------------------------------------------------------


def text(most: int | None = None) -> Check:
    return lambda v: isinstance(v, str) and 1 <= len(v) <= (most or 1 << 20)


def one_of(*values: str) -> Check:
    return lambda v: isinstance(v, str) and v in values


def ints(allowed: Container[int], auto: bool = False) -> Check:
    return lambda v: (is_int(v) and v in allowed) or (auto and v == "auto")


def boolean(v: object) -> bool:
    return isinstance(v, bool)


def seed(v: object) -> bool:
    return is_int(v) and 0 <= v <= 4294967295


def string(v: object) -> bool:
    return isinstance(v, str)


def table(v: object) -> bool:
    return isinstance(v, dict)


def listing(v: object) -> bool:
    return isinstance(v, list)


def decoded(uri: object, kind: str) -> bytes | None | Literal[False]:
    """The bytes of a data URI (or an upload) of `kind` (image / video / audio), or None for an HTTPS URL;
    False if bad."""
    if not isinstance(uri, str) or len(uri) > DATA_URI_MAX:
        return False
    if uri.startswith("https://"):
        return None
    if uri.startswith("runway://"):  # an upload: it must exist (in this fake) and be what it is used as
        data = (UPLOADED.get() or {}).get(uri)
        if data is None:
            return False
    else:
        head, sep, payload = uri.partition(",")
        if not (sep and head.startswith(f"data:{kind}/") and head.endswith(";base64")):
            return False
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return False
    readable = image_size(data) if kind == "image" else video_seconds(data) if kind == "video" else True
    return data if readable else False


def media_uri(kind: str) -> Check:
    return lambda v: decoded(v, kind) is not False


def images(most: int | None) -> Check:
    """`references`: [{uri}] of images."""
    return lambda v: (
        isinstance(v, list)
        and 1 <= len(v) <= (most or 1 << 20)
        and all(isinstance(i, dict) and set(i) == {"uri"} and media_uri("image")(i["uri"]) for i in v)
    )


def typed(kind: str) -> Check:
    """`referenceVideos` / `referenceAudio`: [{type, uri}]."""
    return lambda v: (
        isinstance(v, list)
        and all(
            isinstance(i, dict) and set(i) == {"type", "uri"} and i["type"] == kind and media_uri(kind)(i["uri"])
            for i in v
        )
    )


def prompt_image(positions: tuple[str, ...], references: bool = False) -> Check:
    """promptImage: one image, or a list of {uri, position} with a first (and, where taken, a last) frame;
    where the model takes references, a list without positions instead (the two never mixed)."""

    def check(v: object) -> bool:
        if isinstance(v, str):
            return media_uri("image")(v)
        if (
            not isinstance(v, list)
            or not v
            or not all(isinstance(i, dict) and media_uri("image")(i.get("uri")) for i in v)
        ):
            return False
        if references and all(set(i) == {"uri"} for i in v):
            return True
        given = [i.get("position") for i in v]
        return (
            all(set(i) == {"uri", "position"} for i in v)
            and given in (["first"], ["first", "last"])
            and set(given) <= set(positions)
        )

    return check


# --- per model, per endpoint: the fields and which are required (*) ---------------------------

GEN4 = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO = ("1280:720", "720:1280", "1080:1920", "1920:1080")
SD_480 = ("992:432", "864:496", "752:560", "640:640", "560:752", "496:864")
SD25_480 = ("992:432", "854:480", "752:560", "640:640", "560:752", "480:854")
SD_720 = ("1470:630", "1280:720", "1112:834", "960:960", "834:1112", "720:1280")
SD_1080 = ("2206:946", "1920:1080", "1664:1248", "1440:1440", "1248:1664", "1080:1920")
SD_4K = ("3840:1646", "3840:2160", "3840:2880", "3840:3840", "2880:3840", "2160:3840")
HH = (
    "1280:720",
    "720:1280",
    "960:960",
    "1108:832",
    "832:1108",
    "1920:1080",
    "1080:1920",
    "1440:1440",
    "1662:1248",
    "1248:1662",
)
HAILUO_RATIOS = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
HAILUO_RES = one_of("768p", "2k", "768P", "2K")
OMNI = ("1280:720", "720:1280")
MODERATION = {"contentModeration": table}
GEN_OUTPUT = {
    "outputFormat": one_of(
        "mp4",
        "prores",
        "png_sequence",
        "hdr10",
        "hlg",
        "sdr_rec709_10bit",
        "hdr_pq_12bit_master",
        "hdr_prores",
        "hdr_png_sequence",
        "hdr_exr_sequence",
        "hdr_exr_acescg_sequence_1_3",
        "hdr_exr_acescg_sequence_2_0",
    ),
    "proresProfile": one_of("422", "4444", "422 Proxy", "422 LT", "422 HQ", "4444 XQ"),
}
REFS_AV = {"referenceAudio": typed("audio"), "referenceVideos": typed("video")}
SD_EXTRA = {"audio": boolean, "seed": seed, "referenceAudio": typed("audio")}
SD25_EXTRA = {**SD_EXTRA, "draft": boolean, "outputFormat": one_of("mp4", "mov")}

SCHEMAS: dict[str, dict[str, dict[str, Check]]] = {
    "text_to_video": {
        "gen4.5": {
            "*duration": ints(range(2, 11)),
            "*promptText": text(1000),
            "*ratio": one_of(*GEN4[:2]),
            "seed": seed,
            **MODERATION,
            **GEN_OUTPUT,
        },
        "veo3.1": {
            "*promptText": text(1000),
            "*ratio": one_of(*VEO),
            "audio": boolean,
            "duration": ints((4, 6, 8)),
            "negativePrompt": string,
            "seed": seed,
        },
        "hailuo3": {
            "*promptText": text(),
            "duration": ints(range(5, 16)),
            "ratio": one_of(*HAILUO_RATIOS[1:]),
            "references": images(9),
            "resolution": HAILUO_RES,
            **REFS_AV,
        },
        "happyhorse_1_0": {"*promptText": text(2500), "duration": ints(range(3, 16)), "ratio": one_of(*HH)},
        "seedance2": {
            "*promptText": text(3500),
            "duration": ints(range(4, 16), auto=True),
            "ratio": one_of(*SD_480, *SD_720, *SD_1080, *SD_4K),
            "references": images(9),
            **REFS_AV,
            **SD_EXTRA,
        },
        "gemini_omni_flash": {"*promptText": text(), "duration": ints(range(3, 11)), "ratio": one_of(*OMNI)},
        "seedance2_5": {
            "promptText": text(15000),
            "duration": ints(range(4, 31), auto=True),
            "ratio": one_of(*SD25_480, *SD_720, *SD_1080),
            "references": images(30),
            "draftTaskId": string,
            **REFS_AV,
            **SD25_EXTRA,
        },
    },
    "image_to_video": {
        "gen4.5": {
            "*duration": ints(range(2, 11)),
            "*promptImage": prompt_image(("first",)),
            "*promptText": text(1000),
            "*ratio": one_of(*GEN4),
            "seed": seed,
            **MODERATION,
            **GEN_OUTPUT,
        },
        "gen4_turbo": {
            "*promptImage": prompt_image(("first",)),
            "*ratio": one_of(*GEN4),
            "duration": ints(range(2, 11)),
            "promptText": text(1000),
            "seed": seed,
            **MODERATION,
        },
        "veo3.1": {
            "*promptImage": prompt_image(("first", "last")),
            "*ratio": one_of(*VEO),
            "audio": boolean,
            "duration": ints((4, 6, 8)),
            "negativePrompt": string,
            "promptText": text(1000),
            "seed": seed,
        },
        "hailuo3": {
            "*promptImage": prompt_image(("first", "last"), references=True),
            "*promptText": text(),
            "duration": ints(range(5, 16)),
            "ratio": one_of(*HAILUO_RATIOS),
            "resolution": HAILUO_RES,
            "referenceAudio": typed("audio"),
        },
        "happyhorse_1_0": {
            "*promptImage": prompt_image(("first",)),
            "duration": ints(range(3, 16)),
            "promptText": text(2500),
            "resolution": one_of("720p", "1080p", "720P", "1080P"),
        },
        "seedance2": {
            "*promptImage": prompt_image(("first", "last"), references=True),
            "promptText": text(3500),
            "duration": ints(range(4, 16), auto=True),
            "ratio": one_of(*SD_480, *SD_720, *SD_1080, *SD_4K),
            **SD_EXTRA,
        },
        "gemini_omni_flash": {
            "*promptImage": prompt_image(("first",)),
            "duration": ints(range(3, 11)),
            "promptText": text(),
            "ratio": one_of(*OMNI),
        },
        "seedance2_5": {
            "*promptImage": prompt_image(("first", "last"), references=True),
            "promptText": text(15000),
            "duration": ints(range(4, 31), auto=True),
            "ratio": one_of(*SD25_480, *SD_720, *SD_1080),
            **SD25_EXTRA,
        },
    },
    "video_to_video": {
        "aleph2": {
            "*videoUri": media_uri("video"),
            "keyframes": listing,
            "promptText": text(1000),
            "ratio": string,
            "seed": seed,
            "targetAspectRatio": one_of("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "21:9"),
            "outputFormat": one_of("mp4", "prores", "png_sequence", "sdr_rec709_10bit"),
            "proresProfile": GEN_OUTPUT["proresProfile"],
            **MODERATION,
        },
        "hailuo3": {
            "*promptText": text(),
            "*promptVideo": media_uri("video"),
            "duration": ints(range(5, 16)),
            "ratio": one_of(*HAILUO_RATIOS),
            "references": images(9),
            "resolution": HAILUO_RES,
            **REFS_AV,
        },
        "seedance2": {
            "*promptVideo": media_uri("video"),
            "promptText": text(3500),
            "duration": ints(range(4, 16), auto=True),
            "ratio": one_of(*SD_480, *SD_720, *SD_1080, *SD_4K),
            "references": images(9),
            **REFS_AV,
            **SD_EXTRA,
        },
        "gemini_omni_flash": {"*promptText": text(), "*videoUri": media_uri("video"), "references": images(None)},
        "seedance2_5": {
            "*promptVideo": media_uri("video"),
            "promptText": text(15000),
            "duration": ints(range(4, 31), auto=True),
            "mode": one_of("reference", "extend", "edit"),
            "ratio": one_of(*SD25_480, *SD_720, *SD_1080),
            "references": images(30),
            **REFS_AV,
            **SD25_EXTRA,
        },
    },
}
SCHEMAS["text_to_video"]["veo3.1_fast"] = SCHEMAS["text_to_video"]["veo3.1"]
SCHEMAS["image_to_video"]["veo3.1_fast"] = SCHEMAS["image_to_video"]["veo3.1"]
PIXEL_RATIOS = {*GEN4, *VEO, *SD_480, *SD25_480, *SD_720, *SD_1080, *SD_4K, *HH}
MAKES_AUDIO = {"veo3.1", "veo3.1_fast", "seedance2", "seedance2_5", "hailuo3", "happyhorse_1_0", "gemini_omni_flash"}
DEFAULT_SECONDS = {"veo3.1": 8, "veo3.1_fast": 8}  # others: 5 (seedance2_5's documented default)


def _bad(message: str, status: int = 400) -> Reply:
    return Reply(status, {"error": message}, headers={"x-powered-by": "Express"})


def invalid(kind: str, body: dict[str, Any]) -> str | None:
    """What Runway would refuse in `body` on /v1/`kind`, or None."""
    schema = SCHEMAS[kind].get(str(body.get("model")))
    if schema is None:
        return f"Invalid parameter 'model' for {kind}"
    fields = {name.lstrip("*"): check for name, check in schema.items()}
    unknown = sorted(set(body) - set(fields) - {"model"})
    if unknown:
        return f"Unrecognized keys: {unknown}"
    for name, _check in schema.items():
        if name.startswith("*") and name[1:] not in body:
            return f"Missing required parameter '{name[1:]}'"
    for name, value in body.items():
        if name != "model" and not fields[name](value):
            return f"Invalid parameter '{name}'"
    if body.get("mode") in ("edit", "extend"):  # seedance2_5: the clip keeps its own frame; an edit its length
        if "promptText" not in body or "ratio" in body:
            return f"mode {body['mode']} requires promptText and takes no ratio"
        if body["mode"] == "edit" and body.get("duration") != "auto":
            return "mode edit requires duration 'auto'"
    return None


class FakeRunway(Fake):
    route_name = "runway"

    def __init__(self, *args: Any, **kwargs: Any):
        self.uploads: dict[str, dict[str, Any]] = {}  # upload id -> {"fields", "uri", "data"}
        self.credits_per_second: dict[str, int] = {}  # model -> what a SUCCEEDED task of it says it charged
        super().__init__(*args, **kwargs)
        self.cdn.route("POST", r"/uploads/(?P<id>[^/]+)")(self._store)

    def reset(self) -> None:
        super().reset()
        self.uploads.clear()

    def routes(self) -> None:
        self.route("POST", r"/v1/uploads")(self._upload)
        self.route("POST", r"/v1/(?P<kind>text_to_video|image_to_video|video_to_video)")(self._create)
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
        if not isinstance(body, dict):
            return _bad("Body must be a JSON object")
        stored = {u["uri"]: u["data"] for u in self.uploads.values() if u["data"] is not None}
        token = UPLOADED.set(stored)
        try:
            if problem := invalid(call.match["kind"], body):
                return _bad(problem)
            width, height, seconds = self._output(body)
        finally:
            UPLOADED.reset(token)
        model = body["model"]
        audio = model in MAKES_AUDIO and body.get("audio", True)
        job = self.new_job(
            body, job_id=str(uuid.uuid4()), call=call, spec=self.spec(width, height, 24, seconds, audio=audio)
        )
        return Reply(200, {"id": job.id})

    def _upload(self, call: Call) -> Reply:
        """POST /v1/uploads {filename, type: "ephemeral"}: where to post the file, and the URI it will have."""
        if (bad := self._check_headers(call)) or (bad := self._fault("upload", call)):
            return bad
        body = call.json()
        if not (
            isinstance(body, dict)
            and set(body) == {"filename", "type"}
            and body["type"] == "ephemeral"
            and isinstance(body["filename"], str)
            and body["filename"]
        ):
            return _bad("Invalid upload: give filename and type 'ephemeral'")
        upload_id = uuid.uuid4().hex
        fields = {
            "key": f"uploads/{upload_id}/{body['filename']}",
            "policy": base64.b64encode(upload_id.encode()).decode(),
        }
        self.uploads[upload_id] = {"fields": fields, "uri": f"runway://uploads/{upload_id}", "data": None}
        return Reply(
            200,
            {
                "uploadUrl": f"{self.cdn.url}/uploads/{upload_id}",
                "fields": fields,
                "runwayUri": f"runway://uploads/{upload_id}",
            },
        )

    def _store(self, call: Call) -> Reply:
        """The storage host's form post: the fields it handed out, one file, and no credentials."""
        upload = self.uploads.get(call.match["id"])
        form = multipart(call)
        if call.headers.get("authorization") or upload is None or form is None:
            return Reply(403, "<Error><Code>AccessDenied</Code></Error>", headers={"Content-Type": "application/xml"})
        fields, files = form
        if fields != upload["fields"] or set(files) != {"file"}:
            return Reply(
                400, "<Error><Code>InvalidPolicyDocument</Code></Error>", headers={"Content-Type": "application/xml"}
            )
        upload["data"] = files["file"][1]
        return Reply(204)

    @staticmethod
    def _output(body: dict[str, Any]) -> tuple[int, int, Fraction]:
        """(width, height, seconds) the model makes for `body`."""
        source = body.get("videoUri") or body.get("promptVideo")
        clip = decoded(source, "video") if source else None
        image = body.get("promptImage")
        first = image if isinstance(image, str) else (image[0]["uri"] if image else None)
        still = decoded(first, "image") if first else None
        duration = body.get("duration")
        if is_int(duration):
            seconds = Fraction(duration)
        elif clip and (length := video_seconds(clip)) is not None:
            # An edit ("auto", or no duration field at all) is as long as its clip.
            seconds = Fraction(length).limit_denominator(1000)
        else:
            seconds = Fraction(DEFAULT_SECONDS.get(body["model"], 5))
        ratio, tier = body.get("ratio", ""), str(body.get("resolution", "")).lower()
        if ratio in PIXEL_RATIOS:
            w, h = (int(x) for x in ratio.split(":"))
            return w, h, seconds
        short = {"768p": 768, "2k": 1440, "720p": 720, "1080p": 1080}.get(tier, 720)
        if ratio and ratio != "adaptive":  # Hailuo 3's aspect label
            w, h = size_for(ratio, short)
            return w, h, seconds
        source_size = image_size(clip) if clip else image_size(still) if still else None
        if source_size:  # the frame follows the source image or clip
            sw, sh = source_size
            if not tier:
                return sw, sh, seconds
            scale = Fraction(short, min(sw, sh))
            return int(sw * scale) // 2 * 2, int(sh * scale) // 2 * 2, seconds
        return 1280, 720, seconds

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
            return Reply(
                200, {**base, "status": "PENDING"} if seen == 0 else {**base, "status": "RUNNING", "progress": 0.5}
            )
        if job.outcome == "safety":
            return Reply(
                200,
                {
                    **base,
                    "status": "FAILED",
                    "failure": "Input text failed moderation",
                    "failureCode": "SAFETY.INPUT.TEXT",
                },
            )
        if job.outcome == "bad_output":
            return Reply(
                200,
                {**base, "status": "FAILED", "failure": "Output rejected", "failureCode": "INTERNAL.BAD_OUTPUT.CODE01"},
            )
        if job.outcome == "unknown":
            return Reply(200, {**base, "status": "WARMING_UP"})
        output = [] if job.outcome == "empty" else [self.media_url(job)]
        done = {**base, "status": "SUCCEEDED", "output": output}
        rate = self.credits_per_second.get(job.body.get("model", ""))
        if rate is not None and job.spec is not None:
            done["cost"] = {"credits": int(rate * job.spec.seconds)}
        return Reply(200, done)

    def _delete(self, call: Call) -> Reply:
        if bad := self._check_headers(call):
            return bad
        job = self.jobs.get(call.match["id"])
        if job is None:
            return _bad("Task not found", 404)
        job.canceled = True
        return Reply(204)
