"""Shared set-up for the engine benchmarks: a data folder, the jobapi fake server, an engine."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fakes live in tests/

from promptreel.core.catalog import load_catalog  # noqa: E402
from promptreel.core.engine import Engine  # noqa: E402
from promptreel.core.journal import Journal  # noqa: E402
from promptreel.core.plan import PlannedRequest  # noqa: E402
from promptreel.core.request import GenerationRequest  # noqa: E402
from tests.engine_env import PLANTED_KEY, make_clip, write_settings  # noqa: E402
from tests.fakes.testproto import FakeJobAPI  # noqa: E402


@contextmanager
def bench_env(job_seconds: float):
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["PROMPTREEL_HOME"] = str(home)
        os.environ["TESTPROTO_API_KEY"] = PLANTED_KEY
        clip = make_clip(Path(tmp) / "clip.mp4")
        with FakeJobAPI(clip, job_seconds=job_seconds, key=PLANTED_KEY) as api:
            settings = write_settings(home, api.url)
            journal = Journal(home / "journal.sqlite")
            yield api, Engine(load_catalog(settings.catalog_file), journal, settings)
            journal.close()


def planned(prompt: str, **kw) -> PlannedRequest:
    return PlannedRequest(GenerationRequest(prompt=prompt, model="test-model", seconds=4, size="1280x720", **kw))
