"""Errors a user can cause. Each message says what is wrong and what to do.

Anything that is not a `UserError` is a bug and may raise with a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the user can fix. The CLI prints the message, no traceback."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if not fix else f"{problem} {fix}")


class UnknownModel(UserError):
    pass


class UnsupportedRequest(UserError):
    """The model cannot make what was asked (duration, size, input, ...)."""


class BadInput(UserError):
    """A missing or unreadable file, a malformed value."""


class BudgetExceeded(UserError):
    exit_code = 3


class MissingKey(UserError):
    pass


class MediaError(UserError):
    """A file that is not media, is truncated, or has no video stream."""
