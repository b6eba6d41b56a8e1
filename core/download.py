"""Fetch one output to a local file: resumable with HTTP Range, redirects followed by hand.

The client carries no auth. The route's auth (from `Protocol.media_request`) signs only the
route's own hosts (core/providers/auth.py), and once a redirect leaves the first host it is
not passed again, so a key never reaches a CDN or storage bucket.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(Exception):
    def __init__(self, message: str, retryable: bool, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    dest: Path,
    on_bytes: Callable[[int, int | None], None] | None = None,
    auth: httpx.Auth | None = None,
) -> int:
    """Download `url` into `dest`, continuing a partial `dest` with Range where the server allows.

    Returns the final size. Raises `DownloadError`; a partial file is kept for the next attempt.
    """
    dest = Path(dest)
    have = dest.stat().st_size if dest.exists() else 0
    origin = urlsplit(url)
    for _ in range(MAX_REDIRECTS + 1):
        send = {**headers, "Range": f"bytes={have}-"} if have else headers  # `headers` hold no credentials
        try:
            async with client.stream("GET", url, headers=send, auth=auth, follow_redirects=False) as r:
                if r.is_redirect and "location" in r.headers:
                    url = urljoin(str(r.url), r.headers["location"])
                    nxt = urlsplit(url)
                    if (nxt.scheme, nxt.netloc) != (origin.scheme, origin.netloc):
                        auth = None
                    continue
                if r.status_code == 416 and have:  # our partial file is no prefix the server knows: start over
                    dest.unlink(missing_ok=True)
                    raise DownloadError("The server refused to resume the download.", retryable=True, status=416)
                if r.status_code >= 400:
                    raise DownloadError(
                        f"The media download answered HTTP {r.status_code}.",
                        retryable=r.status_code in RETRY_STATUSES,
                        status=r.status_code,
                        retry_after=_retry_after(r),
                    )
                total = None
                m = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", r.headers.get("content-range", ""))
                if r.status_code == 206 and m and int(m.group(1)) == have:
                    mode = "ab"
                    total = int(m.group(2)) if m.group(2) != "*" else None
                else:  # no Range support (or a range we did not ask for): the whole body again
                    mode, have = "wb", 0
                    if "content-length" in r.headers:
                        total = int(r.headers["content-length"])
                with open(dest, mode) as f:
                    async for chunk in r.aiter_bytes():  # no chunk size: a chunker would hold back bytes a break loses
                        f.write(chunk)
                        have += len(chunk)
                        if on_bytes:
                            on_bytes(have, total)
                if total is not None and have < total:
                    raise DownloadError(f"The download stopped at {have} of {total} bytes.", retryable=True)
                return have
        except httpx.TransportError as e:
            raise DownloadError(
                f"The download broke off at {have} bytes ({type(e).__name__}).", retryable=True
            ) from None
    raise DownloadError(f"The media URL redirected more than {MAX_REDIRECTS} times.", retryable=False)
