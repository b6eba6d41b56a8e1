"""The job engine: one asyncio engine for every protocol.

A job moves PLANNED -> SUBMITTING -> QUEUED/RUNNING -> SUCCEEDED -> DOWNLOADING -> DONE, and
every step is in the journal before the next begins. The promises it keeps:

- the provider's job id is committed the moment a create returns (no paid job is lost);
- a create whose outcome is unknown is never resent blindly: it is reconciled with the
  provider's own lookup, or left for the editor to decide (no job is paid for twice);
- one job per request: a request identical to one already being made (in this batch, by a crashed
  run, by another process now) attaches to that job; a process drives a job only while it holds the
  job's claim, and waits on a job another live process holds;
- downloads retry on their own and never start a new generation;
- outputs land under a temporary name, are probed, then renamed to `<job id>.mp4`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from .catalog import Catalog, Model, Route
from .conform.probe import MediaInfo, probe
from .download import DownloadError, fetch
from .errors import BadInput, BudgetExceeded, MediaError, MissingKey, UnknownModel, UnsupportedRequest, UserError
from .events import Event, EventKind, OnEvent, ignore
from .files import replacing
from .journal import CLAIM_SECONDS, Caps, Job, Journal, new_id, now_iso, owner_id, whoami
from .keys import redact, require_keys
from .limits import Limiters, RouteLimiter
from .plan import PlannedRequest
from .providers import protocol_class
from .providers.base import (
    ErrorKind,
    JobState,
    LocalProtocol,
    MediaRef,
    Protocol,
    ProviderError,
    Status,
    Submitted,
    WireCall,
)
from .request import GenerationRequest
from .settings import Settings, base_url_for, media_root, output_dir

log = logging.getLogger("promptreel.engine")

# A create that raised one of these never left this machine: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_SUCCESS = (JobState.SUCCEEDED, JobState.DONE)
_ENDED = (JobState.FAILED, JobState.CANCELED)
SANDBOX_KEY_PREFIX = "sbx-"  # every placeholder key the sandbox's fakes accept (core/sandbox/run.py)


@dataclass
class JobResult:
    job_id: str
    model: str
    variant: int
    state: JobState
    path: Path | None = None
    info: MediaInfo | None = None
    cost: float = 0.0
    cached: bool = False
    error_kind: str | None = None
    error: str | None = None
    resumable: bool = False

    @property
    def ok(self) -> bool:
        return self.state is JobState.DONE


class _Stop(Exception):
    """A job ends its run here (failed, or left for `resume`); the journal already says why."""

    def __init__(self, result: JobResult):
        self.result = result


class _Fallback(Exception):
    """The route cannot serve the job (retired, key refused, down); the job was moved to the model's next route."""


def falls_over(e: ProviderError) -> bool:
    """A create failure that says nothing about the request and made no job: the model's next route may
    serve it. Retired, a refused key, or a server still failing (or unreachable) after every retry.
    Billing, moderation and bad requests never move on: the same request would be refused, or paid, elsewhere."""
    return e.kind in (ErrorKind.RETIRED, ErrorKind.AUTH, ErrorKind.RETRYABLE)


class _UnknownOutcome(Exception):
    pass


def generated_seconds(request: GenerationRequest) -> Fraction:
    if request.frames is not None and request.fps is not None:
        return Fraction(request.frames) / request.fps
    return Fraction(request.seconds or 0)


def estimate(model: Model, request: GenerationRequest) -> float:
    """Catalog price for one take of `request`, in USD."""
    return round(model.price_per_second(request.size) * float(generated_seconds(request)), 4)


def refuse_unknown_prices(models: list[Model], budget: float | None, cap: float | None) -> None:
    """A model whose price is unknown (added from a schema with no pricing API) cannot be held to a budget or
    cap: counting it as $0 would pass any. Refuse, and say how to give it a price."""
    unpriced = sorted({m.id for m in models if not m.price_known})
    if not unpriced or (budget is None and cap is None):
        return
    limit = f"the budget of ${budget:.2f}" if budget is not None else f"the daily cap of ${cap:.2f}"
    raise BudgetExceeded(
        f"The price of {', '.join(unpriced)} is unknown, so {limit} cannot be checked.",
        "Set `price` in its entry in your catalog file, or run it without a budget or cap.",
    )


def variant_request(request: GenerationRequest, variant: int) -> GenerationRequest:
    """One take: variants are separate jobs; a given seed is offset per variant so takes differ."""
    seed = request.seed + variant if request.seed is not None else None
    return request.model_copy(update={"variants": 1, "seed": seed})


def _transport_cause(error: BaseException) -> httpx.TransportError | None:
    exc: BaseException | None = error
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, httpx.TransportError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def create_outcome_unknown(exc: BaseException) -> bool:
    """True when a create went out and no answer came back (the provider may have made the job)."""
    if isinstance(exc, ProviderError) and exc.status is not None:
        return False  # the server answered
    cause = _transport_cause(exc)
    return cause is not None and not isinstance(cause, _NOT_SENT)


@dataclass
class _Take:
    planned: PlannedRequest
    request: GenerationRequest
    model: Model
    variant: int
    cache_key: str
    estimate: float
    hit: tuple[str, Path] | None


class Engine:
    attempts = 5  # tries per step (create, poll, download) before giving up on this run
    backoff_base = 1.0
    backoff_cap = 60.0

    def __init__(self, catalog: Catalog, journal: Journal, settings: Settings):
        self.catalog = catalog
        self.journal = journal
        self.settings = settings
        journal.media_root = media_root(settings)  # this seat's mount of the studio's media (core/media_paths.py)
        self.sleep = asyncio.sleep  # every wait goes through here (tests record instead of waiting)
        self.clock = time.monotonic
        self._retired: set[str] = set()  # route keys that answered RETIRED (or refused the key) in this process
        self._route_failures: dict[str, list[str]] = {}  # job id -> "route: why" for each route that failed it
        self._client: httpx.AsyncClient | None = None
        self._limiters: Limiters | None = None
        self._protocols: dict[str, Protocol | LocalProtocol] = {}
        self.owner = owner_id()  # this process, as the holder of claims on jobs
        self.claim_poll = 0.25  # seconds between looks at a job another process drives (a journal read, no network)

    # --- public -------------------------------------------------------------------------------

    async def run(
        self,
        planned: list[PlannedRequest],
        *,
        budget: float | None = None,
        no_cache: bool = False,
        on_event: OnEvent = ignore,
    ) -> list[JobResult]:
        """Generate every take of every planned request. Refuses over-budget batches before any submit."""
        takes = self._takes(planned, no_cache)
        # One request used twice (a multi-shot take's shots, a repeated draft) is one job: priced once.
        fresh = {t.cache_key: t for t in takes if t.hit is None}
        total = round(sum(t.estimate for t in fresh.values()), 4)
        paid = len(fresh)
        if budget is not None and total > budget + 1e-9:
            raise BudgetExceeded(
                f"This run would cost about ${total:.2f} ({paid} take(s)), over the budget of ${budget:.2f}.",
                "Raise --budget, or ask for fewer or shorter takes.",
            )
        refuse_unknown_prices([t.model for t in takes if t.hit is None], budget, self.settings.daily_cap_usd)
        routes = {t.model.id: self._pick_route(t.model) for t in takes if t.hit is None}

        batch = new_id("batch")
        jobs: dict[str, str] = {}  # request identity -> the job that makes it
        uses = [t.cache_key for t in takes]  # each take's identity, in order
        with self.journal.transaction():  # the run's jobs and their reservation go in together, or not at all
            reserve = self._add_jobs(takes, batch, routes, jobs, no_cache)
            self.journal.reserve(reserve, self._caps())  # before the first create; refused: nothing was added
        jobs = {key: jobs[key] for key in dict.fromkeys(uses)}
        first: dict[str, _Take] = {}  # request identity -> its first take in this batch
        for t in takes:
            first.setdefault(t.cache_key, t)
        for key, job_id in jobs.items():
            on_event(Event(EventKind.QUEUED, job_id, first[key].model.id, first[key].variant))

        async with self._session():
            done = await asyncio.gather(
                *(
                    self._cached(job_id, first[key].model.id, first[key].variant, hit[1], on_event)
                    if (hit := first[key].hit) is not None
                    else self._collect(job_id, on_event, create=True)
                    for key, job_id in jobs.items()
                )
            )
        by_key = dict(zip(jobs, done))
        results, seen = [], set()
        for key in uses:
            result = by_key[key]
            if key in seen:  # a second use of one job: its result, paid once
                result = replace(result, cost=0.0, cached=True)
            seen.add(key)
            results.append(result)
        return results

    def _add_jobs(
        self, takes: list[_Take], batch: str, routes: dict[str, Route], jobs: dict[str, str], no_cache: bool
    ) -> list[tuple[str, float, str]]:
        """One job per distinct request into `jobs`; returns the new ones' (job id, estimate, project) to reserve.
        In request order: two seats adding overlapping runs take their locks in one order."""
        fresh = []
        for t in sorted(takes, key=lambda t: t.cache_key):
            if t.cache_key in jobs:  # the same request twice in this batch: one job serves both
                continue
            data = t.request.model_dump(mode="json")
            if t.hit is not None:
                job_id = self.journal.add_job(
                    batch_id=batch,
                    request=data,
                    cache_key=t.cache_key,
                    variant=t.variant,
                    model=t.model.id,
                    route_key="cache:" + t.model.id,
                    estimated_cost=0.0,
                    state=JobState.DONE,
                    output_path=str(t.hit[1]),
                    cached_from=t.hit[0],
                )
                self.journal.charge(
                    job_id,
                    t.model.id,
                    0.0,
                    t.request.tags.get("project", ""),
                    sandbox=self.journal.charged_to_sandbox(t.hit[0]),
                )  # a sandbox take stays pretend
                jobs[t.cache_key] = job_id
                continue
            # A fresh job holds the request's identity, so a crashed run's job, or another process's,
            # for the same request is found here instead of made again (`--no-cache` makes a fresh one).
            mine = new_id("job")
            job_id = self.journal.add_job(
                batch_id=batch,
                request=data,
                cache_key=t.cache_key,
                variant=t.variant,
                model=t.model.id,
                route_key=routes[t.model.id].key,
                estimated_cost=t.estimate,
                job_id=mine,
                live=not no_cache,
                owner=self.owner,
            )
            if job_id != mine:
                log.info(
                    "take %s of %s attaches to job %s, already being made for the same request",
                    t.variant,
                    t.model.id,
                    job_id,
                )
            else:
                fresh.append((job_id, t.estimate, t.request.tags.get("project", "")))
            jobs[t.cache_key] = job_id
        return fresh

    async def resume(
        self, on_event: OnEvent = ignore, *, resend: Iterable[str] = (), abandon: Iterable[str] = ()
    ) -> list[JobResult]:
        """Collect every unfinished job: reconcile, poll, download. Creates nothing, except the jobs
        named in `resend` (the editor's decision for an unknown outcome or a create never sent)."""
        abandon, resend = list(abandon), set(resend)
        for job_id in [*abandon, *resend]:  # check every name before changing anything
            self._existing(job_id)
        for job_id in resend:
            job = self.journal.job(job_id)
            if job.state not in (JobState.UNKNOWN, JobState.PLANNED, JobState.SUBMITTING):
                raise BadInput(
                    f"Job {job_id} is {job.state.value}; only a job whose create was never sent or whose "
                    "outcome is unknown can be resent.",
                    "Run `promptreel jobs` to see each job's state.",
                )
        for job_id in [*abandon, *resend]:  # a job another live run drives is that run's to finish
            if not self.journal.claim(job_id, self.owner):
                raise BadInput(
                    f"Job {job_id} is being made by another promptreel process right now "
                    f"({self.journal.claim_holder(job_id)}).",
                    "Wait for that run to finish, then run `promptreel resume` again.",
                )
        try:
            # A resend is paid like any create: reserved first, and refused (changing nothing) past a cap.
            self.journal.reserve(
                [
                    (j.id, j.estimated_cost, j.request.get("tags", {}).get("project", ""))
                    for j in map(self.journal.job, resend)
                ],
                self._caps(),
            )
            async with self._session():
                for job_id in abandon:
                    await self._abandon(self.journal.job(job_id), on_event)
                for job_id in resend:
                    self.journal.set_state(job_id, JobState.PLANNED)
                jobs = [j for j in self.journal.unfinished() if not self._superseded(j, on_event, resend)]
                results = await asyncio.gather(*(self._collect(j.id, on_event, create=j.id in resend) for j in jobs))
        finally:
            self.journal.release(self.owner)
        return list(results)

    async def refetch(self, job_ids: Iterable[str], on_event: OnEvent = ignore) -> list[JobResult]:
        """Download again, from the provider's job, the takes of finished jobs this seat cannot read (made on a
        seat whose media folder it does not mount): no create, no charge. Where the provider no longer has the
        output, refused (changing nothing), saying that `--no-cache` makes a new, paid take."""
        jobs = [self._refetchable(job_id) for job_id in job_ids]  # every name checked before any call
        async with self._session():
            return [await self._refetch(job, on_event) for job in jobs]

    def _refetchable(self, job_id: str) -> Job:
        job = self.journal.get(job_id)
        if job is None:
            raise BadInput(f"There is no job {job_id}.", "Run `promptreel jobs` to list job ids.")
        while job.cached_from and (made := self.journal.get(job.cached_from)) is not None:
            job = made  # a cache hit: the job that made the take
        if job.state is not JobState.DONE:
            raise BadInput(
                f"Job {job.id} is {job.state.value}, not finished: there is no take to fetch again.",
                "Run `promptreel resume` to collect unfinished jobs.",
            )
        if not job.provider_job_id or getattr(self._class_of(job), "local", False):
            raise BadInput(
                f"Job {job.id} was rendered locally ({job.route_key}): no provider holds its take.",
                "Run the request again on this seat: a local render costs nothing.",
            )
        return job

    async def _refetch(self, job: Job, on_event: OnEvent) -> JobResult:
        proto = self._protocol(self._route_of(job))
        assert not isinstance(proto, LocalProtocol)
        expired = BadInput(
            f"Job {job.id}'s take has expired at {proto.route.protocol}: it can no longer be downloaded.",
            "Pass --no-cache to make (and pay for) a new take.",
        )

        async def fresh_media() -> MediaRef:
            try:
                status = await self._poll_once(job, proto)
            except ProviderError as e:
                if e.retryable:
                    raise BadInput(
                        f"{proto.route.protocol} did not answer for job {job.id}: {e.message}",
                        f"Run `promptreel resume --refetch {job.id}` again later.",
                    ) from None
                raise expired from None  # the provider no longer knows the job
            if status.state not in _SUCCESS or not status.media:
                raise expired
            return status.media[0]

        def progress(have: int, total: int | None) -> None:
            on_event(Event(EventKind.DOWNLOADING, job.id, job.model, job.variant, bytes=have, total=total))

        media = await fresh_media()
        final = self._out_dir() / f"{job.id}.mp4"
        for last in (False, True):
            try:
                info = await self._fetch_into(final, proto, media, progress)
                break
            except DownloadError as e:
                if e.status not in (401, 403, 404, 410):
                    raise BadInput(
                        f"Job {job.id}'s take could not be downloaded again: {e.message}",
                        f"Run `promptreel resume --refetch {job.id}` again.",
                    ) from None
                if last:
                    raise expired from None
                media = await fresh_media()  # its URL may have lapsed between the two calls: once more
        log.info("job %s: take fetched again from %s into %s (no charge)", job.id, proto.route.protocol, final)
        await asyncio.to_thread(self._record_provenance, job, final, True)
        on_event(Event(EventKind.DONE, job.id, job.model, job.variant, path=final))
        return replace(self._result(job.id, info=info), path=final, cost=0.0)

    async def _fetch_into(
        self, final: Path, proto: Protocol, media: MediaRef, progress: Callable[[int, int | None], None]
    ) -> MediaInfo:
        """Download `media` into `final`, written under a temporary name beside it and probed before the rename."""
        with replacing(final, suffix=".mp4") as tmp:
            if media.inline_path is not None:
                if not media.inline_path.is_file():
                    raise DownloadError(f"The answer's file {media.inline_path} is gone.", retryable=False, status=410)
                os.replace(media.inline_path, tmp)
            else:
                url, headers = proto.media_request(media)
                async for attempt in self._retrying(lambda e: isinstance(e, DownloadError) and e.retryable):
                    with attempt:
                        await fetch(self._http, url, headers, tmp, progress, auth=proto.auth)
            try:
                info = await asyncio.to_thread(probe, tmp)
            except MediaError:
                raise DownloadError("The downloaded file is not playable media.", retryable=False) from None
        return MediaInfo(final, info.width, info.height, info.rate, info.frames, info.pix_fmt, info.has_audio)

    def _caps(self) -> Caps:
        s = self.settings
        return Caps(s.daily_cap_usd, s.user_daily_cap_usd, s.project_caps_usd)

    async def _abandon(self, job: Job, on_event: OnEvent) -> None:
        """Give up on a job: cancel it at the provider where the protocol can (so it stops costing), delete
        its partial files, and mark it canceled."""
        note = ""
        if job.provider_job_id and not job.state.terminal and job.state is not JobState.SUCCEEDED:
            try:
                proto = self._protocol(self._route_of(job))
                if not isinstance(proto, LocalProtocol):
                    await proto.cancel(job.provider_job_id)
                    note = " Asked the provider to cancel it."
            except (UserError, ProviderError, httpx.HTTPError, KeyError, ImportError) as e:
                note = f" The provider could not be asked to cancel it ({redact(str(e) or type(e).__name__)})."
        for leftover in self._partials(job.id):
            leftover.unlink(missing_ok=True)
        self.journal.set_error(
            job.id,
            "abandoned",
            "Abandoned by the editor (promptreel resume --abandon)." + note,
            state=JobState.CANCELED,
        )
        on_event(Event(EventKind.FAILED, job.id, job.model, job.variant, reason="abandoned" + note))

    def _partials(self, job_id: str) -> list[Path]:
        """The half-written files a job can leave in the output folder (a download, a synchronous answer)."""
        out = output_dir(self.settings).expanduser()
        return [out / f".{job_id}.part.mp4", out / f".{job_id}.staging.mp4"]

    def _superseded(self, job: Job, on_event: OnEvent, resend: set[str]) -> bool:
        """A job never sent whose request another job has since made (its take is in the cache): nothing to
        offer for `--resend`, so it is closed, pointing at the job that made it."""
        if job.state is not JobState.PLANNED or job.id in resend:
            return False
        made = self._cache_hit(job.cache_key)
        if made is None or made[0] == job.id:
            return False
        self.journal.set_error(
            job.id, "superseded", f"Never sent; job {made[0]} made the same take since.", state=JobState.CANCELED
        )
        return True

    async def _collect(self, job_id: str, on_event: OnEvent, *, create: bool) -> JobResult:
        """Drive a job while this process holds its claim; while another live process holds it, wait for
        that process to finish it (or to die, when its claim lapses and this process takes over)."""
        waiting = False
        while True:
            if self.journal.claim(job_id, self.owner):  # a job this run added is claimed already: one statement
                try:
                    job = self.journal.job(job_id)  # read once claimed: the holder may have finished it just before
                    if not job.state.terminal:
                        return await self._drive(job, on_event, create=create)
                finally:
                    self.journal.release(self.owner, job_id)
            else:
                job = self.journal.job(job_id)
            if job.state.terminal:
                return await self._made_elsewhere(job, on_event)
            if not waiting:
                log.info(
                    "job %s is being made by another process (%s); waiting for it",
                    job_id,
                    self.journal.claim_holder(job_id),
                )
                on_event(Event(EventKind.WAITING, job.id, job.model, job.variant))
                waiting = True
            await asyncio.sleep(self.claim_poll)

    async def _made_elsewhere(self, job: Job, on_event: OnEvent) -> JobResult:
        """The result of a job another process finished (or ended): this run paid nothing for it."""
        if job.state is not JobState.DONE:
            on_event(Event(EventKind.FAILED, job.id, job.model, job.variant, reason=job.error_message))
            return replace(self._result(job.id), cost=0.0)
        assert job.output_path is not None  # a finished job names its take
        path = Path(job.output_path)
        if not path.is_file():
            path = self._local_copy(job.id) or path
        return await self._cached(job.id, job.model, job.variant, path, on_event)

    # --- planning -----------------------------------------------------------------------------

    def _takes(self, planned: list[PlannedRequest], no_cache: bool) -> list[_Take]:
        takes = []
        for p in planned:
            model = self.catalog.get(p.request.model)
            base_key = p.request.cache_key()
            first = p.slot.variant if p.slot is not None else 0  # a slot that is one take of several
            for v in range(first, first + p.request.variants):
                req = variant_request(p.request, v - first)
                key = f"{base_key}:{v}"
                hit = None
                if not no_cache:
                    found = self.journal.cache_get(key)  # one look per take (a round trip on a shared database)
                    hit = self._readable(found)
                    if hit is None and found is not None:
                        self._refuse_unreachable_take(found)
                takes.append(_Take(p, req, model, v, key, estimate(model, req), hit))
        return takes

    def _cache_hit(self, key: str) -> tuple[str, Path] | None:
        return self._readable(self.journal.cache_get(key))

    def _readable(self, found: tuple[str, Path] | None) -> tuple[str, Path] | None:
        """A cache entry's take as this seat reads it (its own copy, where the shared path is out of reach)."""
        if found is None:
            return None
        if found[1].is_file():
            return found
        copy = self._local_copy(found[0])
        return (found[0], copy) if copy is not None else None

    def _local_copy(self, job_id: str) -> Path | None:
        """This seat's own copy of a take it could not read, fetched again by `resume --refetch`: named for the job
        in this seat's output folder (the shared cache still names the copy of the seat that made it)."""
        path = output_dir(self.settings).expanduser() / f"{job_id}.mp4"
        return path if path.is_file() else None

    def _refuse_unreachable_take(self, found: tuple[str, Path]) -> None:
        """On a shared database, a take another seat made whose file this machine cannot read (`found`: its
        cache entry) is not paid for again silently: refused before anything is spent, saying where and what to do."""
        job = self.journal.get(found[0])
        if job is None or not job.host or job.host == whoami()[1]:
            return  # this machine's own take, since deleted: making it again is what the editor expects
        where = found[1] if found[1].is_absolute() else f"{found[1]} under the studio's media_root (unset on this seat)"
        refetch = (
            f"run `promptreel resume --refetch {job.id}` to download it again from the provider (no new charge), "
            if job.provider_job_id and not getattr(self._class_of(job), "local", False)
            else ""
        )
        raise BadInput(
            f"This take was already made (job {job.id}, on {job.host}) at {where}, which this machine cannot read.",
            f"Set media_root to where this seat mounts the studio's media folder, "
            f"{refetch}or pass --no-cache to make (and pay for) a new take.",
        )

    def _class_of(self, job: Job) -> type | None:
        try:
            return protocol_class(job.protocol, job.route_model_id)
        except (KeyError, ImportError):
            return None

    def _pick_route(self, model: Model, after: Route | None = None) -> Route:
        """The model's first usable route (after `after`, when falling back). Never another model."""
        routes = model.usable_routes()
        if after is not None:
            keys = [r.key for r in routes]
            routes = routes[keys.index(after.key) + 1 :] if after.key in keys else routes
        missing: MissingKey | None = None
        reasons = []
        for route in routes:
            if route.key in self._retired:
                reasons.append(f"{route.key} is retired or refused the key in this run")
                continue
            try:
                cls = protocol_class(route.protocol, route.model_id)
            except (KeyError, ImportError) as e:
                reasons.append(f"{route.protocol} is not available ({type(e).__name__}: {e})")
                continue
            try:
                require_keys(cls.key_names, f"{model.name} via {route.protocol}")
                if issubclass(cls, Protocol):
                    cls.check_ready()
            except MissingKey as e:
                missing = missing or e
                continue
            return route
        if missing is not None:
            raise self._retired_hint(model, missing)
        raise UnsupportedRequest(
            f"{model.name} has no usable route: {'; '.join(reasons) or 'none listed'}.",
            "Choose another model, or add a route for it in your catalog file.",
        )

    @staticmethod
    def _retired_hint(model: Model, missing: MissingKey) -> MissingKey:
        """A key the user has reaches only a route the vendor shut down (a Gemini API key and Veo 3.1):
        say so with the route's own note (it names what replaces it), beside the key that is missing."""
        for route in model.routes:
            if route.usable():
                continue
            try:
                cls = protocol_class(route.protocol, route.model_id)
                if not cls.key_names:
                    continue
                require_keys(cls.key_names, route.protocol)
            except (KeyError, ImportError, MissingKey):
                continue
            ended = f"shut down on {route.shutdown_on}" if route.shutdown_on else "retired"
            note = f" {route.note.rstrip('.')}." if route.note else ""
            return MissingKey(
                missing.problem,
                f"{missing.fix} Your {route.protocol} key does not reach {model.name}: {route.label()} {ended}.{note}",
            )
        return missing

    def _route_of(self, job: Job) -> Route:
        try:
            for route in self.catalog.get(job.model).routes:
                if route.key == job.route_key:
                    return route
        except UnknownModel:
            pass
        return Route(protocol=job.protocol, model_id=job.route_model_id)

    def _existing(self, job_id: str) -> Job:
        job = self.journal.get(job_id)
        if job is None:
            raise BadInput(f"There is no job {job_id}.", "Run `promptreel jobs` to list job ids.")
        if job.state.terminal:
            raise BadInput(f"Job {job_id} is already {job.state.value}.", "Nothing to do for it.")
        return job

    # --- session ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=15.0)) as client:
            self._client, self._limiters, self._protocols = client, Limiters(self.settings, self.sleep), {}
            renewing = asyncio.create_task(self._renew_claims())
            try:
                yield
            finally:
                renewing.cancel()
                with suppress(asyncio.CancelledError):
                    await renewing
                self.journal.release(self.owner)
                self._client, self._limiters, self._protocols = None, None, {}

    async def _renew_claims(self) -> None:
        """Keep this process's claims alive while it runs (real time: a claim is a promise to other processes)."""
        while True:
            await asyncio.sleep(CLAIM_SECONDS / 3)
            self.journal.renew(self.owner)

    @property
    def _http(self) -> httpx.AsyncClient:
        assert self._client is not None, "the engine's connections exist inside _session() only"
        return self._client

    def _limiter(self, route: Route) -> RouteLimiter:
        assert self._limiters is not None, "the engine's limits exist inside _session() only"
        return self._limiters(route)

    def _protocol(self, route: Route) -> Protocol | LocalProtocol:
        if route.key not in self._protocols:
            cls = protocol_class(route.protocol, route.model_id)
            if issubclass(cls, LocalProtocol):
                self._protocols[route.key] = cls(route)
            else:
                creds = require_keys(cls.key_names, f"The {route.protocol} route")
                self._protocols[route.key] = cls(self._http, route, creds, base_url_for(route.protocol, self.settings))
        return self._protocols[route.key]

    def _out_dir(self) -> Path:
        path = output_dir(self.settings).expanduser().resolve()  # the journal keeps absolute paths
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BadInput(
                f"Cannot create the output folder {path} ({e.strerror}).",
                "Set output_dir in settings.toml or pass --out to a writable folder.",
            ) from None
        return path

    def _retrying(self, retryable: Callable[[BaseException], bool]) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            retry=retry_if_exception(retryable),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter; never shorter than the server's Retry-After."""
        n = state.attempt_number
        delay: float = min(self.backoff_cap, self.backoff_base * 2 ** (n - 1)) * random.uniform(0.5, 1.0)
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after:
            delay = max(delay, after + random.uniform(0, min(1.0, after / 10)))
        return delay

    # --- one job ------------------------------------------------------------------------------

    def _result(
        self, job_id: str, *, info: MediaInfo | None = None, resumable: bool = False, cached: bool = False
    ) -> JobResult:
        job = self.journal.get(job_id)
        assert job is not None
        return JobResult(
            job.id,
            job.model,
            job.variant,
            job.state,
            Path(job.output_path) if job.output_path else None,
            info,
            job.actual_cost or 0.0,
            cached,
            job.error_kind,
            job.error_message,
            resumable,
        )

    def _stop(
        self, job: Job, on_event: OnEvent, kind: str, message: str, *, state: JobState | None, resumable: bool
    ) -> _Stop:
        message = redact(message)
        self.journal.set_error(job.id, kind, message, state)
        log.info("job %s %s: %s", job.id, "left for resume" if resumable else "failed", message)
        on_event(Event(EventKind.FAILED, job.id, job.model, job.variant, reason=message, resumable=resumable))
        return _Stop(self._result(job.id, resumable=resumable))

    async def _cached(self, job_id: str, model: str, variant: int, path: Path, on_event: OnEvent) -> JobResult:
        """A take already on disk (a cache hit, or a job another process made): probed, reported, not
        paid by this run."""
        try:
            info = await asyncio.to_thread(probe, path)
        except MediaError:
            info = None
        on_event(Event(EventKind.CACHED, job_id, model, variant, path=path))
        return replace(self._result(job_id, info=info, cached=True), path=path, cost=0.0)

    async def _drive(self, job: Job, on_event: OnEvent, *, create: bool) -> JobResult:
        job_id = job.id
        try:
            while True:
                route = self._route_of(job)
                try:
                    proto = self._protocol(route)
                except (UserError, KeyError, ImportError) as e:
                    raise self._stop(
                        job, on_event, "route", f"Route {route.key} cannot be used: {e}", state=None, resumable=True
                    ) from None
                if isinstance(proto, LocalProtocol):
                    return await self._render(job, proto, on_event)
                limiter = self._limiter(route)
                try:
                    if job.state in (
                        JobState.PLANNED,
                        JobState.SUBMITTING,
                        JobState.UNKNOWN,
                        JobState.QUEUED,
                        JobState.RUNNING,
                    ):
                        async with limiter.slots:
                            if job.state is JobState.PLANNED:
                                if not create:
                                    raise self._stop(
                                        job,
                                        on_event,
                                        "not_sent",
                                        f"Job {job.id} was never sent. Run `promptreel resume --resend "
                                        f"{job.id}` to send it, or `--abandon {job.id}`.",
                                        state=None,
                                        resumable=True,
                                    )
                                job = await self._create(job, proto, limiter, on_event)
                            if job.state in (JobState.SUBMITTING, JobState.UNKNOWN):
                                job = await self._reconcile(job, proto, on_event)
                            if job.state in (JobState.QUEUED, JobState.RUNNING):
                                job = await self._poll(job, proto, on_event)
                    if job.state in (JobState.SUCCEEDED, JobState.DOWNLOADING):
                        return await self._download(job, proto, on_event)
                    return self._result(job.id)
                except _Fallback:
                    job = self.journal.job(job_id)  # planned again, on the model's next route
                    continue
        except _Stop as stop:
            return stop.result
        except Exception as e:  # a bug: keep the job in the journal, collectable, and let the batch go on
            if isinstance(e, sqlite3.OperationalError) and "full" in str(e):
                # The journal cannot be written: say so, and write nothing more (what it holds is still true).
                job = self.journal.job(job_id)
                message = (
                    f"The disk holding promptreel's journal is full ({e}). Job {job_id} is kept as far as "
                    "it got: free some space, then run `promptreel resume` to collect it."
                )
                on_event(Event(EventKind.FAILED, job_id, job.model, job.variant, reason=message, resumable=True))
                return replace(self._result(job_id, resumable=True), error_kind="disk_full", error=message)
            log.exception("job %s stopped on an internal error", job_id)
            job = self.journal.job(job_id)
            self.journal.set_error(job_id, "internal", redact(f"{type(e).__name__}: {e}"))
            on_event(
                Event(
                    EventKind.FAILED,
                    job_id,
                    job.model,
                    job.variant,
                    reason=redact(str(e)),
                    resumable=not job.state.terminal,
                )
            )
            return self._result(job_id, resumable=not job.state.terminal)

    # create -------------------------------------------------------------------------------------

    def _build(self, proto: Protocol, job: Job) -> WireCall:
        """The protocol's create call for `job`. An earlier promptreel job named as the video to extend or
        remix is replaced by what the route's API calls its output (the protocol refuses if it cannot)."""
        request = GenerationRequest.model_validate(job.request)
        updates = {}
        for field, purpose in (("extend_video", "extend"), ("remix_of", "remix")):
            ref = getattr(request, field, None)
            earlier = self.journal.get(ref) if ref else None
            while earlier is not None and earlier.cached_from:  # a cache hit: the job that made the take
                earlier = self.journal.get(earlier.cached_from)
            if earlier is not None:
                updates[field] = proto.earlier_output(earlier, purpose)
        return proto.build(request.model_copy(update=updates) if updates else request, job.id)

    async def _create(self, job: Job, proto: Protocol, limiter: RouteLimiter, on_event: OnEvent) -> Job:
        route = proto.route
        try:
            call = self._build(proto, job)
        except UserError as e:
            raise self._stop(
                job, on_event, ErrorKind.BAD_REQUEST.value, str(e), state=JobState.FAILED, resumable=False
            ) from None
        staging = self._out_dir() / f".{job.id}.staging.mp4"

        async def once() -> Submitted:
            await limiter.bucket.acquire()
            self.journal.set_submitting(job.id, route.key)
            try:
                return await proto.submit(call, staging)
            except (ProviderError, httpx.TransportError) as e:
                if create_outcome_unknown(e):
                    raise _UnknownOutcome(redact(str(e) or type(e).__name__)) from None
                message = redact(e.message if isinstance(e, ProviderError) else f"{type(e).__name__}: {e}")
                kind = e.kind.value if isinstance(e, ProviderError) else ErrorKind.RETRYABLE.value
                # The provider answered (or nothing left this machine): no job exists, sending again is safe.
                self.journal.set_error(job.id, kind, message, JobState.PLANNED)
                if isinstance(e, httpx.TransportError):
                    raise ProviderError(ErrorKind.RETRYABLE, message) from None
                raise

        try:
            async for attempt in self._retrying(lambda e: isinstance(e, ProviderError) and e.retryable):
                with attempt:
                    submitted = await once()
        except _UnknownOutcome as e:
            self.journal.set_error(job.id, "unknown_outcome", f"The create got no answer: {e}", JobState.UNKNOWN)
            return self.journal.job(job.id)
        except ProviderError as e:
            if falls_over(e):
                self._fall_over(job, route, e, on_event)
            raise self._stop(job, on_event, e.kind.value, e.message, state=JobState.FAILED, resumable=False) from None
        except UserError as e:  # the protocol refused the request before sending it (an unreadable image)
            raise self._stop(
                job, on_event, ErrorKind.BAD_REQUEST.value, str(e), state=JobState.FAILED, resumable=False
            ) from None

        # First thing after the create returns: the provider's job id, committed.
        state = (
            submitted.state
            if submitted.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
            else JobState.QUEUED
        )
        self.journal.set_submitted(job.id, submitted.job_id, state)
        log.debug("job %s submitted on %s as %s", job.id, route.key, submitted.job_id)
        on_event(Event(EventKind.SUBMITTED, job.id, job.model, job.variant))
        job = self.journal.job(job.id)
        if state is JobState.SUCCEEDED:
            return self._succeeded(job, [submitted.media] if submitted.media else [], None, on_event)
        return job

    def _fall_over(self, job: Job, route: Route, e: ProviderError, on_event: OnEvent) -> NoReturn:
        """The route refused the create in a way the model's next route may not: plan the job on that route
        (raises _Fallback), or, with none left, stop the job naming every route's refusal."""
        if e.kind in (ErrorKind.RETIRED, ErrorKind.AUTH):  # true of every job on this route, not just this one
            self._retired.add(route.key)
        if e.kind is ErrorKind.RETIRED:  # recorded retired for every later run; the user is told once
            if told := self.catalog.route_gone(job.model, route, e.message, self._retired):
                log.warning("%s", told)
        failures = self._route_failures.setdefault(job.id, [])
        failures.append(f"{route.key}: {e.message}")
        model = self.catalog.get(job.model)
        try:
            nxt = self._pick_route(model, after=route)
        except UserError as no_route:
            message = f"{e.message} {no_route}"  # the only route tried: its own words, and why no other
            if len(failures) > 1:
                message = (
                    f"Every route tried for {model.name} failed: {'; '.join(failures)}. {no_route.fix or ''}"
                ).strip()
            raise self._stop(job, on_event, e.kind.value, message, state=JobState.FAILED, resumable=False) from None
        log.info("job %s: route %s failed (%s); taking %s", job.id, route.key, e.kind.value, nxt.key)
        self.journal.update(job.id, state=JobState.PLANNED, route_key=nxt.key)
        raise _Fallback() from None

    async def _reconcile(self, job: Job, proto: Protocol, on_event: OnEvent) -> Job:
        """A create went out and no answer came back: find the job it made, never resend blindly."""
        if job.state is JobState.SUBMITTING:  # we crashed mid-create
            self.journal.set_error(
                job.id, "unknown_outcome", "The process stopped while the create was in flight.", JobState.UNKNOWN
            )
        from datetime import datetime

        sent_at = datetime.fromisoformat(job.sent_at) if job.sent_at else datetime.now().astimezone()
        found = None
        try:
            call = self._build(proto, job)
            async for attempt in self._retrying(
                lambda e: (isinstance(e, ProviderError) and e.retryable) or isinstance(e, httpx.TransportError)
            ):
                with attempt:
                    found = await proto.find_created(call, job.id, sent_at)
        except (ProviderError, httpx.TransportError, UserError) as e:
            log.info("job %s: lookup after a lost create failed: %s", job.id, redact(str(e)))
        if found:
            log.info("job %s: the lost create made provider job %s; collecting it", job.id, found)
            self.journal.set_submitted(job.id, found, JobState.QUEUED)
            on_event(Event(EventKind.SUBMITTED, job.id, job.model, job.variant))
            return self.journal.job(job.id)
        raise self._stop(
            job,
            on_event,
            "unknown_outcome",
            f"The create for job {job.id} went out at {job.sent_at} on route {job.route_key} and no answer came "
            f"back; {proto.route.protocol} cannot tell whether it made the job, so it was not sent again. Check "
            f"the provider's dashboard, then run `promptreel resume --resend {job.id}` to send it again, or "
            f"`promptreel resume --abandon {job.id}`.",
            state=JobState.UNKNOWN,
            resumable=True,
        )

    # poll ---------------------------------------------------------------------------------------

    async def _poll_once(self, job: Job, proto: Protocol) -> Status:
        provider_job_id = job.provider_job_id
        assert provider_job_id is not None  # only a created job is polled

        async def once() -> Status:
            try:
                return await proto.poll(provider_job_id)
            except httpx.TransportError as e:  # a status call creates nothing: always safe to repeat
                raise ProviderError(ErrorKind.RETRYABLE, f"No answer to a status call ({type(e).__name__}).") from None

        async for attempt in self._retrying(lambda e: isinstance(e, ProviderError) and e.retryable):
            with attempt:
                return await once()
        raise AssertionError("unreachable: the retrying reraises its last error")

    async def _poll(self, job: Job, proto: Protocol, on_event: OnEvent) -> Job:
        started = self.clock()
        cap = self.settings.poll_cap_seconds
        while True:
            try:
                status = await self._poll_once(job, proto)
            except ProviderError as e:
                raise self._stop(
                    job,
                    on_event,
                    e.kind.value,
                    f"{e.message} (job {job.id} stays collectable: run `promptreel resume`)",
                    state=None,
                    resumable=True,
                ) from None
            if status.state in _SUCCESS:
                return self._succeeded(job, status.media, status.cost_usd, on_event)
            if status.state in _ENDED:
                err = status.error or ProviderError(
                    ErrorKind.PROVIDER, f"the provider ended the job ({status.raw_state})"
                )
                raise self._stop(job, on_event, err.kind.value, err.message, state=status.state, resumable=False)
            state = JobState.RUNNING if status.state is JobState.RUNNING else JobState.QUEUED
            if state is not job.state:  # progress goes out as events; the journal keeps state changes
                self.journal.update(job.id, state=state, progress=status.progress)
                job = self.journal.job(job.id)
            on_event(Event(EventKind.RUNNING, job.id, job.model, job.variant, progress=status.progress))
            interval = (status.next_poll_s or proto.poll_interval) * random.uniform(0.9, 1.1)
            if self.clock() - started + interval > cap:
                raise self._stop(
                    job,
                    on_event,
                    ErrorKind.TIMEOUT.value,
                    f"Job {job.id} was still {status.raw_state or state.value} after {cap} s of polling; "
                    f"it is not failed: run `promptreel resume` to collect it.",
                    state=state,
                    resumable=True,
                )
            await self.sleep(interval)

    def _sandboxed(self, job: Job) -> bool:
        """A job the sandbox's fakes made (`promptreel sandbox serve`): its route points at loopback with the
        sandbox's placeholder keys. Its price is pretend: kept apart from real spend and every budget."""
        proto = self._protocols.get(job.route_key)

        def loopback(url: str | None) -> bool:
            return url is not None and url != "" and httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")

        if not loopback(getattr(proto, "base_url", None)):
            return False
        keys = [v for v in getattr(proto, "credentials", {}).values() if isinstance(v, str)]
        if keys:
            return all(v.startswith(SANDBOX_KEY_PREFIX) for v in keys)
        # No key (Vertex's OAuth): a cloud route sent to loopback is the sandbox; ComfyUI lives there anyway.
        return not loopback(getattr(proto, "default_base_url", None))

    def _succeeded(self, job: Job, media: list[MediaRef], cost: float | None, on_event: OnEvent) -> Job:
        if not media:
            raise self._stop(
                job,
                on_event,
                ErrorKind.PROVIDER.value,
                "The provider reported success but sent no media (often a content filter).",
                state=JobState.FAILED,
                resumable=False,
            )
        # The provider has finished: this is when the money is spent, whether or not the download works. The
        # success and its charge go in together: a run stopped between them would leave a paid job that resume
        # downloads and never charges.
        amount = cost if cost is not None else job.estimated_cost
        sandbox = self._sandboxed(job)
        with self.journal.transaction():
            self.journal.update(job.id, state=JobState.SUCCEEDED, media_refs=media, progress=1.0, media_at=now_iso())
            self.journal.charge(
                job.id,
                job.model,
                amount,
                job.request.get("tags", {}).get("project", ""),
                estimated=cost is None,
                sandbox=sandbox,
            )
        return self.journal.job(job.id)

    # download -----------------------------------------------------------------------------------

    async def _download(self, job: Job, proto: Protocol, on_event: OnEvent) -> JobResult:  # noqa: C901 - each way a paid download can end is its own stop
        self.journal.set_state(job.id, JobState.DOWNLOADING)
        tmp = self._out_dir() / f".{job.id}.part.mp4"
        media = job.media_refs[0]

        def progress(have: int, total: int | None) -> None:
            on_event(Event(EventKind.DOWNLOADING, job.id, job.model, job.variant, bytes=have, total=total))

        unplayable = 0

        async def once() -> MediaInfo:
            nonlocal unplayable
            if media.inline_path is not None:
                if media.inline_path.is_file():
                    os.replace(media.inline_path, tmp)
                elif not tmp.is_file():
                    raise DownloadError(f"The synchronous answer's file {media.inline_path} is gone.", retryable=False)
            else:
                url, headers = proto.media_request(media)
                # A client with no auth of its own; the route's auth signs the route's hosts only.
                await fetch(self._http, url, headers, tmp, progress, auth=proto.auth)
            try:
                return await asyncio.to_thread(probe, tmp)
            except MediaError:
                tmp.unlink(missing_ok=True)
                unplayable += 1
                # Once more, in case the copy broke on the way; twice the same is the provider's file.
                raise DownloadError(
                    "The downloaded file is not playable media.", retryable=unplayable < 2, status=-1
                ) from None

        async def with_retries() -> MediaInfo:
            async for attempt in self._retrying(lambda e: isinstance(e, DownloadError) and e.retryable):
                with attempt:
                    return await once()
            raise AssertionError("unreachable: the retrying reraises its last error")

        try:
            try:
                info = await with_retries()
            except DownloadError as e:
                if e.status not in (401, 403, 404, 410) or media.inline_path is not None:
                    raise
                # Output URLs expire (Replicate 1 h, Runway 24-48 h): ask the provider for fresh ones, once.
                status = await self._poll_once(job, proto)
                if status.state not in _SUCCESS or not status.media:
                    raise
                media = status.media[0]
                self.journal.update(job.id, media_refs=status.media)
                info = await with_retries()
        except DownloadError as e:
            if e.status == -1:  # fetched twice, unplayable twice: collecting it again would loop
                raise self._stop(
                    job,
                    on_event,
                    "broken_media",
                    f"The provider's file for job {job.id} is broken: it was downloaded twice and is not "
                    "playable media either time. The generation was charged; ask the provider about "
                    "it, and run the request again (a new job) for a new take.",
                    state=JobState.FAILED,
                    resumable=False,
                ) from None
            raise self._stop(
                job,
                on_event,
                "download",
                f"{e.message} Run `promptreel resume` to try the download again.",
                state=JobState.SUCCEEDED,
                resumable=True,
            ) from None
        except ProviderError as e:
            # The generation is paid for and done: keep it collectable, never generate again.
            raise self._stop(
                job,
                on_event,
                "download",
                f"{e.message} Run `promptreel resume` to try the download again.",
                state=JobState.SUCCEEDED,
                resumable=True,
            ) from None
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            tmp.unlink(missing_ok=True)
            raise self._stop(
                job,
                on_event,
                "disk_full",
                f"The disk holding {tmp.parent} is full, so job {job.id}'s video could not be saved. It is "
                "paid for and kept: free some space, then run `promptreel resume` to collect it.",
                state=JobState.SUCCEEDED,
                resumable=True,
            ) from None
        return await self._finish(job, tmp, info, on_event)

    async def _finish(self, job: Job, tmp: Path, info: MediaInfo, on_event: OnEvent) -> JobResult:
        final = tmp.parent / f"{job.id}.mp4"
        os.replace(tmp, final)
        # Hashing and reading credentials take a while on a long take: off the event loop.
        await asyncio.to_thread(self._record_provenance, job, final)
        info = MediaInfo(final, info.width, info.height, info.rate, info.frames, info.pix_fmt, info.has_audio)
        self.journal.cache_put(
            job.cache_key, job.id, final
        )  # before DONE: a journal that fills up here leaves it collectable
        self.journal.update(
            job.id, state=JobState.DONE, output_path=str(final), progress=1.0, error_kind=None, error_message=None
        )
        log.debug("job %s done: %s", job.id, final)
        on_event(Event(EventKind.DONE, job.id, job.model, job.variant, path=final))
        return self._result(job.id, info=info)

    def _record_provenance(self, job: Job, take: Path, refetched: bool = False) -> None:
        """The take's credentials in the journal and its sidecar beside it (core/provenance.py); `refetched`: a
        copy of `job`'s take downloaded again. The take is good whatever happens here, so a failure is logged,
        never raised."""
        from .c2pa import trust_anchors
        from .provenance import record_take

        try:
            record_take(self.journal, take, job, trust_anchors(self.settings), refetched)
        except Exception as e:  # noqa: BLE001 - a bad trust file or a full disk must not lose a paid take
            log.warning("job %s: provenance not recorded: %s", job.id, redact(str(e)))

    # local --------------------------------------------------------------------------------------

    async def _render(self, job: Job, proto: LocalProtocol, on_event: OnEvent) -> JobResult:
        """A local route: no create, no poll, no download, no cost; a crashed render is simply redone."""
        limiter = self._limiter(proto.route)
        async with limiter.slots:
            request = GenerationRequest.model_validate(job.request)
            tmp = self._out_dir() / f".{job.id}.part.mp4"
            self.journal.set_state(job.id, JobState.RUNNING, sent_at=now_iso())
            on_event(Event(EventKind.SUBMITTED, job.id, job.model, job.variant))

            def progress(fraction: float) -> None:
                on_event(Event(EventKind.RUNNING, job.id, job.model, job.variant, progress=fraction))

            try:
                await proto.render(request, tmp, progress)
                info = await asyncio.to_thread(probe, tmp)
            except UserError as e:
                tmp.unlink(missing_ok=True)
                raise self._stop(job, on_event, "render", str(e), state=JobState.FAILED, resumable=False) from None
            self.journal.update(job.id, media_at=now_iso())
            self.journal.charge(job.id, job.model, job.estimated_cost, job.request.get("tags", {}).get("project", ""))
            return await self._finish(self.journal.job(job.id), tmp, info, on_event)
