"""Driving a protocol's verbs against its fake, the way the engine will, without the engine."""

from __future__ import annotations

from pathlib import Path

import httpx

from promptreel.core.catalog import Route
from promptreel.core.providers.base import JobState, MediaRef, Protocol, Status


def protocol(cls: type[Protocol], model_id: str, client: httpx.AsyncClient, credentials: dict[str, str],
             base_url: str) -> Protocol:
    return cls(client, Route(protocol=cls.name, model_id=model_id), credentials, base_url=base_url)


async def poll_to_end(proto: Protocol, job_id: str, limit: int = 10) -> Status:
    """Poll until the job leaves QUEUED/RUNNING (no sleeping: the fakes advance per call)."""
    for _ in range(limit):
        status = await proto.poll(job_id)
        if status.state not in (JobState.QUEUED, JobState.RUNNING):
            return status
    raise AssertionError(f"job {job_id} still {status.state} after {limit} polls")


async def download(proto: Protocol, client: httpx.AsyncClient, media: MediaRef, dest: Path) -> Path:
    url, headers = proto.media_request(media)
    async with client.stream("GET", url, headers=headers) as r:
        r.raise_for_status()
        with open(dest, "wb") as f:
            async for chunk in r.aiter_bytes():
                f.write(chunk)
    return dest


def probe(path: Path) -> tuple[int, int]:
    """(width, height) of the first video stream, read by PyAV: proves the download is real media."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height
