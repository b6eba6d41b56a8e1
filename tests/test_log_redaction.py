"""Keys never reach a log: not in a message, and not in the traceback `log.exception` prints."""

import io
import logging

import pytest

from promptreel.core.keys import install_log_redaction

KEY = "sk-live-0123456789abcdefghij"


@pytest.fixture
def log_text(monkeypatch):
    """A real handler on the root logger, as the CLI sets up, with redaction installed."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    install_log_redaction()
    try:
        yield stream.getvalue
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _fail_with_the_key():
    raise RuntimeError(f"401 from the vendor: bad key {KEY}")


def test_a_traceback_is_redacted(log_text):
    log = logging.getLogger("promptreel.core.engine")
    try:
        _fail_with_the_key()
    except RuntimeError:
        log.exception("create failed for %s", KEY)
    text = log_text()
    assert "Traceback" in text and "_fail_with_the_key" in text  # the traceback is still there
    assert KEY not in text and text.count("[redacted]") == 2


def test_a_chained_exception_and_a_stack_are_redacted(log_text):
    log = logging.getLogger("promptreel.core.providers")
    try:
        try:
            _fail_with_the_key()
        except RuntimeError as e:
            raise ValueError(f"wrapped: {e}") from e
    except ValueError:
        log.error("poll failed", exc_info=True, stack_info=True)
    text = log_text()
    assert "direct cause" in text and "Stack (most recent call last)" in text
    assert KEY not in text
