"""fal.ai queue API: POST https://queue.fal.run/{model_id}[/{subpath}], then the URLs it returns.

Wire facts (fal docs: model-endpoints/queue, request-errors, errors): `Authorization: Key`;
the submit answer carries request_id, status_url, response_url and cancel_url, which
must be used as given (they address `{owner}/{app}` without the sub-path, so rebuilding
them from the model id is wrong); statuses IN_QUEUE, IN_PROGRESS, COMPLETED (a failure
shows on the result, or as `error` on the status); cancel is a PUT on cancel_url that
drops a queued request or signals a running one; the result JSON holds `video.url` on
fal's CDN; errors are {"detail": ...} with the infrastructure kind in `X-Fal-Error-Type`.
The queue host and the direct host (queue.fal.run, fal.run) share the key; the CDN gets
none. There is no list of past requests, so a lost submit cannot be found again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import KeyHeader, host_of
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .hosted_inputs import build_input
from .httpkit import http_error, json_body, scrub, send

# fal documents the first three; FAILED and CANCELED appear in third-party schemas of the same API.
STATES = {
    "IN_QUEUE": JobState.QUEUED,
    "IN_PROGRESS": JobState.RUNNING,
    "COMPLETED": JobState.SUCCEEDED,
    "FAILED": JobState.FAILED,
    "CANCELED": JobState.CANCELED,
    "CANCELLED": JobState.CANCELED,
}

# X-Fal-Error-Type values that are fal's own infrastructure failing: worth another try.
RETRYABLE_TYPES = {
    "request_timeout",
    "startup_timeout",
    "runner_scheduling_failure",
    "runner_connection_timeout",
    "runner_disconnected",
    "runner_connection_refused",
    "runner_connection_error",
    "runner_incomplete_response",
    "runner_server_error",
    "internal_error",
}
MODERATION_TYPES = {"content_policy_violation"}


class QueueJob(BaseModel):
    """The submit answer; stored whole as our job id so later calls use fal's own URLs."""

    model_config = ConfigDict(extra="ignore")
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str | None = None


class QueueStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: str
    queue_position: int | None = None
    error: Any = None
    error_type: str | None = None


class File(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str
    content_type: str | None = None


class VideoResult(BaseModel):
    model_config = ConfigDict(extra="ignore")
    video: File | None = None


def _detail_text(body: Any) -> tuple[str, str | None]:
    """(message, error type) from fal's {"detail": str | [{loc, msg, type}]} bodies."""
    if not isinstance(body, dict):
        return "", None
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        return "; ".join(str(d.get("msg", "")) for d in detail if isinstance(d, dict)), first.get("type")
    return str(detail or body.get("error") or ""), body.get("error_type")


ROUTE = RouteDescriptor(
    name="fal",
    protocol="promptreel.core.providers.fal:Fal",
    keys={"FAL_KEY": "fal.ai"},
    base_url="https://queue.fal.run",
    poll_seconds=2.0,
    fake="promptreel.core.sandbox.fal:FakeFal",
)


class Fal(Protocol):
    descriptor = ROUTE

    def route_auth(self) -> KeyHeader:
        return KeyHeader("Authorization", f"Key {self.credentials['FAL_KEY']}", self.hosts())

    def hosts(self) -> set[str]:
        """The queue host and its direct twin (queue.fal.run -> fal.run): both take the key."""
        host = host_of(self.base_url)
        return {host, host.removeprefix("queue.")}

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        subpath, inputs = build_input("fal", self.route.model_id, request, "fal")
        return WireCall("POST", f"/{self.route.model_id}{subpath}", json=inputs)

    def _error(self, response: httpx.Response) -> ProviderError:
        message, error_type = _detail_text(json_body(response))
        error_type = response.headers.get("x-fal-error-type") or error_type
        kind = None
        if error_type in RETRYABLE_TYPES:
            kind = ErrorKind.RETRYABLE
        elif error_type in MODERATION_TYPES:
            kind = ErrorKind.MODERATION
        detail = f"{error_type}: {message}" if error_type else message or response.text[:200]
        return http_error(response, "fal", detail, self.credentials, kind)

    async def _get(self, url: str) -> httpx.Response:
        assert self.auth is not None  # fal's key header (route_auth)
        if not self.auth.covers(url):  # a host fal's answer named but we don't know: not worth asking
            raise ProviderError(ErrorKind.PROVIDER, f"fal answered with a URL on an unexpected host ({host_of(url)}).")
        return await send(self.client, "GET", url, vendor="fal")

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        r = await send(self.client, call.method, call.path, vendor="fal", creating=True, json=call.json)
        if r.status_code == 404:  # no such app on fal (any more): the next route may have the model
            raise http_error(
                r, "fal", f"application {call.path.lstrip('/')} not found", self.credentials, ErrorKind.RETIRED
            )
        if r.status_code >= 400:
            raise self._error(r)
        job = QueueJob.model_validate(r.json())
        return Submitted(job_id=job.model_dump_json(exclude_none=True), state=JobState.QUEUED)

    async def poll(self, job_id: str) -> Status:
        job = QueueJob.model_validate_json(job_id)
        r = await self._get(job.status_url)
        if r.status_code >= 400:
            raise self._error(r)
        queue = QueueStatus.model_validate(r.json())
        state = STATES.get(queue.status, JobState.RUNNING)
        status = Status(state=state, raw_state=queue.status)
        if state not in (JobState.SUCCEEDED, JobState.FAILED):
            return status
        if queue.error:
            kind = (
                ErrorKind.MODERATION
                if queue.error_type in MODERATION_TYPES
                else (ErrorKind.RETRYABLE if queue.error_type in RETRYABLE_TYPES else ErrorKind.PROVIDER)
            )
            return Status(
                JobState.FAILED,
                raw_state=queue.status,
                error=ProviderError(kind, f"fal failed the request: {scrub(str(queue.error), self.credentials)}"),
            )
        r = await self._get(job.response_url)
        if r.status_code >= 400:
            error = self._error(r)
            if error.kind is ErrorKind.RATE_LIMITED or (
                error.kind is ErrorKind.RETRYABLE and error.status in (502, 503, 504)
            ):
                raise error  # the result is there; reading it failed: poll again
            return Status(JobState.FAILED, raw_state=queue.status, error=error)
        result = VideoResult.model_validate(r.json())
        if state is JobState.FAILED:
            return Status(
                JobState.FAILED,
                raw_state=queue.status,
                error=ProviderError(ErrorKind.PROVIDER, "fal reported the request failed."),
            )
        if result.video is None or not result.video.url:
            return Status(
                JobState.FAILED,
                raw_state=queue.status,
                error=ProviderError(ErrorKind.PROVIDER, "fal completed the request but returned no video."),
            )
        status.media = [MediaRef(url=result.video.url)]
        return status

    async def cancel(self, job_id: str) -> None:
        job = QueueJob.model_validate_json(job_id)
        assert self.auth is not None  # fal's key header (route_auth)
        if not job.cancel_url or not self.auth.covers(job.cancel_url):
            return None
        r = await send(self.client, "PUT", job.cancel_url, vendor="fal")
        if r.status_code >= 400 and r.status_code != 400:  # 400 ALREADY_COMPLETED: nothing left to cancel
            raise self._error(r)
