"""Per-model, per-route statistics from the journal: what lets an editor choose a model by evidence.

Counted per (model, route) over the jobs the engine ran (cache hits made nothing, so they are left out):

- delivered: the provider finished and sent media (downloaded or not: the footage exists and is paid for);
- failed: no media, and the job's last attempt ended in an error, classified by the journal's
  `error_kind` (a poll that passed its cap counts as a timeout until `resume` collects the job);
- success rate: delivered / (delivered + failed); jobs still in flight count in neither;
- submit-to-media: from the create going out (`sent_at`) to the provider reporting the media ready
  (`media_at`), median and 90th percentile, over delivered jobs that have both;
- cost per second: what the route's jobs cost (the ledger's charge on each job) over the seconds of
  footage delivered.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from .engine import generated_seconds
from .errors import BadInput
from .journal import Job, Journal
from .providers.base import ErrorKind, JobState
from .request import GenerationRequest

DELIVERED = (JobState.SUCCEEDED, JobState.DOWNLOADING, JobState.DONE)

# error_kind (core/providers/base.ErrorKind, plus the engine's own kinds) -> failure class.
# Anything not named here (bad_request, auth, retired, unknown_outcome, abandoned, render, route,
# internal, not_sent, ...) is "other".
FAILURE_CLASS = {
    ErrorKind.MODERATION.value: "moderation",
    ErrorKind.TIMEOUT.value: "timeout",
    ErrorKind.RATE_LIMITED.value: "rate_limit",
    ErrorKind.PROVIDER.value: "provider_error",
    ErrorKind.RETRYABLE.value: "provider_error",  # a transient server failure that outlasted every retry
    ErrorKind.BILLING.value: "billing",
}
FAILURE_CLASSES = ("moderation", "timeout", "rate_limit", "provider_error", "billing", "other")


@dataclass(frozen=True)
class ModelStats:
    model: str
    route: str
    jobs: int
    delivered: int
    failed: int
    success_rate: float | None  # 0..1; None before any job has an outcome
    moderation: int
    timeout: int
    rate_limit: int
    provider_error: int
    billing: int
    other: int
    median_s: float | None  # submit to media, seconds
    p90_s: float | None
    seconds: float  # footage delivered, seconds
    usd: float  # what the route's jobs cost
    usd_per_second: float | None  # usd / seconds; None when nothing was delivered

    def row(self) -> dict[str, object]:
        return dict(zip(COLUMNS, astuple(self)))


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ModelStats))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _stats(model: str, route: str, jobs: list[Job]) -> ModelStats:
    delivered = [j for j in jobs if j.state in DELIVERED]
    failures = dict.fromkeys(FAILURE_CLASSES, 0)
    for j in jobs:
        if j.state not in DELIVERED and j.error_kind:
            failures[FAILURE_CLASS.get(j.error_kind, "other")] += 1
    failed = sum(failures.values())
    waits = sorted(
        (_when(j.media_at) - _when(j.sent_at)).total_seconds() for j in delivered if j.sent_at and j.media_at
    )
    seconds = float(
        sum((generated_seconds(GenerationRequest.model_validate(j.request)) for j in delivered), Fraction(0))
    )
    usd = round(sum(j.actual_cost or 0.0 for j in jobs), 4)
    return ModelStats(
        model=model,
        route=route,
        jobs=len(jobs),
        delivered=len(delivered),
        failed=failed,
        success_rate=len(delivered) / (len(delivered) + failed) if delivered or failed else None,
        **failures,
        median_s=statistics.median(waits) if waits else None,
        p90_s=percentile(waits, 90) if waits else None,
        seconds=seconds,
        usd=usd,
        usd_per_second=round(usd / seconds, 4) if seconds else None,
    )


ALL_ROUTES = "*"


def model_stats(journal: Journal, since: datetime | None = None, by_model: bool = False) -> list[ModelStats]:
    """One row per (model, route) the journal has jobs for, created at or after `since`; sorted.
    `by_model`: one row per model, its routes together (route ALL_ROUTES)."""
    if since is not None and since.tzinfo is None:
        since = since.astimezone()  # a naive time is the editor's local time
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in journal.jobs():
        if job.cached_from is not None:
            continue
        if since is not None and _when(job.created_at) < since:
            continue
        groups.setdefault((job.model, ALL_ROUTES if by_model else job.route_key), []).append(job)
    return [_stats(model, route, jobs) for (model, route), jobs in sorted(groups.items())]


_AGO = re.compile(r"(\d+)\s*([hdw])")
_UNIT = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`7d`, `12h`, `2w` ago, or a date (local midnight) or ISO date-time."""
    now = now or datetime.now(timezone.utc)
    m = _AGO.fullmatch(text.strip().lower())
    if m:
        return now - timedelta(**{_UNIT[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            f"'{text}' is not a time span or a date.", "Write it as 7d, 12h or 2w, or as a date like 2026-11-01."
        ) from None
    return when if when.tzinfo else when.astimezone()  # a bare date or time is the editor's local time
