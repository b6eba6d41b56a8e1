"""What the vendor fakes share: a loopback server, one-shot faults, a create counter, real media.

Faults come two ways, as the issue asks:
- per request: `fake.fail_next(method, path_regex, Reply(...))` answers the next matching request
  with that reply instead (a 429 with Retry-After, a 503, a slow answer, a dropped connection);
- per job: the header `X-Fake-Fault` on the create call marks the job, and the fake enacts the fault
  later (moderation failure, RAI-filtered output, success without media, a 502 or truncated download).
"""

from __future__ import annotations

import re
import threading
from email.parser import BytesParser
from email.policy import HTTP
from functools import lru_cache
from pathlib import Path
from tempfile import TemporaryDirectory

import ffmpeg

from promptreel.core.ffmpeg import ffmpeg_exe
from tests.fakes.loopback import Call, LoopbackServer, Reply

_tmp = TemporaryDirectory(prefix="fake-vendor-")


@lru_cache(maxsize=None)
def tiny_mp4() -> bytes:
    """A real 1 s H.264 + AAC MP4 at 320x180, 24 fps, made once per test session."""
    out = Path(_tmp.name) / "tiny.mp4"
    video = ffmpeg.input("testsrc2=size=320x180:rate=24", f="lavfi", t=1)
    audio = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi", t=1)
    (ffmpeg.output(video, audio, str(out), vcodec="libx264", pix_fmt="yuv420p", preset="ultrafast",
                   acodec="aac", shortest=None, movflags="+faststart")
     .run(cmd=ffmpeg_exe(), quiet=True, overwrite_output=True))
    return out.read_bytes()


@lru_cache(maxsize=None)
def png(width: int, height: int) -> bytes:
    """A real PNG still of the given size."""
    out = Path(_tmp.name) / f"still_{width}x{height}.png"
    (ffmpeg.input(f"testsrc2=size={width}x{height}:rate=1", f="lavfi")
     .output(str(out), vframes=1, vcodec="png")
     .run(cmd=ffmpeg_exe(), quiet=True, overwrite_output=True))
    return out.read_bytes()


def image_size(data: bytes) -> tuple[int, int] | None:
    import io

    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            frame = next(container.decode(video=0))
            return frame.width, frame.height
    except Exception:
        return None


def multipart(call: Call) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]] | None:
    """(fields, files) of a multipart/form-data body, or None if it is not one."""
    ctype = call.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return None
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + call.body)
    fields, files = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, payload, part.get_content_type())
        else:
            fields[name] = payload.decode()
    return fields, files


class FakeVendor:
    """A loopback server with one-shot faults and a count of creates."""

    create_pattern: str = ""  # (method, regex) of the create call, counted in `creates`

    def __init__(self):
        self.server = LoopbackServer()
        self.server.httpd.handle_error = self._handle_error
        self._faults: list[tuple[str, re.Pattern, Reply]] = []
        self._lock = threading.Lock()
        self.creates = 0

    @property
    def url(self) -> str:
        return self.server.url

    def route(self, method: str, pattern: str):
        def register(handler):
            def guarded(call: Call) -> Reply:
                with self._lock:
                    for i, (m, rx, reply) in enumerate(self._faults):
                        if m == call.method and rx.fullmatch(call.path):
                            del self._faults[i]
                            return reply
                return handler(call)

            self.server.route(method, pattern)(guarded)
            return handler

        return register

    @staticmethod
    def _handle_error(request, client_address) -> None:
        import sys

        # A client that gave up (a timeout fault) leaves a broken pipe behind: expected, not news.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            import traceback

            traceback.print_exc()

    def fail_next(self, method: str, pattern: str, reply: Reply) -> None:
        with self._lock:
            self._faults.append((method.upper(), re.compile(pattern), reply))

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return self.server.calls_to(method, pattern)

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)


async def download(client, protocol, media, dest: Path, attempts: int = 3) -> int:
    """Fetch `media` as the engine would: the protocol's URL and headers, redirects followed by hand
    (credentials dropped when the host changes), a 5xx or a cut-short body retried without a new job.
    Returns the number of attempts it took."""
    import httpx
    from urllib.parse import urljoin, urlsplit

    for attempt in range(1, attempts + 1):
        url, headers = protocol.media_request(media)
        try:
            for _ in range(5):
                r = await client.get(url, headers=headers)
                if r.status_code in (301, 302, 303, 307, 308):
                    nxt = urljoin(url, r.headers["location"])
                    if urlsplit(nxt).netloc != urlsplit(url).netloc:
                        headers = {}
                    url = nxt
                    continue
                break
        except httpx.TransportError:
            continue
        if r.status_code >= 500:
            continue
        r.raise_for_status()
        dest.write_bytes(r.content)
        return attempt
    raise AssertionError(f"download failed after {attempts} attempts")
