"""The helpers every HTTP protocol shares: Retry-After, status kinds, scrubbing, aspect labels."""

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from promptreel.core.catalog import Size
from promptreel.core.providers.base import ErrorKind
from promptreel.core.providers.httpkit import aspect_of, http_error, kind_for_status, retry_after, scrub


def resp(status=429, **headers):
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://api.example"))


def test_retry_after_seconds_date_and_garbage():
    assert retry_after(resp(**{"Retry-After": "12"})) == 12.0
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    assert 80 <= retry_after(resp(**{"Retry-After": format_datetime(later, usegmt=True)})) <= 90
    assert retry_after(resp(**{"Retry-After": "soon"})) is None
    assert retry_after(resp()) is None


@pytest.mark.parametrize("status, kind", [(429, ErrorKind.RATE_LIMITED), (402, ErrorKind.BILLING), (401, ErrorKind.AUTH),
                                          (410, ErrorKind.RETIRED), (400, ErrorKind.BAD_REQUEST), (503, ErrorKind.RETRYABLE)])
def test_kind_for_status(status, kind):
    assert kind_for_status(status) is kind


def test_messages_scrubbed_and_reclassified():
    err = http_error(resp(400), "V", "key sk-abcdef123456 has insufficient credits", {"K": "sk-abcdef123456"})
    assert err.kind is ErrorKind.BILLING and "sk-abcdef123456" not in err.message
    err = http_error(resp(404), "V", "Model veo-2-exp is no longer available", {})
    assert err.kind is ErrorKind.RETIRED
    assert scrub("a\n b  " + "x" * 1000, {}).startswith("a b x") and len(scrub("x" * 1000, {})) == 400


@pytest.mark.parametrize("size, label", [("1280x720", "16:9"), ("720x1280", "9:16"), ("1104x832", "4:3"),
                                         ("1584x672", "21:9"), ("960x960", "1:1"), ("1000x300", "10:3")])
def test_aspect_labels(size, label):
    assert aspect_of(Size.parse(size)) == label
