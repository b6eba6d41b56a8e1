"""Where a job is in its life, and where its output is: what the journal stores and the protocols report.

Its own module so the journal and the provider protocols (core/providers/base.py) share it without
importing each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


class JobState(str, enum.Enum):
    PLANNED = "planned"  # journaled, create not yet sent
    SUBMITTING = "submitting"  # create sent, no answer yet: if we crash here the outcome is unknown
    UNKNOWN = "unknown"  # create sent, answer lost: reconcile before any resend
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # provider finished; media not yet downloaded
    DOWNLOADING = "downloading"
    DONE = "done"  # media downloaded, probed and in place
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELED)


@dataclass
class MediaRef:
    """Where an output is. Stored in the journal, so it holds no secret."""

    url: str | None = None
    inline_path: Path | None = None  # already written (synchronous APIs, inline bytes)
    expires_at: datetime | None = None
    provider_id: str | None = None  # the provider's id for this output (Kling extends by video id)
