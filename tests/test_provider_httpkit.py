"""The helpers every HTTP protocol shares: Retry-After, status kinds, scrubbing, bodies, images, aspect labels."""

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from promptreel.core.catalog import Size
from promptreel.core.errors import BadInput
from promptreel.core.providers.base import ErrorKind
from promptreel.core.providers.httpkit import (
    aspect_of,
    http_error,
    json_body,
    kind_for_status,
    read_image,
    retry_after,
    scrub,
)


def resp(status=429, **headers):
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://api.example"))


def test_retry_after_seconds_date_and_garbage():
    assert retry_after(resp(**{"Retry-After": "12"})) == 12.0
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    assert 80 <= retry_after(resp(**{"Retry-After": format_datetime(later, usegmt=True)})) <= 90
    assert retry_after(resp(**{"Retry-After": "soon"})) is None
    assert retry_after(resp()) is None


@pytest.mark.parametrize(
    "status, kind",
    [
        (429, ErrorKind.RATE_LIMITED),
        (402, ErrorKind.BILLING),
        (401, ErrorKind.AUTH),
        (410, ErrorKind.RETIRED),
        (400, ErrorKind.BAD_REQUEST),
        (503, ErrorKind.RETRYABLE),
    ],
)
def test_kind_for_status(status, kind):
    assert kind_for_status(status) is kind


def test_messages_scrubbed_and_reclassified():
    err = http_error(resp(400), "V", "key sk-abcdef123456 has insufficient credits", {"K": "sk-abcdef123456"})
    assert err.kind is ErrorKind.BILLING and "sk-abcdef123456" not in err.message
    err = http_error(resp(404), "V", "Model veo-2-exp is no longer available", {})
    assert err.kind is ErrorKind.RETIRED
    assert scrub("a\n b  " + "x" * 1000, {}).startswith("a b x") and len(scrub("x" * 1000, {})) == 400


@pytest.mark.parametrize(
    "status, detail, kind",
    [
        (404, "Model not found", ErrorKind.RETIRED),  # an aggregator whose resold model is gone
        (404, "The model `gen5` does not exist or you do not have access to it.", ErrorKind.RETIRED),
        (404, "Application fal-ai/sora-2/text-to-video not found", ErrorKind.RETIRED),
        (404, "Task not found", ErrorKind.BAD_REQUEST),  # a missing task says nothing about the model
        (400, "Invalid model: gen5", ErrorKind.BAD_REQUEST),  # a 400 may be our own typo: never retire a route on it
    ],
)
def test_model_gone_answers_are_retired(status, detail, kind):
    """Runway, Kling and LTX classify through http_error: a 404 naming the model is the vendor's "model gone"."""
    assert http_error(resp(status), "V", detail, {}).kind is kind


@pytest.mark.parametrize(
    "size, label",
    [
        ("1280x720", "16:9"),
        ("720x1280", "9:16"),
        ("1104x832", "4:3"),
        ("1584x672", "21:9"),
        ("960x960", "1:1"),
        ("1000x300", "10:3"),
    ],
)
def test_aspect_labels(size, label):
    assert aspect_of(Size.parse(size)) == label


def test_retry_after_ms_wins_and_headers_alone_work():
    assert retry_after(resp(**{"retry-after-ms": "1500", "Retry-After": "9"})) == 1.5
    assert retry_after(resp(**{"retry-after-ms": "x", "Retry-After": "9"}).headers) == 9.0


def test_scrub_takes_credentials_or_derived_tokens():
    token = "eyJhbGciOiJIUzI1NiJ9.payload.sig"
    text = f"bad token {token} for ak-12345678"
    assert scrub(text, {"KLING_ACCESS_KEY": "ak-12345678", "token": token}) == "bad token [redacted] for [redacted]"
    assert scrub(text, [token]).count("[redacted]") == 1


def test_json_body_is_always_an_object():
    def body(content, ctype="application/json"):
        return httpx.Response(502, content=content, headers={"content-type": ctype})

    assert json_body(body(b'{"error": "x"}')) == {"error": "x"}
    assert json_body(body(b"[1, 2]")) == {}
    assert json_body(body(b"<html>Bad Gateway</html>", "text/html")) == {}


def test_read_image_sniffs_bytes_then_name(tmp_path):
    jpeg = tmp_path / "frame.png"  # misnamed: the bytes say JPEG
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 16)
    assert read_image(jpeg)[1] == "image/jpeg"
    named = tmp_path / "still.webp"
    named.write_bytes(b"\0" * 16)
    assert read_image(named)[1] == "image/webp"
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BadInput, match="not a PNG, JPEG or WebP"):
        read_image(text, "first frame")
    with pytest.raises(BadInput, match="missing or unreadable"):
        read_image(tmp_path / "gone.png")
