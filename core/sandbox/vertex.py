"""A fake Vertex AI serving Veo (FakeVertexVeo) and Gemini Omni (FakeVertex, below), plus the Cloud Storage
JSON API they write to, on one loopback server.

- Auth: `Authorization: Bearer <token>`; anything else is 401 UNAUTHENTICATED as Google sends it.
  The project in the path must be the fake's (else 403 PERMISSION_DENIED).
- POST /v1[beta1]/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning validates the
  body (fakes/veo.py; Vertex fields allowed, generateAudio required for Veo 3; Veo 3.1: 720p or 1080p,
  extension at 720p, reference images at 16:9 and 8 s, Lite without either) and answers the
  operation name; a retired model is the 404 "is no longer available". A video to extend must be
  an object this fake's storage holds (gcsUri) or base64 of a decodable 1-30 s MP4/MOV, with its mimeType.
- POST .../models/{m}:fetchPredictOperation {"operationName"}: {"name"} while running, then done with
  response.videos[] = {bytesBase64Encoded, mimeType} inline, or {gcsUri, mimeType} when the request
  named a storageUri (the object is then served by the GCS JSON API below).
- GET /storage/v1/b/{bucket}/o/{object}?alt=media with the bearer token serves the MP4.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote

from .fake import SANDBOX_KEY
from .gemini_omni import FakeInteraction, OmniInteractionsFake
from .loopback import Call, Reply
from .media import video_seconds
from .veo import RAI_REASON, FakeVeo, Op, bad, google_error

MODELS = {
    "veo-2.0-generate-001",
    "veo-3.0-generate-001",
    "veo-3.0-fast-generate-001",
    "veo-3.1-generate-001",
    "veo-3.1-fast-generate-001",
    "veo-3.1-lite-generate-001",
}
RETIRED = {"veo-3.0-generate-preview"}
VIDEO_TYPES = {"video/mp4", "video/quicktime"}
# `/v1` (promptreel's vertex route) and `/v1beta1` (google-genai's default api_version, which the service accepts).
MODEL_PATH = (
    r"/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
    r"/publishers/google/models/(?P<model>[^/:]+)"
)


class FakeVertexVeo(FakeVeo):
    vertex = True
    models = MODELS
    retired = RETIRED
    # Google shut Veo 2 and Veo 3 down on the Gemini API and Vertex AI on 2026-06-30
    # (docs.cloud.google.com/gemini-enterprise-agent-platform/models/veo/3-0-generate, checked 2026-12-06).
    shut_down = {
        m: date(2026, 6, 30) for m in ("veo-2.0-generate-001", "veo-3.0-generate-001", "veo-3.0-fast-generate-001")
    }

    route_name = "vertex"

    def __init__(
        self,
        token: str = "ya29.fake-vertex-token-0123",
        project: str = "film-project",
        running_reads: int = 2,
        **kw: Any,
    ):
        super().__init__(token, running_reads, **kw)
        self.token, self.project = token, project
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}  # (bucket, object) -> {"downloads", "fault"}
        self.route("POST", MODEL_PATH + ":predictLongRunning", op="create")(self._create)
        self.route("POST", MODEL_PATH + ":fetchPredictOperation", op="poll")(self._fetch)
        self.route("GET", r"/storage/v1/b/(?P<bucket>[^/]+)/o/(?P<object>[^/]+)")(self._object)
        self.route("POST", r"/token")(self._token)

    @classmethod
    def sandboxed(cls, **kw: Any) -> FakeVertexVeo:
        return cls(token=SANDBOX_KEY, **kw)  # an access token, as the ADC file the sandbox writes hands out

    def adc_info(self) -> dict[str, str]:
        """An Application Default Credentials file whose token URL is this fake, so google-auth refreshes
        against it and promptreel's vertex route runs offline. (`authorized_user` files always refresh
        at Google; `external_account_authorized_user` ones honour their `token_url`.)"""
        return {
            "type": "external_account_authorized_user",
            "audience": "//iam.googleapis.com/sandbox",
            "client_id": "sandbox",
            "client_secret": "sandbox",
            "refresh_token": "sandbox",
            "token_url": f"{self.url}/token",
            "quota_project_id": self.project,
        }

    def env(self) -> dict[str, str]:
        # GOOGLE_APPLICATION_CREDENTIALS is added by `sandbox()`, which writes adc_info() to a file.
        return {
            **super().env(),
            "PROMPTREEL_VERTEX_STORAGE_BASE_URL": self.url,
            "GOOGLE_CLOUD_PROJECT": self.project,
            "GOOGLE_CLOUD_LOCATION": "us-central1",
        }

    def _token(self, call: Call) -> Reply:
        """Google's OAuth token endpoint, for the refresh-token grant of adc_info()."""
        form = {k: v[0] for k, v in parse_qs(call.body.decode()).items()}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        return Reply(
            200,
            {
                "access_token": self.token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
            },
        )

    def _auth(self, call: Call) -> Reply | None:
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        return None

    def _resource(self, call: Call) -> tuple[str, Reply | None]:
        m = call.match
        where = f"projects/{m['project']}/locations/{m['location']}/publishers/google/models/{m['model']}"
        if (denied := self._auth(call)) is not None:
            return where, denied
        if m["project"] != self.project:
            return where, google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.endpoints.predict' denied "
                f"on resource '//aiplatform.googleapis.com/{where}' "
                "(or it may not exist).",
            )
        return where, self.check_model(m["model"], f"Publisher Model `{where}`")

    def validate_parameters(self, model: str, params: Any, inst: dict[str, Any]) -> Reply | None:
        """The shared checks, then Veo 3.1's own on Vertex (its model page, checked 2026-12-06): 720p or
        1080p; an extension at 720p; reference images at 16:9 and 8 s; Lite takes neither."""
        if (err := super().validate_parameters(model, params, inst)) is not None:
            return err
        if not model.startswith("veo-3.1"):
            return None
        resolution = params.get("resolution", "720p")
        if resolution not in ("720p", "1080p"):
            return bad(f"resolution {resolution} is not supported by {model}; use 720p or 1080p.")
        if "lite" in model and ("video" in inst or "referenceImages" in inst):
            return bad(f"{model} does not support video extension or reference images.")
        if "video" in inst and resolution != "720p":
            return bad("Video extension supports only 720p output.")
        if "referenceImages" in inst and (
            params.get("aspectRatio", "16:9") != "16:9" or params.get("durationSeconds", 8) != 8
        ):
            return bad("Reference images to video supports only 16:9 and durationSeconds 8.")
        return None

    def unknown_model(self, model: str, where: str) -> Reply:
        return google_error(
            404,
            "NOT_FOUND",
            f"{where} was not found or your project does not have access to it. "
            "Please ensure you are using a valid model version.",
        )

    def check_video(self, video: object) -> Reply | None:
        """A video to extend: an object in this fake's Cloud Storage, or the bytes of a 1-30 s MP4/MOV."""
        if not isinstance(video, dict) or set(video) - {"gcsUri", "bytesBase64Encoded", "mimeType"}:
            return bad("video must be {gcsUri | bytesBase64Encoded, mimeType}.")
        if ("gcsUri" in video) == ("bytesBase64Encoded" in video):
            return bad("video needs exactly one of gcsUri or bytesBase64Encoded.")
        if video.get("mimeType") not in VIDEO_TYPES:
            return bad(f"video.mimeType must be one of {', '.join(sorted(VIDEO_TYPES))}.")
        if "gcsUri" in video:
            uri = video["gcsUri"]
            bucket, _, obj = (
                uri[len("gs://") :].partition("/") if isinstance(uri, str) and uri.startswith("gs://") else ("", "", "")
            )
            if not (bucket and obj):
                return bad(f"video.gcsUri {uri!r} is not a gs://bucket/object URI.")
            if (bucket, obj) not in self.objects:
                return bad(f"Cannot read video.gcsUri {uri}: no such object.")
            data = self.media_of(self.objects[(bucket, obj)]["spec"])
        else:
            try:
                data = base64.b64decode(video["bytesBase64Encoded"], validate=True)
            except (binascii.Error, ValueError, TypeError):
                return bad("video.bytesBase64Encoded is not valid base64.")
        seconds = video_seconds(data)
        if seconds is None:
            return bad("video could not be decoded as an MP4 or MOV video.")
        if not 1 <= round(seconds, 2) <= 30:
            return bad(f"The input video must be 1 to 30 seconds long; it is {seconds:.2f} s.")
        return None

    def _create(self, call: Call) -> Reply:
        where, err = self._resource(call)
        if err is not None:
            return err
        return self.start(call, call.match["model"], where)

    def _fetch(self, call: Call) -> Reply:
        where, err = self._resource(call)
        if err is not None:
            return err
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return bad("Invalid JSON payload received.")
        if not isinstance(body, dict) or set(body) != {"operationName"}:
            return bad('The request must be {"operationName": <operation name>}.')
        name = body["operationName"]
        if not name.startswith(f"{where}/operations/"):
            return bad(f"Operation {name} does not belong to {where}.")
        op = self.ops.get(name)
        if op is None:
            return google_error(404, "NOT_FOUND", f"Operation {name} not found.")
        return Reply(200, self.read(op))

    def finish(self, op: Op) -> dict[str, Any]:
        response: dict[str, Any] = {"@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"}
        if op.fault == "rai":
            return {**response, "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [RAI_REASON]}
        if op.fault == "no_media":
            return response
        prefix = (op.body.get("parameters") or {}).get("storageUri")
        if prefix:
            bucket, _, folder = prefix[len("gs://") :].partition("/")
            obj = f"{folder.strip('/')}/{op.name.rsplit('/', 1)[-1]}/sample_0.mp4".lstrip("/")
            self.objects[(bucket, obj)] = {"downloads": 0, "fault": op.fault, "spec": op.spec}
            return {**response, "videos": [{"gcsUri": f"gs://{bucket}/{obj}", "mimeType": "video/mp4"}]}
        return {
            **response,
            "videos": [
                {"bytesBase64Encoded": base64.b64encode(self.media_of(op.spec)).decode(), "mimeType": "video/mp4"}
            ],
        }

    def _object(self, call: Call) -> Reply:
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Invalid Credentials",
                        "errors": [{"message": "Invalid Credentials", "domain": "global", "reason": "authError"}],
                    }
                },
            )
        key = (unquote(call.match["bucket"]), unquote(call.match["object"]))
        entry = self.objects.get(key)
        if entry is None:
            return Reply(404, {"error": {"code": 404, "message": f"No such object: {key[0]}/{key[1]}"}})
        if call.query.get("alt") != ["media"]:
            return Reply(200, {"kind": "storage#object", "bucket": key[0], "name": key[1], "contentType": "video/mp4"})
        entry["downloads"] += 1
        return self.media_reply(self.media_of(entry["spec"]), entry["fault"], entry["downloads"] == 1, ranges=False)


# Omni's ids on Vertex AI -> longest clip a call makes (1.1 is a preview there: docs.cloud.google.com/
# gemini-enterprise-agent-platform/models/video/generate-videos-from-text, checked 2026-12-06).
VERTEX_OMNI = {"gemini-omni-1.2-flash": 15, "gemini-omni-1.1-flash-preview": 10, "gemini-omni-flash-preview": 10}
PARENT = r"/(?:v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"


class FakeVertex(OmniInteractionsFake, FakeVertexVeo):
    """FakeVertexVeo plus Gemini Omni's interactions under the project and location (see gemini_omni.py
    for the body's checks), as google-genai's Vertex client addresses them:

    - POST {v1beta1|v1}/projects/{p}/locations/{l}/interactions, GET .../interactions/{id}, POST .../cancel,
      with the bearer token; another project is 403 PERMISSION_DENIED.
    - `response_format.delivery: uri` needs `gcs_uri` (a gs:// folder): the video is then written to this
      fake's Cloud Storage and named by its gs:// URI; otherwise it comes back inline (`data`), which
      1080p and 4k may not (past the inline limit). Input videos by `uri` must be objects it holds.
    """

    omni_models = VERTEX_OMNI

    def __init__(
        self,
        token: str = "ya29.fake-vertex-token-0123",
        project: str = "film-project",
        running_reads: int = 2,
        **kw: Any,
    ):
        super().__init__(token, project, running_reads, **kw)
        self.serve_interactions(PARENT)

    def check_parent(self, call: Call) -> Reply | None:
        if (denied := self._auth(call)) is not None:
            return denied
        if call.match["project"] != self.project:
            where = f"projects/{call.match['project']}/locations/{call.match['location']}"
            return google_error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'aiplatform.interactions.create' denied on "
                f"resource '//aiplatform.googleapis.com/{where}' (or it may "
                "not exist).",
            )
        return None

    def check_format(self, fmt: dict[str, Any]) -> Reply | None:
        uri = fmt.get("gcs_uri")
        if fmt.get("delivery", "inline") == "uri" and not uri:
            return bad("response_format.gcs_uri is required for uri delivery on Vertex AI.")
        if uri is not None and not (isinstance(uri, str) and uri.startswith("gs://") and len(uri) > len("gs://")):
            return bad(f"response_format.gcs_uri {uri!r} is not a gs:// URI.")
        return None

    def check_uri(self, uri: str, where: str) -> Reply | None:
        bucket, _, obj = uri[len("gs://") :].partition("/") if uri.startswith("gs://") else ("", "", "")
        if (bucket, obj) not in self.objects:
            return bad(f"{where}.uri {uri} is not an object in Cloud Storage this project can read.")
        return None

    def deliver_uri(self, ix: FakeInteraction) -> dict[str, Any]:
        bucket, _, folder = ix.body["response_format"]["gcs_uri"][len("gs://") :].partition("/")
        obj = f"{folder.strip('/')}/{ix.id}/sample_0.mp4".lstrip("/")
        self.objects[(bucket, obj)] = {"downloads": 0, "fault": ix.fault, "spec": ix.spec}
        return {"type": "video", "mime_type": "video/mp4", "uri": f"gs://{bucket}/{obj}"}
