"""Driving a protocol's verbs against a fake the way the engine does, without the engine (tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from ..catalog import Route
from ..providers.base import JobState, MediaRef, Protocol, Status


def protocol(
    cls: type[Protocol], model_id: str, client: httpx.AsyncClient, credentials: dict[str, str], base_url: str
) -> Protocol:
    return cls(client, Route(protocol=cls.name, model_id=model_id), credentials, base_url=base_url)


async def poll_to_end(proto: Protocol, job_id: str, limit: int = 10) -> Status:
    """Poll until the job leaves QUEUED/RUNNING (no sleeping: the fakes advance per read)."""
    for _ in range(limit):
        status = await proto.poll(job_id)
        if status.state not in (JobState.QUEUED, JobState.RUNNING):
            return status
    raise AssertionError(f"job {job_id} still {status.state} after {limit} polls")


async def download(client: httpx.AsyncClient, proto: Protocol, media: MediaRef, dest: Path, attempts: int = 3) -> int:
    """Fetch `media` to `dest` as the engine does: the protocol's URL and auth, redirects followed by
    hand (the auth dropped when the host changes), a 5xx or a cut-short body tried again without a
    new job. Returns the number of attempts it took; the last attempt's error propagates."""
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        url, headers = proto.media_request(media)
        auth = proto.auth
        try:
            for _ in range(5):
                async with client.stream("GET", url, headers=headers, auth=auth) as r:
                    if r.status_code in (301, 302, 303, 307, 308):
                        nxt = urljoin(url, r.headers["location"])
                        if urlsplit(nxt).netloc != urlsplit(url).netloc:
                            auth = None
                        url = nxt
                        continue
                    if r.status_code >= 500 and not last:
                        break
                    r.raise_for_status()
                    with open(dest, "wb") as f:
                        async for chunk in r.aiter_bytes():
                            f.write(chunk)
                    return attempt
        except httpx.TransportError:
            if last:
                raise
    raise AssertionError(f"download failed after {attempts} attempts")


def frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of the first video stream, read by PyAV: proves a download is real media."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height
