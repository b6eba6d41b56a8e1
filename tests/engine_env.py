"""Shared set-up for engine tests: a real clip, the jobapi fake server, a data folder, an engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import ffmpeg
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.engine import Engine
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.journal import Journal
from promptreel.core.plan import PlannedRequest, check_request
from promptreel.core.request import GenerationRequest
from promptreel.core.settings import Settings
from tests.fakes.testproto import TEST_CATALOG, FakeJobAPI

PLANTED_KEY = "sk-test-PLANTED-7f3a9c2e5b1d4086"


def make_clip(path: Path) -> bytes:
    """A real 1 s, 320x180, 24 fps H.264 clip made by ffmpeg."""
    (
        ffmpeg.input("testsrc=size=320x180:rate=24:duration=1", f="lavfi")
        .output(str(path), vcodec="libx264", pix_fmt="yuv420p", preset="ultrafast")
        .overwrite_output()
        .run(cmd=ffmpeg_exe(), quiet=True)
    )
    return path.read_bytes()


def write_settings(home: Path, api_url: str, **extra) -> Settings:
    """settings.toml + catalog file in `home`, as a user (or a subprocess) would have them."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog.toml").write_text(TEST_CATALOG)
    lines = [f'catalog_file = "{home / "catalog.toml"}"', f'output_dir = "{home / "media"}"']
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    lines += ["[base_urls]"] + [f'{name} = "{api_url}"' for name in ("testproto", "testproto_blind", "testproto_sync")]
    (home / "settings.toml").write_text("\n".join(lines) + "\n")
    from promptreel.core.settings import load_settings

    return load_settings()


@dataclass
class Env:
    home: Path
    api: FakeJobAPI
    settings: Settings
    journal: Journal
    engine: Engine
    waits: list[float] = field(default_factory=list)
    events: list = field(default_factory=list)

    def plan(self, prompt: str = "a red kite over a beach", model: str = "test-model", **kw) -> PlannedRequest:
        req = GenerationRequest(prompt=prompt, model=model, seconds=kw.pop("seconds", 4), size="1280x720", **kw)
        check_request(req, self.engine.catalog.get(model))
        return PlannedRequest(req)

    def run(self, planned, **kw):
        return asyncio.run(self.engine.run(planned, on_event=self.events.append, **kw))

    def resume(self, **kw):
        return asyncio.run(self.engine.resume(self.events.append, **kw))

    def new_engine(self) -> Engine:
        """A fresh engine on the same journal (a new process, as far as the engine knows)."""
        self.engine = make_engine(self.settings, self.journal, self.waits)
        return self.engine


def make_engine(settings: Settings, journal: Journal, waits: list[float]) -> Engine:
    engine = Engine(load_catalog(settings.catalog_file), journal, settings)

    async def record(seconds: float) -> None:  # record every wait, keep the test fast
        waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.02))

    engine.sleep = record
    return engine


# Fixtures, imported by the engine test modules (kept out of conftest.py, which is shared).
@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture
def env(tmp_path, clip, monkeypatch, request):
    home = tmp_path / "home"
    # A module that tests both backends requests tests/postgres_env.py's `database`: its journal is there.
    target = request.getfixturevalue("database") if "database" in request.fixturenames else home / "journal.sqlite"
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    monkeypatch.setenv("TESTPROTO_API_KEY", PLANTED_KEY)
    with FakeJobAPI(clip, key=PLANTED_KEY) as api:
        settings = write_settings(home, api.url)
        journal = Journal(target)
        waits: list[float] = []
        yield Env(home, api, settings, journal, make_engine(settings, journal, waits), waits)
        journal.close()
