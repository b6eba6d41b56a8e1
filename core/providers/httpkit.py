"""What the HTTP protocol modules share: error classification, Retry-After, safe messages, images.

Kept apart from `base` so the contract stays small; every helper here is pure or
reads a local file, never the network.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from math import gcd
from pathlib import Path

import httpx

from ..catalog import Size
from ..errors import BadInput, UnsupportedRequest
from ..keys import redact
from .base import ErrorKind, ProviderError

# Words vendors put in refusals that are about money, not our request.
_BILLING = re.compile(r"credit|balance|billing|arrear|quota|insufficient|payment|spend", re.I)
# ... and about a model that is gone, so the engine can take the next route.
_RETIRED = re.compile(r"no longer (available|supported|served)|has been (retired|deprecated|removed)|\bretired\b|sunset", re.I)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), if any."""
    value = response.headers.get("retry-after")
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


def scrub(text: str, credentials: dict[str, str]) -> str:
    """A vendor message made safe to show: no key (ours or any known), one line, bounded."""
    for value in credentials.values():
        if value and len(value) >= 4:
            text = text.replace(value, "[redacted]")
    text = redact(text)
    text = " ".join(text.split())
    return text[:400]


def http_error(response: httpx.Response, vendor: str, detail: str, credentials: dict[str, str],
               kind: ErrorKind | None = None) -> ProviderError:
    """A ProviderError for a non-2xx answer. `detail` is the vendor's own message, scrubbed here."""
    kind = kind or kind_for_status(response.status_code)
    if kind in (ErrorKind.BAD_REQUEST, ErrorKind.AUTH, ErrorKind.PROVIDER) and _BILLING.search(detail or ""):
        kind = ErrorKind.BILLING
    elif kind is ErrorKind.BAD_REQUEST and _RETIRED.search(detail or ""):
        kind = ErrorKind.RETIRED
    message = f"{vendor} answered HTTP {response.status_code}: {scrub(detail or response.reason_phrase, credentials)}"
    delay = retry_after(response) if kind is ErrorKind.RATE_LIMITED else None
    return ProviderError(kind, message, retry_after=delay, status=response.status_code)


def transport_error(vendor: str, exc: httpx.TransportError) -> ProviderError:
    """A poll or status call that got no answer: safe to try again (nothing is created by it)."""
    return ProviderError(ErrorKind.RETRYABLE, f"No answer from {vendor} ({type(exc).__name__}).")


def json_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def read_image(path: Path, what: str) -> tuple[bytes, str]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"The {what} image {path} cannot be read ({e.strerror}).", "Check the path and try again.") from None
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    if not mime.startswith("image/"):
        raise BadInput(f"The {what} {path} is not an image file.", "Give a PNG, JPEG or WebP image.")
    return data, mime


def data_uri(path: Path, what: str, limit: int | None = None, vendor: str = "") -> str:
    """`data:image/...;base64,...`, refused clearly when the vendor's size limit is passed."""
    data, mime = read_image(path, what)
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if limit is not None and len(uri) > limit:
        raise UnsupportedRequest(
            f"The {what} image {Path(path).name} is {len(uri) // 1024} KB as a data URI; {vendor} takes at most {limit // 1024} KB.",
            "Save it smaller (a JPEG at the output size is plenty) and try again.",
        )
    return uri


def raw_base64(path: Path, what: str) -> str:
    return base64.b64encode(read_image(path, what)[0]).decode("ascii")


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


def require(value, name: str, vendor: str):
    if value is None:
        raise UnsupportedRequest(f"{vendor} needs the request's {name}, which was not planned.",
                                 "Plan the request against the catalog first (promptreel.core.plan).")
    return value
