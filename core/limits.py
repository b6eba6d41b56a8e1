"""Per-route limits: how many jobs may be in flight at once, and how many creates in any one minute.

The concurrency slot is held from the create until the provider says the job is finished
(providers count running jobs, not open sockets). The requests-per-minute bucket meters
creates, which is what the vendors' published per-minute limits count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .catalog import Route
from .settings import Settings


@dataclass(frozen=True)
class Limits:
    concurrency: int
    rpm: int  # 0 = no limit


def limits_for(route: Route, settings: Settings) -> Limits:
    """The catalog's limits, overridden by settings.route_limits["protocol:model_id"], then ["protocol"]."""
    concurrency, rpm = route.concurrency, route.rpm
    for key in (route.protocol, route.key):  # the more specific key wins, so apply it last
        over = settings.route_limits.get(key)
        if over is not None:
            concurrency = over.concurrency if over.concurrency is not None else concurrency
            rpm = over.rpm if over.rpm is not None else rpm
    return Limits(concurrency, rpm)


class TokenBucket:
    """At most `rpm` grants in any 60 s window, bursts allowed.

    A refilling bucket of `rpm` tokens would allow nearly 2 x rpm inside one window (a full
    bucket, then its refill); providers count a sliding minute, so the bucket remembers when
    each of its last `rpm` tokens was spent and a token comes back 60 s after it went.
    """

    def __init__(
        self,
        rpm: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.rpm = rpm
        self.clock = clock
        self.sleep = sleep
        self._spent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rpm <= 0:
            return
        async with self._lock:  # first come, first served
            while True:
                now = self.clock()
                while self._spent and now - self._spent[0] >= 60.0:
                    self._spent.popleft()
                if len(self._spent) < self.rpm:
                    self._spent.append(now)
                    return
                await self.sleep(60.0 - (now - self._spent[0]))


class RouteLimiter:
    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.concurrency)
        self.bucket = TokenBucket(limits.rpm, clock, sleep)


class Limiters:
    """One limiter per route key, made on first use."""

    def __init__(self, settings: Settings, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.settings = settings
        self.sleep = sleep
        self._by_key: dict[str, RouteLimiter] = {}

    def __call__(self, route: Route) -> RouteLimiter:
        if route.key not in self._by_key:
            self._by_key[route.key] = RouteLimiter(limits_for(route, self.settings), sleep=self.sleep)
        return self._by_key[route.key]
