"""Two seats of a studio on one database (this machine's SQLite file, or a PostgreSQL), as real processes
against the MiniMax sandbox fake: the shared media folder mounted at two different paths (media_root, the
second through a symlink) finds one take from both; a seat that cannot read another's take fetches it
again from the provider's job (`resume --refetch`) with no new create and no second charge, or is told in
one line that the provider's copy has expired."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptreel.core.journal import Journal
from promptreel.core.request import file_sha256
from promptreel.core.sandbox import SMALL, sandbox
from tests.postgres_env import database, pg_cluster  # noqa: F401  (fixtures)

# Every test here runs on this machine's SQLite journal and on a studio's PostgreSQL.
pytestmark = pytest.mark.usefixtures("database")

REPO = Path(__file__).resolve().parents[1]
GENERATE = [
    "generate",
    "a lighthouse at dusk",
    "--model",
    "minimax-h3",
    "--seconds",
    "6",
    "--size",
    "1366x768",
    "--json",
]

# promptreel as a seat runs it, its waits between polls cut short, on the host PROMPTREEL_TEST_HOSTNAME names.
SEAT = """
import asyncio, os, socket, sys
from promptreel.core.engine import Engine

if os.environ.get("PROMPTREEL_TEST_HOSTNAME"):
    socket.gethostname = lambda: os.environ["PROMPTREEL_TEST_HOSTNAME"]
init = Engine.__init__

def quick(self, *a, **kw):
    init(self, *a, **kw)

    async def brief(seconds):
        await asyncio.sleep(0)

    self.sleep = brief

Engine.__init__ = quick
from promptreel.core.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["minimax"], limit=SMALL) as env:
        yield env


@pytest.fixture
def minimax(fakes):
    fakes.fakes["minimax"].reset()
    return fakes.fakes["minimax"]


@pytest.fixture
def store(request):
    """The shared database's target (the SQLite file, or the PostgreSQL URL)."""
    return request.getfixturevalue("database")


def seat(fakes, args: list[str], home: Path, settings: str = "", **env: str) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(settings)
    base = {k: v for k, v in os.environ.items() if k not in ("PROMPTREEL_MEDIA_ROOT", "PROMPTREEL_TEST_HOSTNAME")}
    return subprocess.run(
        [sys.executable, "-c", SEAT, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**base, **fakes, "PYTHONPATH": str(REPO), "PROMPTREEL_HOME": str(home), **env},
    )


def made(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    return row


def charges(store) -> list[tuple]:
    journal = Journal(store)
    try:
        return [tuple(r) for r in journal.execute("SELECT job_id, amount FROM ledger")]
    finally:
        journal.close()


def homes(tmp_path: Path, store) -> tuple[Path, Path]:
    """Seat A's data folder, and seat B's: its own beside a shared PostgreSQL; on SQLite the one folder that
    holds the shared journal file (B then differs by its environment)."""
    a = tmp_path / "home"
    return a, (a if isinstance(store, Path) else tmp_path / "home-b")


def test_two_seats_mounting_the_media_root_at_different_paths_share_one_take(fakes, minimax, store, tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    mount_b = tmp_path / "mnt" / "studio"
    mount_b.parent.mkdir()
    mount_b.symlink_to(nas, target_is_directory=True)  # seat B reaches the same share by another path
    home_a, home_b = homes(tmp_path, store)
    first = made(seat(fakes, GENERATE, home_a, f'media_root = "{nas}"\n'))
    assert Path(first["path"]).parent == nas and minimax.creates == 1
    # The shared index names the take relative to the share, never by seat A's mount path.
    journal = Journal(store, media_root=None)
    try:
        [key] = [r[0] for r in journal.execute("SELECT key FROM cache")]
        assert journal.cache_stored_path(key) == f"{first['job_id']}.mp4"
        # So does the take's C2PA row (its content credentials, by content hash).
        assert [r[0] for r in journal.execute("SELECT path FROM credentials")] == [f"{first['job_id']}.mp4"]
    finally:
        journal.close()
    assert (nas / f"{first['job_id']}.mp4").is_file()
    assert not [p for p in nas.iterdir() if p.name.startswith(".")]  # no temporary name left behind
    if home_b != home_a:  # its own settings file
        b = seat(fakes, GENERATE, home_b, f'media_root = "{mount_b}"\n', PROMPTREEL_TEST_HOSTNAME="edit-bay-2")
    else:  # the shared data folder's settings name seat A's mount: this seat's environment wins
        b = seat(
            fakes,
            GENERATE,
            home_b,
            f'media_root = "{nas}"\n',
            PROMPTREEL_MEDIA_ROOT=str(mount_b),
            PROMPTREEL_TEST_HOSTNAME="edit-bay-2",
        )
    again = made(b)
    assert again["cached"] and Path(again["path"]) == mount_b / f"{first['job_id']}.mp4"
    assert minimax.creates == 1 and len(charges(store)) == 2 and sum(a for _, a in charges(store)) > 0
    assert [a for j, a in charges(store) if j != first["job_id"]] == [0.0]  # seat B paid nothing
    from promptreel.core.takes import list_takes

    for mount in (nas, mount_b):  # each seat's takes, as each seat lists them: under its own mount
        journal = Journal(store, media_root=mount)
        try:
            assert {t.path for t in list_takes(journal)} == {mount / f"{first['job_id']}.mp4"}
            row = journal.c2pa_record(file_sha256(nas / f"{first['job_id']}.mp4"))
            assert (row["job_id"], row["path"]) == (first["job_id"], str(mount / f"{first['job_id']}.mp4"))
        finally:
            journal.close()


def test_a_take_this_seat_cannot_read_is_fetched_again_from_the_provider_without_a_charge(
    fakes, minimax, store, tmp_path
):
    home_a, home_b = homes(tmp_path, store)
    out_a, out_b = tmp_path / "bay2-local", tmp_path / "here"
    first = made(seat(fakes, GENERATE, home_a, f'output_dir = "{out_a}"\n', PROMPTREEL_TEST_HOSTNAME="edit-bay-2"))
    job = first["job_id"]
    out_a.rename(tmp_path / "unmounted")  # seat A's folder is not mounted here
    mine = f'output_dir = "{out_b}"\n'
    refused = seat(fakes, GENERATE, home_b, mine)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "edit-bay-2" in line and "cannot read" in line and f"promptreel resume --refetch {job}" in line
    assert minimax.creates == 1
    fetched = made(seat(fakes, ["resume", "--refetch", job, "--json"], home_b, mine))
    assert fetched["state"] == "done" and fetched["cost_usd"] == 0 and Path(fetched["path"]) == out_b / f"{job}.mp4"
    assert minimax.creates == 1 and len(charges(store)) == 1  # no create, no second charge
    # Written under a temporary name, renamed; its provenance beside it says it is a copy of the job's take.
    assert sorted(p.name for p in out_b.iterdir()) == [f"{job}.mp4", f"{job}.provenance.json"]
    side = json.loads((out_b / f"{job}.provenance.json").read_text())
    assert side["marks"]["job_id"] == job and side["marks"]["model"] == "minimax-h3"
    assert side["refetched"]["copy_of"] == job and side["refetched"]["model"] == "minimax-h3"
    assert side["refetched"]["cost"] == 0 and side["original"]["sha256"] == file_sha256(out_b / f"{job}.mp4")
    journal = Journal(store)
    try:  # the journal knows the copy's content as the original of that job
        assert journal.c2pa_record(file_sha256(out_b / f"{job}.mp4"))["job_id"] == job
    finally:
        journal.close()
    again = made(seat(fakes, GENERATE, home_b, mine))  # now this seat has the take: a cache hit, free
    assert again["cached"] and Path(again["path"]) == out_b / f"{job}.mp4" and minimax.creates == 1


def test_a_take_the_provider_no_longer_has_is_refused_in_one_line_naming_no_cache(fakes, minimax, store, tmp_path):
    home_a, home_b = homes(tmp_path, store)
    first = made(
        seat(
            fakes, GENERATE, home_a, f'output_dir = "{tmp_path / "elsewhere"}"\n', PROMPTREEL_TEST_HOSTNAME="edit-bay-2"
        )
    )
    minimax.fault("media", "expired", "expired")  # the download URL is past its time, and so is a fresh one
    gone = seat(fakes, ["resume", "--refetch", first["job_id"]], home_b, f'output_dir = "{tmp_path / "here"}"\n')
    assert gone.returncode == 2
    [line] = gone.stderr.strip().splitlines()
    assert "expired" in line and "--no-cache" in line
    assert minimax.creates == 1 and len(charges(store)) == 1
    assert not any((tmp_path / "here").glob("*"))  # nothing half-written left
