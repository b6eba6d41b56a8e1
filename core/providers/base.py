"""The shape every provider protocol module has, and the vocabulary it shares with the engine.

A protocol maps the unified request to the vendor's exact wire request and back. It
does not retry, wait, rate-limit or journal: the engine owns those. Four verbs:

    build(request, ref)     -> WireCall            pure; tested against the vendor's spec
    submit(call)            -> Submitted           one create call; raises ProviderError
    poll(job_id)            -> Status              one status call; unknown states tolerated
    media_request(media)    -> (url, headers)      how to download an output (engine streams it with `auth`)

plus optional `find_created` (reconcile a create whose answer was lost) and `cancel`.
A synchronous API returns the media from `submit` by writing to `Submitted.media.inline_path`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from ..catalog import Route
from ..errors import UnsupportedRequest
from ..jobstate import JobState as JobState, MediaRef as MediaRef  # re-exported: the protocols import them here
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import HeaderAuth, host_of, route_client

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..journal import Job


class ErrorKind(str, enum.Enum):
    RETRYABLE = "retryable"  # 5xx, timeouts, transient model failures
    RATE_LIMITED = "rate_limited"  # retry after `retry_after`
    BILLING = "billing"  # quota, arrears, spend caps: never retried
    MODERATION = "moderation"  # refused for content: never retried
    RETIRED = "retired"  # model or route no longer served: the engine may take the next route
    BAD_REQUEST = "bad_request"  # our request was wrong: never retried
    AUTH = "auth"  # key missing, wrong or not allowed: never retried
    TIMEOUT = "timeout"  # polling passed its cap; the job stays resumable
    PROVIDER = "provider"  # the provider failed the job for another reason


class ProviderError(Exception):
    """A classified failure. The message is safe to show and store: it never contains a key."""

    def __init__(self, kind: ErrorKind, message: str, retry_after: float | None = None, status: int | None = None):
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.status = status
        super().__init__(f"{kind.value}: {message}")

    @property
    def retryable(self) -> bool:
        return self.kind in (ErrorKind.RETRYABLE, ErrorKind.RATE_LIMITED)


@dataclass
class WireCall:
    """An exact HTTP request, minus credentials (the route client's auth adds them when it is sent)."""

    method: str
    path: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Submitted:
    job_id: str
    state: JobState = JobState.QUEUED
    media: MediaRef | None = None


@dataclass
class Status:
    state: JobState
    progress: float | None = None  # 0..1 where the provider says
    media: list[MediaRef] = field(default_factory=list)
    error: ProviderError | None = None
    next_poll_s: float | None = None  # the provider's own hint (e.g. openai-poll-after-ms)
    raw_state: str = ""
    cost_usd: float | None = None  # what the provider says it charged, where its answer says (else the estimate)


def _described(cls: type[Protocol] | type[LocalProtocol]) -> None:
    """A protocol class takes its route's facts from its descriptor (core/routes.py), written there once."""
    descriptor = cls.__dict__.get("descriptor")
    if descriptor is not None:
        cls.name, cls.key_names = descriptor.name, descriptor.key_names
        cls.default_base_url, cls.poll_interval = descriptor.base_url, descriptor.poll_seconds


class Protocol(ABC):
    descriptor: ClassVar[RouteDescriptor | None] = None  # its route's facts (core/routes.py)
    # Set from the class's `descriptor`; a test's own protocol may set them itself.
    name: ClassVar[str]
    default_base_url: ClassVar[str]
    key_names: ClassVar[tuple[str, ...]] = ()  # environment / keyring names of its credentials
    poll_interval: ClassVar[float] = 5.0  # seconds between polls when the provider gives no hint
    local: ClassVar[bool] = False
    # The version segment the vendor SDK's base URL ends in ("/v1" for OpenAI and Replicate): a base URL
    # given without it (the bare host) gets it, so both forms work and paths are relative to it.
    version_segment: ClassVar[str] = ""

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _described(cls)

    def __init__(
        self, client: httpx.AsyncClient, route: Route, credentials: dict[str, str], base_url: str | None = None
    ):
        self._pool = client  # the engine's connections; `self.client` is this route's own client over them
        self.route = route
        self.credentials = credentials
        self.base_url = with_version(base_url or self.default_base_url, self.version_segment)

    @classmethod  # noqa: B027 - an optional hook: most routes have nothing more to check
    def check_ready(cls) -> None:
        """Raise MissingKey when this route cannot authenticate here, beyond `key_names` (which the
        engine checks itself), so the engine takes the model's next route. Must be cheap: no network."""

    @abstractmethod
    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        """The exact create call. `client_ref` is our job id, for providers that take an idempotency key
        or external id."""

    @abstractmethod
    async def submit(self, call: WireCall, staging: Path) -> Submitted: ...

    @abstractmethod
    async def poll(self, job_id: str) -> Status: ...

    def route_auth(self) -> HeaderAuth | None:
        """How this route authenticates (see core/providers/auth.py), scoped to `self.hosts()`. None: no key."""
        return None

    def hosts(self) -> set[str]:
        """The hosts this route's credentials may go to."""
        return {host_of(self.base_url)}

    @cached_property
    def auth(self) -> HeaderAuth | None:
        return self.route_auth()

    @cached_property
    def client(self) -> httpx.AsyncClient:
        """This route's client: base URL and auth set, over the engine's connections. Every call goes through
        `httpkit.send` with it; no call adds credentials by hand."""
        return route_client(self._pool, self.base_url, self.auth)

    def media_request(self, media: MediaRef) -> tuple[str, dict[str, str]]:
        """URL and plain headers (never credentials) to download `media`. The engine sends them with `self.auth`,
        which signs only this route's own hosts."""
        assert media.url is not None
        return media.url, {}

    def earlier_output(self, job: Job, purpose: str) -> str:
        """What this API calls the output of an earlier promptreel `job`, to `purpose` it ("extend" or
        "remix"): the engine puts it in place of the job id before `build`. Routes that can build on
        their own outputs override this; the others refuse."""
        raise UnsupportedRequest(
            f"The {self.name} route cannot {purpose} an earlier promptreel job ({job.id}).",
            f"Choose a model whose route can {purpose} (see `promptreel models`).",
        )

    def made_here(self, job: Job, purpose: str, vendor: str) -> None:
        """Refuse an earlier job this route did not make, or that has not finished."""
        if job.protocol != self.name:
            raise UnsupportedRequest(
                f"Job {job.id} was made on the {job.protocol} route ({job.model}); {vendor} can {purpose} only "
                f"videos it made itself.",
                f"Give a take made on the {self.name} route (see `promptreel jobs`).",
            )
        if job.state not in (JobState.SUCCEEDED, JobState.DOWNLOADING, JobState.DONE):
            raise UnsupportedRequest(
                f"Job {job.id} is {job.state.value}; only a finished take can be used to {purpose}.",
                "Collect it first (`promptreel resume`), then try again.",
            )

    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """After a create whose answer was lost: the provider job it made, if the provider can tell."""
        return None

    async def cancel(self, job_id: str) -> None:
        return None


class LocalProtocol(ABC):
    """A route that renders on this machine (the `draft` model): no HTTP, no key, no cost.

    The engine calls `render` instead of submit/poll/download, still journaling the job
    and still writing to a temporary name that it renames into place.
    """

    descriptor: ClassVar[RouteDescriptor | None] = None
    name: ClassVar[str]
    default_base_url: ClassVar[str]  # set from the descriptor, as on Protocol (a local route has no host)
    poll_interval: ClassVar[float]
    local: ClassVar[bool] = True
    key_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _described(cls)

    def __init__(self, route: Route):
        self.route = route

    @abstractmethod
    async def render(self, request: GenerationRequest, dest: Path, on_progress: Callable[[float], None]) -> None:
        """Write the clip for `request` to `dest` (a temporary path). `on_progress(fraction)` as it goes."""


def with_version(base_url: str, segment: str) -> str:
    """`base_url` without a trailing slash, ending in `segment` ("/v1") when one is given."""
    base = base_url.rstrip("/")
    if segment and not base.endswith(segment):
        base += segment
    return base
