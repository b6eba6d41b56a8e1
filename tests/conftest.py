import pytest

from tests.engine_env import PLANTED_KEY, Env, make_clip, make_engine, write_settings
from tests.fakes.testproto import FakeJobAPI


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture
def env(tmp_path, clip, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    monkeypatch.setenv("TESTPROTO_API_KEY", PLANTED_KEY)
    from promptreel.core.journal import Journal

    with FakeJobAPI(clip, key=PLANTED_KEY) as api:
        settings = write_settings(home, api.url)
        journal = Journal(home / "journal.sqlite")
        waits: list[float] = []
        yield Env(home, api, settings, journal, make_engine(settings, journal, waits), waits)
        journal.close()
