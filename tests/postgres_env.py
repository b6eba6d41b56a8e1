"""A throwaway PostgreSQL for the tests: Debian's `initdb` / `pg_ctl` run a cluster in a temporary folder,
as an unprivileged user, on a unix socket only; each test gets a new database in it.

Without the binaries the PostgreSQL tests skip, saying so, unless PROMPTREEL_REQUIRE_POSTGRES=1 (CI),
where they fail. Modules that test both backends import `database` (and `pg_cluster`)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

USER = "promptreel"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3].split(".")[0]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


class Cluster:
    def __init__(self, bins: Path, folder: Path | None = None):
        """A new cluster in a new folder, or (`folder`) one an earlier session left there."""
        self.bins = bins
        # As root the server runs as nobody (PostgreSQL refuses root); otherwise as this user.
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if folder is None:
            # Not under pytest's tmp folders: those are private to root, and the server must not run as root.
            folder = Path(tempfile.mkdtemp(prefix="promptreel-pg-"))
            if self.as_user:
                shutil.chown(folder, "nobody")
            os.chmod(folder, 0o755)  # the socket is in it: this user's clients must reach it
        self.dir, self.data = folder, folder / "data"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}")

    def start(self) -> Cluster:
        _stop_orphans()
        (self.dir / "owner").write_text(str(os.getpid()))
        self._run(
            str(self.bins / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        # Throwaway: no fsync; many short-lived test processes, each with a small pool.
        options = f"-k {self.dir} -c listen_addresses='' -c max_connections=300 -F -c full_page_writes=off"
        self._run(
            str(self.bins / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o", options, "start"
        )
        return self

    def url(self, dbname: str) -> str:
        return f"postgresql://{USER}@/{dbname}?host={self.dir}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # a name cannot be a parameter; this one is ours
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bins / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _stop_orphans() -> None:
    """Clusters left running by a test session that was killed (no teardown): stopped, their folders removed."""
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), "promptreel-pg-*")):
        try:
            os.kill(int(Path(folder, "owner").read_text()), 0)
            continue  # its session still runs
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # not ours to judge (another user's, or still starting)
        bins = _bin_dir()
        if bins is not None and Path(folder, "data").is_dir():
            with contextlib.suppress(RuntimeError):
                Cluster(bins, Path(folder)).stop()  # removes the folder too
        shutil.rmtree(folder, ignore_errors=True)


def _unavailable(reason: str):
    if os.environ.get("PROMPTREEL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (PROMPTREEL_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL backend not tested: {reason} (apt-get install postgresql)")


@pytest.fixture(scope="session")
def pg_cluster():
    bins = _bin_dir()
    if bins is None:
        _unavailable("initdb / pg_ctl were not found under /usr/lib/postgresql/*/bin or on PATH")
    cluster = Cluster(bins)
    try:
        cluster.start()
    except (RuntimeError, OSError) as e:
        shutil.rmtree(cluster.dir, ignore_errors=True)
        _unavailable(f"a throwaway cluster could not be started ({e})")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, monkeypatch):
    """Where the test's journal lives: the SQLite file in the test's data folder (`tmp_path/home`, as
    engine_env's `env` uses), or a new database in the throwaway cluster, which every process the test
    starts also uses (PROMPTREEL_DATABASE_URL)."""
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        return tmp_path / "home" / "journal.sqlite"
    url = request.getfixturevalue("pg_cluster").new_database()
    monkeypatch.setenv("PROMPTREEL_DATABASE_URL", url)
    return url
