"""A change counter that threads wait on: the panel's server-sent event stream sends the job list each
time it moves (an engine event, a fill placed, a file-mode run finished) instead of the page polling."""

from __future__ import annotations

import threading


class Changes:
    """A counter that readers wait on: the panel's event stream sends the job list each time it moves."""

    def __init__(self):
        self._cond = threading.Condition()
        self.version = 0
        self.closed = False

    def bump(self) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """The version once it differs from `seen` (or after `timeout`, or when closed)."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen or self.closed, timeout)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
