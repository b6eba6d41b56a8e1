"""API keys: from the vendors' usual environment variables or the OS keyring, never from files we write.

Every key we hand out is remembered so `redact` (and the logging filter) can blank it
from anything that might be shown or stored.
"""

from __future__ import annotations

import logging
import os

from .errors import MissingKey

SERVICE = "promptreel"

# Name -> what it is for (the names are the vendors' own environment variables).
KNOWN_KEYS = {
    "OPENAI_API_KEY": "OpenAI (Sora)",
    "GEMINI_API_KEY": "Google Gemini API (Veo)",
    "RUNWAYML_API_SECRET": "Runway",
    "KLING_API_KEY": "Kling (API key)",
    "KLING_ACCESS_KEY": "Kling (access key, legacy)",
    "KLING_SECRET_KEY": "Kling (secret key)",
    "LTX_API_KEY": "Lightricks LTX",
    "REPLICATE_API_TOKEN": "Replicate",
    "FAL_KEY": "fal.ai",
    "XAI_API_KEY": "xAI (Grok Imagine)",
    "MINIMAX_API_KEY": "MiniMax (H3)",
    "LUMA_AGENTS_API_KEY": "Luma Agents API (Ray 3.2)",
}

_seen: set[str] = set()
# Shorter values are not keys (every vendor's key is 20+ characters) and blanking them would
# corrupt ordinary text: paths, prompts, file names.
MIN_KEY_LENGTH = 12


def _remember(value: str) -> str:
    if len(value) >= MIN_KEY_LENGTH:
        _seen.add(value)
    return value


def _keyring_get(name: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(SERVICE, name)
    except Exception:  # no keyring backend on this machine (CI, headless Linux): env vars only
        return None


def get_key(name: str) -> str | None:
    value = os.environ.get(name) or _keyring_get(name)
    return _remember(value) if value else None


def require_keys(names: tuple[str, ...], purpose: str) -> dict[str, str]:
    out = {}
    for name in names:
        value = get_key(name)
        if not value:
            raise MissingKey(
                f"{purpose} needs {name}, which is not set.",
                f"Set the environment variable {name}, or run `promptreel keys set {name}`.",
            )
        out[name] = value
    return out


def set_key(name: str, value: str) -> None:
    import keyring

    keyring.set_password(SERVICE, name, value)
    _remember(value)


def delete_key(name: str) -> None:
    import keyring

    keyring.delete_password(SERVICE, name)


def key_sources() -> dict[str, str]:
    """Name -> where it is set ('environment', 'keyring' or ''); never the value."""
    out = {}
    for name in KNOWN_KEYS:
        if os.environ.get(name):
            out[name] = "environment"
        elif _keyring_get(name):
            out[name] = "keyring"
        else:
            out[name] = ""
    return out


def redact(text: str) -> str:
    for value in _seen | {os.environ[n] for n in KNOWN_KEYS if len(os.environ.get(n, "")) >= MIN_KEY_LENGTH}:
        if value in text:
            text = text.replace(value, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    """Blank every known key from log records, whatever logger they come from: the message, and
    the traceback and stack the record carries (an exception's message may quote a key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            # Formatters print the cached `exc_text` when there is one: format it here, redacted.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def install_log_redaction() -> None:
    flt = RedactingFilter()
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(flt)
    root.addFilter(flt)
