"""Veo on the Gemini API (generativelanguage.googleapis.com), header `x-goog-api-key`.

    POST /v1beta/models/{model}:predictLongRunning   -> {"name": "models/{model}/operations/{id}"}
    GET  /v1beta/{name}                              -> the operation; when done:
         response.generateVideoResponse.generatedSamples[].video.uri   (+ raiMediaFilteredCount/Reasons)
    GET  {uri}  (/v1beta/files/{id}:download?alt=media) with the key; it redirects to the bytes

The Gemini API refuses `seed`, `fps` and `generateAudio` (Vertex only), images by gcsUri, and it
extends only videos Veo made on the Gemini API, named by their `uri`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import UnsupportedRequest
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import KeyHeader
from .base import MediaRef, Status, WireCall
from .veo import Operation, VeoProtocol, VideoResult

if TYPE_CHECKING:
    from ..journal import Job

API = "/v1beta"


# poll_seconds: Google's own examples poll every 10 s.
ROUTE = RouteDescriptor(
    name="gemini",
    protocol="promptreel.core.providers.gemini_veo:GeminiVeo",
    keys={"GEMINI_API_KEY": "Google Gemini API (Veo)"},
    base_url="https://generativelanguage.googleapis.com",
    poll_seconds=10.0,
    fake="promptreel.core.sandbox.gemini_omni:FakeGemini",
    by_model=(("gemini-omni-", "promptreel.core.providers.gemini_omni:GeminiOmni"),),
)


class GeminiVeo(VeoProtocol):
    descriptor = ROUTE
    vendor: ClassVar[str] = "Gemini API"

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        body = self.predict_request(request)  # the shared shape: no Vertex-only fields
        return WireCall(
            "POST", f"{API}/models/{self.route.model_id}:predictLongRunning", json=body.model_dump(exclude_none=True)
        )

    def video_input(self, source: str) -> dict[str, str]:
        if source.startswith(("https://", "http://")):
            return {"uri": source}
        if source.startswith("files/"):
            return {"uri": f"{self.base_url}{API}/{source}:download?alt=media"}
        raise UnsupportedRequest(
            "The Gemini API extends only videos Veo made on the Gemini API (kept for 2 days).",
            "Extend a take made on the gemini route (its download URI), or use the vertex route for other videos.",
        )

    def earlier_output(self, job: Job, purpose: str) -> str:
        """An earlier take to extend: the download URI Veo gave it on the Gemini API."""
        if purpose != "extend":
            return super().earlier_output(job, purpose)
        self.made_here(job, purpose, "The Gemini API")
        if not job.route_model_id.startswith("veo"):  # an Omni take on the same route: Veo cannot extend it
            raise UnsupportedRequest(
                f"Job {job.id} was made by {job.route_model_id}; Veo extends only Veo's takes.",
                f"Extend it with {job.route_model_id} itself (--extend {job.id}).",
            )
        uris = [m.url for m in job.media_refs if m.url and m.url.startswith(("https://", "http://"))]
        if not uris:
            raise UnsupportedRequest(
                f"Job {job.id} came back inline, without a Gemini file URI to extend.",
                "Extend it on the vertex route as a video file instead.",
            )
        return uris[0]

    def route_auth(self) -> KeyHeader:
        return KeyHeader("x-goog-api-key", self.credentials.get("GEMINI_API_KEY", ""), self.hosts())

    async def poll(self, job_id: str) -> Status:
        return self.operation_status(await self._send("GET", f"{API}/{job_id}"), job_id)

    def result_of(self, op: Operation) -> VideoResult:
        inner = (op.response or {}).get("generateVideoResponse") or {}
        result = VideoResult.model_validate(inner)
        result.videos = [s.get("video") or {} for s in inner.get("generatedSamples") or [] if isinstance(s, dict)]
        return result

    def media_of(self, video: dict[str, Any], job_id: str, index: int) -> MediaRef | None:
        if video.get("uri"):
            return MediaRef(url=video["uri"])
        if video.get("encodedVideo"):
            return self.write_inline(job_id, index, video["encodedVideo"])
        return None
