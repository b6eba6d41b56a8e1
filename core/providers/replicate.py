"""Replicate: POST /v1/models/{owner}/{name}/predictions (with `Prefer: wait`), then GET /v1/predictions/{id}.

Wire facts (replicate/replicate-python, replicate-python-beta types, replicate.com docs):
bearer token; the body is {"input": {...}} in the hosted model's own schema (see
hosted_inputs); statuses starting, processing, succeeded, failed, canceled, and
`aborted` seen in the wild; output is a URL or a list of URLs on replicate.delivery that
expires an hour after an API prediction ends; errors are problem JSON
{type, title, status, detail}; 429 carries Retry-After. File inputs as data URLs only up
to 256 KB (larger ones need the Files API, which this client does not use yet).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from ..request import GenerationRequest
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .hosted_inputs import build_input
from .httpkit import http_error, json_body, scrub, send

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


class Replicate(Protocol):
    name = "replicate"
    default_base_url = "https://api.replicate.com"
    key_names = ("REPLICATE_API_TOKEN",)
    poll_interval = 2.0

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials['REPLICATE_API_TOKEN']}"}

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        _, inputs = build_input("replicate", self.route.model_id, request, "Replicate", DATA_URL_LIMIT)
        return WireCall("POST", f"/v1/models/{self.route.model_id}/predictions", json={"input": inputs},
                        headers={"Prefer": f"wait={WAIT_SECONDS}"})

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
        r = await self.client.request(call.method, self.base_url + call.path, json=call.json,
                                      headers={**call.headers, **self.auth_headers()},
                                      timeout=httpx.Timeout(WAIT_SECONDS + 30.0))
        if r.status_code == 404:  # the model is not (or no longer) on Replicate: the next route may have it
            raise http_error(r, "Replicate", f"model {self.route.model_id} not found", self.credentials, ErrorKind.RETIRED)
        if r.status_code >= 400:
            raise self._error(r)
        p = Prediction.model_validate(r.json())
        status = self._status(p)
        media = status.media[0] if status.media else None
        state = status.state if status.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED) else JobState.RUNNING
        if status.state is JobState.SUCCEEDED and media is None:
            state = JobState.RUNNING  # let the poll report the failure with its reason
        return Submitted(job_id=p.id, state=state, media=media)

    async def poll(self, job_id: str) -> Status:
        r = await send(self.client, "GET", f"{self.base_url}/v1/predictions/{job_id}", vendor="Replicate",
                       headers=self.auth_headers())
        if r.status_code >= 400:
            raise self._error(r)
        return self._status(Prediction.model_validate(r.json()))

    async def cancel(self, job_id: str) -> None:
        r = await self.client.post(f"{self.base_url}/v1/predictions/{job_id}/cancel", headers=self.auth_headers())
        if r.status_code >= 400:
            raise self._error(r)

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """Look through recent predictions for one of this model, made after `sent_at`, with our input.

        Replicate takes no idempotency key, so identity is model + creation time + the
        input's plain fields (data URLs are not echoed back faithfully, so they are skipped).
        """
        want = {k: v for k, v in (call.json or {}).get("input", {}).items() if not _is_data_url(v)}
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=timezone.utc)
        since = sent_at - timedelta(seconds=5)  # allow for clock skew between us and Replicate
        url: str | None = f"{self.base_url}/v1/predictions"
        for _ in range(3):  # the newest pages are enough: the lost create was seconds ago
            if url is None or not self.owns(url):
                break
            r = await self.client.get(url, headers=self.auth_headers())
            if r.status_code >= 400:
                raise self._error(r)
            page = PredictionList.model_validate(r.json())
            matches = [p for p in page.results
                       if p.model == self.route.model_id and p.created_at and p.created_at >= since
                       and all((p.input or {}).get(k) == v for k, v in want.items())]
            if matches:
                return min(matches, key=lambda p: p.created_at).id
            if page.results and all(p.created_at and p.created_at < since for p in page.results):
                break
            url = page.next
        return None


def _is_data_url(value: Any) -> bool:
    if isinstance(value, list):
        return any(_is_data_url(v) for v in value)
    return isinstance(value, str) and value.startswith("data:")
