"""What the HTTP protocol modules share: sending, error kinds, Retry-After, safe messages, input media.

Not a client: retries, limits and waiting stay with the engine. One function per job; every
helper here is pure, reads a local file, or sends exactly one request.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from math import gcd
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..catalog import Size
from ..errors import BadInput, UnsupportedRequest
from ..keys import redact
from .base import ErrorKind, ProviderError

T = TypeVar("T")

# Words vendors put in refusals that are about money, not our request.
BILLING_WORDS = re.compile(r"credit|balance|billing|arrear|quota|insufficient|payment|spend", re.I)
# ... and about a model that is gone, so the engine can take the next route.
_RETIRED = re.compile(
    r"no longer (available|supported|served)|has been (retired|deprecated|removed)|\bretired\b|sunset", re.I
)
# ... and, on a 404, a model the vendor does not (any longer) know: "model not found", "The model `x` does not
# exist", "Application x not found" (an aggregator's app). Only on a 404, where a typo'd path would say nothing
# of a model.
_GONE = re.compile(r"\b(model|application)\b.{0,120}?(not found|does not exist|no longer)|\bunknown model\b", re.I)


# --- sending -------------------------------------------------------------------------------


async def send(
    client: httpx.AsyncClient, method: str, url: str, *, vendor: str, creating: bool = False, **kw: Any
) -> httpx.Response:
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


async def send_before_create(
    client: httpx.AsyncClient, method: str, url: str, *, vendor: str, **kw: Any
) -> httpx.Response | str:
    """A request a create depends on (an upload): the answer, or the transport error's name.

    The caller raises its own error outside this context, so the engine never takes the failure for a
    create whose outcome is unknown: nothing was created yet.
    """
    try:
        return await send(client, method, url, vendor=vendor, **kw)
    except ProviderError as e:  # `send` raised it in the transport error's context
        return type(e.__context__).__name__


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} (a proxy's HTML error page, an empty body, a JSON list)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- errors --------------------------------------------------------------------------------


def retry_after(source: httpx.Response | httpx.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date); None if absent."""
    headers = source.headers if isinstance(source, httpx.Response) else source
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


def kind_for_status(status: int) -> ErrorKind:
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status == 402:
        return ErrorKind.BILLING
    if status == 410:
        return ErrorKind.RETIRED
    if status in (401, 403):
        return ErrorKind.AUTH
    if status in (408, 409, 425) or status >= 500:
        return ErrorKind.RETRYABLE
    if 400 <= status < 500:
        return ErrorKind.BAD_REQUEST
    return ErrorKind.PROVIDER


def scrub(text: str, secrets: Mapping[str, str] | Iterable[str] = ()) -> str:
    """A vendor message made safe to show: no key (ours, a token derived from it, or any known), one
    line, bounded. `secrets` is a credentials mapping or the secret values themselves; vendors
    sometimes echo what they were sent."""
    values = secrets.values() if isinstance(secrets, Mapping) else secrets
    for secret in values:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = redact(text)
    text = " ".join(text.split())
    return text[:400]


def http_error(
    response: httpx.Response,
    vendor: str,
    detail: str,
    secrets: Mapping[str, str] | Iterable[str],
    kind: ErrorKind | None = None,
) -> ProviderError:
    """A ProviderError for a non-2xx answer. `detail` is the vendor's own message, scrubbed here."""
    kind = kind or kind_for_status(response.status_code)
    if kind in (ErrorKind.BAD_REQUEST, ErrorKind.AUTH, ErrorKind.PROVIDER) and BILLING_WORDS.search(detail or ""):
        kind = ErrorKind.BILLING
    elif kind is ErrorKind.BAD_REQUEST and (
        _RETIRED.search(detail or "") or (response.status_code == 404 and _GONE.search(detail or ""))
    ):
        kind = ErrorKind.RETIRED
    message = f"{vendor} answered HTTP {response.status_code}: {scrub(detail or response.reason_phrase, secrets)}"
    delay = retry_after(response) if kind is ErrorKind.RATE_LIMITED else None
    return ProviderError(kind, message, retry_after=delay, status=response.status_code)


def require(value: T | None, name: str, vendor: str) -> T:
    if value is None:
        raise UnsupportedRequest(
            f"{vendor} needs the request's {name}, which was not planned.",
            "Plan the request against the catalog first (promptreel.core.plan).",
        )
    return value


# --- input media ---------------------------------------------------------------------------

# Leading bytes -> MIME type, for the formats every video API here accepts.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_mime(data: bytes) -> str | None:
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_image(path: Path, what: str = "input") -> tuple[bytes, str]:
    """The file's bytes and MIME type: from its leading bytes, else from its name if that names an image."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        raise BadInput(f"The {what} image {path} is missing or unreadable.", "Check the path and try again.") from None
    mime = image_mime(data) or mimetypes.guess_type(path.name)[0] or ""
    if not mime.startswith("image/"):
        raise BadInput(f"The {what} image {path} is not a PNG, JPEG or WebP file.", "Export the frame as PNG or JPEG.")
    return data, mime


def read_video(path: Path) -> tuple[bytes, str]:
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise BadInput(f"Input video {path} is missing or unreadable.", "Check the path.") from None
    return data, "video/quicktime" if Path(path).suffix.lower() == ".mov" else "video/mp4"


def data_uri(path: Path, what: str, limit: int | None = None, vendor: str = "") -> str:
    """`data:image/...;base64,...`, refused clearly when the vendor's size limit is passed."""
    data, mime = read_image(path, what)
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if limit is not None and len(uri) > limit:
        raise UnsupportedRequest(
            f"The {what} image {Path(path).name} is {len(uri) // 1024} KB as a data URI; "
            f"{vendor} takes at most {limit // 1024} KB.",
            "Save it smaller (a JPEG at the output size is plenty) and try again.",
        )
    return uri


def raw_base64(path: Path, what: str) -> str:
    return base64.b64encode(read_image(path, what)[0]).decode("ascii")


def image_size(path: Path) -> Size:
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return Size(width=frame.width, height=frame.height)
    except (av.error.FFmpegError, StopIteration, IndexError):
        raise BadInput(f"Input image {path} cannot be decoded.", "Export the frame again as PNG or JPEG.") from None


def fitted_image(path: Path, size: Size, what: str = "first frame") -> tuple[bytes, str]:
    """The image at exactly `size`: unchanged if it already is, else scaled to cover and centre-cropped
    (a first frame must keep its proportions; the planner chose `size` nearest the slot's aspect)."""
    data, mime = read_image(path, what)
    if image_size(path) == size:
        return data, mime
    import ffmpeg

    from ..ffmpeg import ffmpeg_exe

    w, h = size.width, size.height
    try:
        out, _ = (
            ffmpeg.input(str(path))
            .filter("scale", w, h, force_original_aspect_ratio="increase")
            .filter("crop", w, h)
            .output("pipe:", vframes=1, format="image2", vcodec="png")
            .run(cmd=ffmpeg_exe(), capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error:
        raise BadInput(
            f"Input image {path} could not be resized to {size}.", "Export the frame at that size."
        ) from None
    return out, "image/png"


ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21", "3:2", "2:3")


def aspect_of(size: Size) -> str:
    """The vendors' aspect label for a frame size: 1104x832 is "4:3", 1584x672 is "21:9"."""
    ratio = size.width / size.height
    for label in ASPECTS:
        w, h = (int(x) for x in label.split(":"))
        if abs(ratio / (w / h) - 1) < 0.02:
            return label
    g = gcd(size.width, size.height)
    return f"{size.width // g}:{size.height // g}"


def nearest_ratio(size: Size, labels: tuple[str, ...], tolerance: float = 0.05) -> str | None:
    """The label in `labels` nearest the frame's proportions, or None when none is within `tolerance`:
    for APIs that take an aspect label and make their own pixel size (864x496 is "16:9", 1088x832 "4:3")."""

    def off(label: str) -> float:
        w, h = (int(x) for x in label.split(":"))
        return abs(size.width * h / (size.height * w) - 1)

    best = min(labels, key=off)
    return best if off(best) <= tolerance else None
