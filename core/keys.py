"""API keys: from the vendors' usual environment variables, the OS keyring, or — only where the user
chose it because there is no keyring — a file in the data folder that only they can read (0600).

Every key we hand out is remembered so `redact` (and the logging filter) can blank it
from anything that might be shown or stored.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from .errors import MissingKey

SERVICE = "promptreel"


def known_keys() -> dict[str, str]:
    """Name -> what it is for, from every route's descriptor (the names are the vendors' own environment variables)."""
    from .routes import routes

    return {name: label for d in routes().values() for name, label in d.keys.items()}


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


def keys_file() -> Path:
    from .settings import home

    return home() / "keys.json"


def _file_keys() -> dict[str, str]:
    try:
        data = json.loads(keys_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def keyring_problem() -> str | None:
    """Why the OS keyring cannot keep a key here (None: it can). Asked before the value is, so a machine
    without one (headless Linux, CI) is told the alternatives instead of failing after the prompt."""
    try:
        import keyring

        keyring.get_password(SERVICE, "promptreel-probe")
    except Exception as e:  # keyring's NoKeyringError (the `fail` backend), a locked or absent D-Bus service, ...
        return f"{type(e).__name__}: {e}".strip().rstrip(":")[:160]
    return None


def get_key(name: str) -> str | None:
    value = os.environ.get(name) or _keyring_get(name) or _file_keys().get(name)
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


def set_file_key(name: str, value: str) -> Path:
    """Keep `name` in the data folder's keys file (0600), for a machine with no OS keyring."""
    from .files import write_private

    keys = {**_file_keys(), name: value}
    _remember(value)
    return write_private(keys_file(), json.dumps(keys, indent=2))


def delete_file_key(name: str) -> bool:
    from .files import write_private

    keys = _file_keys()
    if keys.pop(name, None) is None:
        return False
    if keys:
        write_private(keys_file(), json.dumps(keys, indent=2))
    else:
        keys_file().unlink(missing_ok=True)
    return True


def key_sources() -> dict[str, str]:
    """Name -> where it is set ('environment', 'keyring' or ''); never the value."""
    out = {}
    for name in known_keys():
        if os.environ.get(name):
            out[name] = "environment"
        elif _keyring_get(name):
            out[name] = "keyring"
        elif _file_keys().get(name):
            out[name] = f"file {keys_file()}"
        else:
            out[name] = ""
    return out


def redact(text: str) -> str:
    for value in _seen | {os.environ[n] for n in known_keys() if len(os.environ.get(n, "")) >= MIN_KEY_LENGTH}:
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
