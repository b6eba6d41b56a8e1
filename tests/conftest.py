"""Every test runs with its own data folder and no real keys or keyring."""

import httpx
import pytest

from promptreel.core.keys import known_keys


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("promptreel-home")
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    monkeypatch.delenv("PROMPTREEL_DATABASE_URL", raising=False)  # never a studio's real database
    monkeypatch.delenv("PROMPTREEL_MEDIA_ROOT", raising=False)  # nor its media share
    for name in known_keys():
        monkeypatch.delenv(name, raising=False)
    # A test must never read or write the developer's real keychain.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    from promptreel.core.catalog import default_catalog

    default_catalog.cache_clear()
    yield home
    default_catalog.cache_clear()


@pytest.fixture
def fake(server):
    """A module's fake provider server (its `server` fixture), cleared of earlier tests' jobs and faults."""
    server.reset()
    return server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=5.0) as c:
        yield c


@pytest.fixture
def no_poll_waits(monkeypatch):
    """The engine as the CLI makes it, with the waits between polls skipped (the fakes answer at once)."""
    from promptreel.core.engine import Engine

    init = Engine.__init__

    async def no_wait(seconds):
        return None

    def quick(self, *a, **kw):
        init(self, *a, **kw)
        self.sleep = no_wait

    monkeypatch.setattr(Engine, "__init__", quick)
