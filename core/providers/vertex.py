"""The `vertex` route: Veo (VertexVeo) and Gemini Omni (VertexOmni) on Vertex AI, with an OAuth bearer token
from Application Default Credentials (google-auth).

    POST /v1/projects/{P}/locations/{L}/publishers/google/models/{M}:predictLongRunning
         -> {"name": "projects/{P}/locations/{L}/publishers/google/models/{M}/operations/{id}"}
    POST /v1/projects/{P}/locations/{L}/publishers/google/models/{M}:fetchPredictOperation
         {"operationName": <name>} -> the operation; when done:
         response.videos[] = {"gcsUri" | "bytesBase64Encoded", "mimeType"} (+ raiMediaFilteredCount/Reasons)

Outputs come back inline unless settings `vertex_output_gcs_uri` names a gs:// prefix (`storageUri`);
a gs:// output is downloaded through the GCS JSON API with the same token. Vertex also takes `seed`,
`fps` and `generateAudio`.
A video to extend is {"gcsUri" | "bytesBase64Encoded", "mimeType"} (python-genai's `_Video_to_vertex`):
an earlier Vertex take is sent by its gs:// URI when its output went to Cloud Storage, else as the bytes
of the file promptreel kept.
Project: settings `vertex_project`, else GOOGLE_CLOUD_PROJECT, else the ADC's project. Location:
settings `vertex_location`, else GOOGLE_CLOUD_LOCATION, else us-central1.
"""

from __future__ import annotations

import base64
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx

from ..catalog import Route
from ..errors import MissingKey, UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Computed, host_of
from .base import ErrorKind, JobState, MediaRef, ProviderError, Status, WireCall
from .gemini_omni import OmniInteractions, VideoFormat
from .httpkit import read_video
from .veo import Operation, VeoProtocol, VideoResult

if TYPE_CHECKING:
    from google.auth.credentials import Credentials as GoogleCredentials

    from ..journal import Job

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_LOCATION = "us-central1"  # where Google's Veo examples run
STORAGE_URL = "https://storage.googleapis.com"
SEED_MAX = 2**32 - 1  # Vertex takes a uint32 seed


def host_for(location: str) -> str:
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def _gcloud_adc_file() -> Path:
    """Where `gcloud auth application-default login` writes the user's credentials."""
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", "")) / "gcloud" / "application_default_credentials.json"
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    return Path(config) / "application_default_credentials.json"


# No keys: OAuth from Application Default Credentials. poll_seconds: Google's own examples poll every 10 s.
ROUTE = RouteDescriptor(
    name="vertex",
    protocol="promptreel.core.providers.vertex:VertexVeo",
    base_url=host_for(DEFAULT_LOCATION),
    poll_seconds=10.0,
    fake="promptreel.core.sandbox.vertex:FakeVertex",
    by_model=(("gemini-omni-", "promptreel.core.providers.vertex:VertexOmni"),),
)


class VertexVeo(VeoProtocol):
    descriptor = ROUTE
    vendor: ClassVar[str] = "Vertex AI"
    vertex: ClassVar[bool] = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        route: Route,
        credentials: dict[str, str],
        base_url: str | None = None,
        staging_dir: Path | None = None,
        *,
        project: str | None = None,
        location: str | None = None,
        storage_url: str | None = None,
        output_gcs_uri: str | None = None,
    ):
        from ..settings import base_url_for, load_settings

        settings = load_settings()
        self.location = (
            location or settings.vertex_location or os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
        )
        super().__init__(client, route, credentials, base_url or host_for(self.location), staging_dir)
        self._project = project or settings.vertex_project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        # GCS has its own host; PROMPTREEL_VERTEX_STORAGE_BASE_URL points it elsewhere (the sandbox).
        self.storage_url = (storage_url or base_url_for("vertex_storage", settings) or STORAGE_URL).rstrip("/")
        # Outputs go to Cloud Storage when a bucket is named (large 1080p/4k clips), else come back inline.
        self.output_gcs_uri = output_gcs_uri or settings.vertex_output_gcs_uri
        self._static_token = credentials.get("access_token")  # tests, or a token the user minted
        self._adc: GoogleCredentials | None = None

    # credentials --------------------------------------------------------------------------
    @classmethod
    def check_ready(cls) -> None:
        """google-auth installed and credentials where ADC looks first: a key file, or gcloud's login.
        (ADC's last resort, the GCE metadata server, is not probed: that is a network call; on GCE
        set GOOGLE_APPLICATION_CREDENTIALS.)"""
        try:
            installed = importlib.util.find_spec("google.auth") is not None
        except ModuleNotFoundError:  # no `google` package at all
            installed = False
        if not installed:
            raise MissingKey(
                "The vertex route needs google-auth, which is not installed.",
                "Install it with `pip install 'promptreel[vertex]'`, or use another route.",
            )
        if not (os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or _gcloud_adc_file().is_file()):
            raise MissingKey(
                "The vertex route found no Google Application Default Credentials.",
                "Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
                "to a service-account key file.",
            )

    def _credentials(self) -> GoogleCredentials:
        if self._adc is None:
            try:
                import google.auth
                from google.auth.exceptions import DefaultCredentialsError
            except ImportError:
                raise MissingKey(
                    "The vertex route needs google-auth, which is not installed.",
                    "Install it with `pip install 'promptreel[vertex]'`, or use another route.",
                ) from None
            try:
                self._adc, adc_project = google.auth.default(scopes=[SCOPE])
            except DefaultCredentialsError:
                raise MissingKey(
                    "The vertex route found no Google Application Default Credentials.",
                    "Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
                    "to a service-account key file.",
                ) from None
            self._project = self._project or adc_project
        return self._adc

    def access_token(self) -> str:
        """A valid bearer token; refreshing it may block on the network (call it off the event loop)."""
        if self._static_token:
            return self._static_token
        creds = self._credentials()
        if not creds.valid:
            from google.auth.exceptions import RefreshError, TransportError
            from google.auth.transport.requests import Request

            try:
                creds.refresh(Request())  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
            except RefreshError as e:
                raise ProviderError(
                    ErrorKind.AUTH, f"Google refused to refresh the Vertex AI credentials: {self._safe(str(e))[:200]}"
                ) from None
            except TransportError:
                raise ProviderError(
                    ErrorKind.RETRYABLE, "Cannot reach Google's token service to refresh the Vertex AI credentials."
                ) from None
        return str(creds.token)  # valid, or just refreshed: a token is set

    def route_auth(self) -> Computed:
        return Computed(self.token_headers, self.hosts(), blocking=True)  # a token refresh is blocking I/O

    def token_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access_token()}"}
        quota_project = getattr(self._adc, "quota_project_id", None)
        if quota_project:
            headers["x-goog-user-project"] = quota_project
        return headers

    def _safe(self, text: str) -> str:
        return super()._safe(text if not self._static_token else text.replace(self._static_token, "[redacted]"))

    @property
    def project(self) -> str:
        if not self._project and not self._static_token:
            self._credentials()  # the ADC may name a project
        if not self._project:
            raise MissingKey(
                "The vertex route needs a Google Cloud project.",
                "Set vertex_project in settings, or GOOGLE_CLOUD_PROJECT.",
            )
        return self._project

    def hosts(self) -> set[str]:
        return {host_of(self.base_url), host_of(self.storage_url)}  # outputs in Cloud Storage take the same token

    # build ------------------------------------------------------------------------------
    def model_path(self) -> str:
        return f"/v1/projects/{self.project}/locations/{self.location}/publishers/google/models/{self.route.model_id}"

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        self.check_veo_3_1(request)
        body = self.predict_request(request)
        params = body.parameters
        if request.seed is not None:
            params.seed = request.seed % (SEED_MAX + 1)
        if request.fps is not None and request.fps.denominator == 1:
            params.fps = request.fps.numerator
        if not self.route.model_id.startswith("veo-2"):  # Veo 3+ makes audio; Vertex wants it stated
            params.generateAudio = True if request.audio is None else request.audio
        if self.output_gcs_uri:
            params.storageUri = self.output_gcs_uri
        return WireCall("POST", f"{self.model_path()}:predictLongRunning", json=body.model_dump(exclude_none=True))

    def check_veo_3_1(self, request: GenerationRequest) -> None:
        """Veo 3.1's rules on Vertex (docs.cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate,
        checked 2026-12-06): 720p and 1080p only; an extension at 720p; reference images at 16:9 and 8 s.
        Refused here, before anything is sent, with what to ask for instead."""
        if not self.route.model_id.startswith("veo-3.1"):
            return
        size = request.size
        if size is not None and min(size.width, size.height) > 1080:
            raise UnsupportedRequest(
                f"Veo 3.1 on Vertex AI makes 720p or 1080p, not {size}.",
                "Ask for 1280x720 or 1920x1080 (or the 9:16 sizes); conform scales the take.",
            )
        if request.extend_video and size is not None and min(size.width, size.height) != 720:
            raise UnsupportedRequest(
                f"Veo 3.1 on Vertex AI extends a video only at 720p, not {size}.",
                "Ask for 1280x720 or 720x1280 (--size); conform scales the take.",
            )
        if request.reference_images:
            if size is not None and size.height > size.width or request.aspect == "9:16":
                raise UnsupportedRequest(
                    "Veo 3.1 on Vertex AI takes reference images only for 16:9 video.",
                    "Ask for a 16:9 size, or drop the reference images.",
                )
            if request.seconds not in (None, 8):
                raise UnsupportedRequest(
                    f"Veo 3.1 on Vertex AI makes 8 s from reference images, not {request.seconds} s.",
                    "Ask for 8 seconds; conform trims it to the slot.",
                )

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier Vertex take to extend: its gs:// URI when Vertex wrote it to Cloud Storage (no upload),
        else the file promptreel kept of it, which `video_input` sends inline."""
        if purpose != "extend":
            return super().earlier_output(job, purpose)
        self.made_here(job, purpose, "Vertex AI")
        for media in job.media_refs:
            if media.provider_id and media.provider_id.startswith("gs://"):
                return media.provider_id
        kept = [Path(job.output_path)] if job.output_path else []
        kept += [m.inline_path for m in job.media_refs if m.inline_path is not None]  # collected, not yet moved
        for path in kept:
            if path.is_file():
                return str(path)
        raise UnsupportedRequest(
            f"Job {job.id}'s video is no longer on this machine, and Vertex AI did not write it to Cloud Storage.",
            "Give the path of its video file (or its gs:// URI) to extend.",
        )

    def video_input(self, source: str) -> dict[str, str]:
        if source.startswith("gs://"):
            return {"gcsUri": source, "mimeType": "video/mp4"}
        if Path(source).is_file():
            data, mime = read_video(Path(source))
            return {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": mime}
        raise UnsupportedRequest(
            f"Cannot extend {source!r} on Vertex AI: it is neither a gs:// URI nor a file.",
            "Give the path of a Veo video (1-30 s) or its gs:// URI.",
        )

    # submit / poll ------------------------------------------------------------------------
    async def poll(self, job_id: str) -> Status:
        resource = job_id.rpartition("/operations/")[0]
        if not resource:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"{job_id!r} is not a Vertex AI operation name.")
        r = await self._send("POST", f"/v1/{resource}:fetchPredictOperation", json={"operationName": job_id})
        return self.operation_status(r, job_id)

    def result_of(self, op: Operation) -> VideoResult:
        response = op.response or {}
        result = VideoResult.model_validate(response)
        result.videos = [v for v in response.get("videos") or [] if isinstance(v, dict)]
        return result

    def media_of(self, video: dict[str, Any], job_id: str, index: int) -> MediaRef | None:
        uri = video.get("gcsUri")
        if isinstance(uri, str) and uri.startswith("gs://"):
            bucket, _, obj = uri[len("gs://") :].partition("/")
            return MediaRef(
                url=f"{self.storage_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(obj, safe='')}?alt=media",
                provider_id=uri,
            )  # kept: extend sends it
        if video.get("bytesBase64Encoded"):
            return self.write_inline(job_id, index, video["bytesBase64Encoded"])
        return None


class VertexOmni(OmniInteractions, VertexVeo):
    """Gemini Omni on Vertex AI: the Interactions API under the project and location, with Vertex's token.

        POST /v1beta1/projects/{P}/locations/{L}/interactions       (the body as on the Gemini API)
        GET  /v1beta1/projects/{P}/locations/{L}/interactions/{id}
        POST /v1beta1/projects/{P}/locations/{L}/interactions/{id}/cancel

    Vertex has no Files API: a `uri` delivery is written to Cloud Storage at `response_format.gcs_uri`
    ("Required for Vertex if delivery mode is URI"), which promptreel names from settings
    `vertex_output_gcs_uri`; without one the video comes back inline, which stops near 4 MB, so 1080p and
    4k need the bucket. A gs:// output is read through the GCS JSON API, as Veo's are. Refining and
    extending send the earlier take's interaction as `previous_interaction_id`, as on the Gemini API.

    Sources, read 2026-12-06: google-genai 3.6.1 _gaos/google_genai.py (get_google_genai_api_version: on
    Vertex the interactions live under `{api_version}/projects/{project}/locations/{location}`; the
    client's Vertex api_version is v1beta1), _gaos/interactions.py (paths), videoresponseformat.py
    (gcs_uri); docs.cloud.google.com/gemini-enterprise-agent-platform/models/video/generate-videos-from-text
    (Omni model ids on Vertex: gemini-omni-1.2-flash, gemini-omni-1.1-flash-preview,
    gemini-omni-flash-preview); .../reference/rest/v1beta1/projects.locations.interactionsHttp.
    """

    vendor: ClassVar[str] = "Vertex AI"

    def interactions_path(self) -> str:
        return f"/v1beta1/projects/{self.project}/locations/{self.location}/interactions"

    def deliver(self, fmt: VideoFormat) -> None:
        if self.output_gcs_uri:
            fmt.delivery, fmt.gcs_uri = "uri", self.output_gcs_uri
            return
        if fmt.resolution in ("1080p", "4k"):
            raise UnsupportedRequest(
                f"Gemini Omni on Vertex AI sends {fmt.resolution} only to Cloud Storage.",
                "Set vertex_output_gcs_uri in settings to a gs:// folder, or ask for 720p.",
            )
        fmt.delivery = "inline"

    async def video_media(self, uri: str, job_id: str) -> Status:
        media = self.media_of({"gcsUri": uri}, job_id, 0)
        if media is None:
            return Status(
                JobState.FAILED,
                raw_state="no_media",
                error=ProviderError(
                    ErrorKind.PROVIDER, f"{self.vendor} sent a video with neither bytes nor a gs:// URI."
                ),
            )
        return Status(JobState.SUCCEEDED, 1.0, media=[media], raw_state="completed")
