"""HTTP plumbing the protocol modules share: sending without leaking keys, and reading delays.

Not a client: retries, limits and waiting stay with the engine.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Iterable

import httpx

from ..keys import redact
from .base import ErrorKind, ProviderError


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known key blanked: vendors sometimes echo what they were sent."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return redact(text)


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date); None if absent."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


async def send(client: httpx.AsyncClient, method: str, url: str, *, vendor: str, creating: bool = False,
               **kw) -> httpx.Response:
    """One request. A request that never left (connection refused, connect timeout) is safe to repeat.

    For a create, any other transport error (read timeout, dropped answer) propagates as it is: the
    vendor may have accepted the job, so the engine must reconcile before sending again. For a read
    (poll, list) every transport error is retryable.
    """
    try:
        return await client.request(method, url, **kw)
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise ProviderError(ErrorKind.RETRYABLE, f"Cannot reach {vendor} ({type(e).__name__}).") from None
    except httpx.TransportError as e:
        if creating:
            raise
        raise ProviderError(ErrorKind.RETRYABLE, f"{vendor} did not answer ({type(e).__name__}).") from None


def json_body(r: httpx.Response) -> dict:
    """The body as a JSON object, or {} (a proxy's HTML error page, an empty body)."""
    try:
        body = r.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
