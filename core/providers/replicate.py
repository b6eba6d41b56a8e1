"""Replicate: POST /v1/models/{owner}/{name}/predictions (with `Prefer: wait`), then GET /v1/predictions/{id}.

Wire facts (replicate/replicate-python, replicate-python-beta types, replicate.com docs):
the base URL is `https://api.replicate.com/v1` in the SDK's form (the bare host works too);
bearer token; the body is {"input": {...}} in the hosted model's own schema (see
hosted_inputs); statuses starting, processing, succeeded, failed, canceled, and
`aborted` seen in the wild; output is a URL or a list of URLs on replicate.delivery that
expires an hour after an API prediction ends; errors are problem JSON
{type, title, status, detail}; 429 carries Retry-After. File inputs go as data URLs up to
256 KB; larger ones are uploaded first with the Files API (`POST /v1/files`, multipart
`content` + `filename`/`type`/`metadata`) and passed as the file's `urls.get`, as the SDK does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Bearer
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .hosted_inputs import UPLOAD_PREFIX, build_input
from .httpkit import http_error, json_body, scrub, send, send_before_create

WAIT_SECONDS = 5  # hold the create briefly: short jobs come back finished, long ones are polled
DATA_URL_LIMIT = 256 * 1024
OUTPUT_LIFETIME = timedelta(hours=1)

STATES = {
    "starting": JobState.QUEUED,
    "processing": JobState.RUNNING,
    "succeeded": JobState.SUCCEEDED,
    "failed": JobState.FAILED,
    "canceled": JobState.CANCELED,
    "aborted": JobState.FAILED,  # stopped before it ran (e.g. a deadline); nothing was made
}


class Prediction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    model: str | None = None
    status: str
    input: dict[str, Any] | None = None
    output: Any = None
    error: Any = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


class Problem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str = ""
    detail: Any = ""
    status: int | None = None


class PredictionList(BaseModel):
    model_config = ConfigDict(extra="ignore")
    results: list[Prediction] = []
    next: str | None = None


def output_urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [u for u in output if isinstance(u, str)]
    if isinstance(output, dict):  # some models answer {"video": url}
        return [u for u in output.values() if isinstance(u, str) and u.startswith(("http://", "https://"))]
    return []


def failure_kind(message: str) -> ErrorKind:
    lowered = message.lower()
    if any(w in lowered for w in ("sensitive", "flagged", "nsfw", "safety", "moderation", "e005", "policy")):
        return ErrorKind.MODERATION
    if "retry" in lowered or "(code: pa)" in lowered or "interrupted" in lowered:
        return ErrorKind.RETRYABLE
    return ErrorKind.PROVIDER


class FileObject(BaseModel):
    """What `POST /v1/files` answers (replicate-python-beta FileCreateResponse); we need its URL."""

    model_config = ConfigDict(extra="ignore")
    id: str
    urls: dict[str, str]


ROUTE = RouteDescriptor(
    name="replicate",
    protocol="promptreel.core.providers.replicate:Replicate",
    keys={"REPLICATE_API_TOKEN": "Replicate"},
    base_url="https://api.replicate.com/v1",
    poll_seconds=2.0,
    fake="promptreel.core.sandbox.replicate:FakeReplicate",
)


class Replicate(Protocol):
    descriptor = ROUTE
    version_segment = "/v1"

    def route_auth(self) -> Bearer:
        return Bearer(self.credentials["REPLICATE_API_TOKEN"], self.hosts())

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        """The create; images over 256 KB ride in `files`, their places in the input held by placeholders
        that `submit` replaces with the uploaded files' URLs."""
        uploads: dict[str, tuple[str, bytes, str]] = {}
        _, inputs = build_input("replicate", self.route.model_id, request, "Replicate", DATA_URL_LIMIT, uploads)
        return WireCall(
            "POST",
            f"/models/{self.route.model_id}/predictions",
            json={"input": inputs},
            files=uploads or None,
            headers={"Prefer": f"wait={WAIT_SECONDS}"},
        )

    async def upload(self, name: str, data: bytes, mime: str) -> str:
        """One file through the Files API; its URL, for the prediction's input."""
        r = await send_before_create(
            self.client,
            "POST",
            "/files",
            vendor="Replicate",
            data={"filename": name, "type": mime},
            files={"content": (name, data, mime)},
        )
        if isinstance(r, str):  # the create was not sent: say so plainly (not an unknown outcome)
            raise ProviderError(ErrorKind.RETRYABLE, f"Uploading {name} to Replicate's Files API failed ({r}).")
        if r.status_code >= 400:
            raise self._error(r)
        try:
            return FileObject.model_validate(r.json()).urls["get"]
        except (ValueError, KeyError):
            raise ProviderError(
                ErrorKind.RETRYABLE, "Replicate's Files API answered without the file's URL.", status=r.status_code
            ) from None

    async def _with_uploads(self, call: WireCall) -> dict[str, Any]:
        body = call.json or {}
        if not call.files:
            return body
        urls = {key: await self.upload(*part) for key, part in call.files.items()}

        def put(value: Any) -> Any:
            if isinstance(value, list):
                return [put(v) for v in value]
            return urls.get(value, value) if isinstance(value, str) else value

        return {**body, "input": {k: put(v) for k, v in body.get("input", {}).items()}}

    def _error(self, response: httpx.Response) -> ProviderError:
        body = json_body(response)
        detail = response.text[:200]
        if body:
            problem = Problem.model_validate(body)
            detail = f"{problem.title}: {problem.detail}" if problem.title else str(problem.detail or body)
        return http_error(response, "Replicate", detail, self.credentials)

    def _status(self, p: Prediction) -> Status:
        state = STATES.get(p.status, JobState.RUNNING)  # unknown statuses are not endings
        status = Status(state=state, raw_state=p.status)
        if state is JobState.SUCCEEDED:
            urls = output_urls(p.output)
            if not urls:
                status.state = JobState.FAILED
                status.error = ProviderError(ErrorKind.PROVIDER, "Replicate reported success but returned no video.")
            else:
                expires = (p.completed_at or datetime.now(timezone.utc)) + OUTPUT_LIFETIME
                status.media = [MediaRef(url=u, expires_at=expires) for u in urls]
        elif state is JobState.FAILED:
            message = scrub(str(p.error or f"prediction {p.status}"), self.credentials)
            kind = ErrorKind.RETRYABLE if p.status == "aborted" else failure_kind(message)
            status.error = ProviderError(kind, f"Replicate prediction {p.status}: {message}")
        return status

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        body = await self._with_uploads(call)
        r = await send(
            self.client,
            call.method,
            call.path,
            vendor="Replicate",
            creating=True,
            json=body,
            headers=call.headers,
            timeout=httpx.Timeout(WAIT_SECONDS + 30.0),
        )
        if r.status_code == 404:  # the model is not (or no longer) on Replicate: the next route may have it
            raise http_error(
                r, "Replicate", f"model {self.route.model_id} not found", self.credentials, ErrorKind.RETIRED
            )
        if r.status_code >= 400:
            raise self._error(r)
        p = Prediction.model_validate(r.json())
        status = self._status(p)
        media = status.media[0] if status.media else None
        state = (
            status.state
            if status.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
            else JobState.RUNNING
        )
        if status.state is JobState.SUCCEEDED and media is None:
            state = JobState.RUNNING  # let the poll report the failure with its reason
        return Submitted(job_id=p.id, state=state, media=media)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"/predictions/{job_id}", vendor="Replicate")
        if r.status_code >= 400:
            raise self._error(r)
        return self._status(Prediction.model_validate(r.json()))

    async def cancel(self, job_id: str) -> None:
        r = await send(self.client, "POST", f"/predictions/{job_id}/cancel", vendor="Replicate")
        if r.status_code >= 400:
            raise self._error(r)

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """Look through recent predictions for one of this model, made after `sent_at`, with our input.

        Replicate takes no idempotency key, so identity is model + creation time + the
        input's plain fields (data URLs are not echoed back faithfully and uploaded files were
        named by URLs we no longer hold, so both are skipped)."""
        want = {k: v for k, v in (call.json or {}).get("input", {}).items() if not _is_data_url(v)}
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=timezone.utc)
        since = sent_at - timedelta(seconds=5)  # allow for clock skew between us and Replicate
        url: str | None = f"{self.base_url}/predictions"
        auth = self.auth
        assert auth is not None  # Replicate's bearer (route_auth)
        for _ in range(3):  # the newest pages are enough: the lost create was seconds ago
            if url is None or not auth.covers(url):  # a next page elsewhere: not Replicate's to answer
                break
            r = await send(self.client, "GET", url, vendor="Replicate")
            if r.status_code >= 400:
                raise self._error(r)
            page = PredictionList.model_validate(r.json())
            matches = [
                p
                for p in page.results
                if p.model == self.route.model_id
                and p.created_at
                and p.created_at >= since
                and all((p.input or {}).get(k) == v for k, v in want.items())
            ]
            if matches:
                return min(matches, key=lambda p: p.created_at or since).id  # each has created_at
            if page.results and all(p.created_at and p.created_at < since for p in page.results):
                break
            url = page.next
        return None


def _is_data_url(value: Any) -> bool:
    if isinstance(value, list):
        return any(_is_data_url(v) for v in value)
    return isinstance(value, str) and value.startswith(("data:", UPLOAD_PREFIX))
