"""Downloads that cannot succeed as they are: a broken file is fetched once more and then reported as the
provider's; a full disk (for the media, or for the journal itself) says so and leaves the job collectable."""

from __future__ import annotations

import errno

from promptreel.core.providers.base import JobState
from tests.engine_env import clip, env  # noqa: F401  (fixtures)


def test_a_broken_download_is_fetched_once_more(env):
    env.api.corrupt_downloads = 1
    [r] = env.run([env.plan()])
    assert r.ok and sum(env.api.downloads.values()) == 2 and sum(env.api.creates.values()) == 1


def test_a_file_broken_twice_is_the_providers_and_is_not_fetched_forever(env):
    env.api.corrupt_downloads = 10
    [r] = env.run([env.plan()])
    assert not r.ok and not r.resumable and r.error_kind == "broken_media"
    assert "provider's file" in r.error and "broken" in r.error
    assert ".part" not in r.error and str(env.home) not in r.error  # no temporary path for the user to puzzle over
    assert sum(env.api.downloads.values()) == 2
    assert env.journal.get(r.job_id).state is JobState.FAILED
    assert not list((env.home / "media").glob(".*part*"))


def test_a_full_disk_during_the_download_keeps_the_paid_job_for_resume(env, monkeypatch):
    import promptreel.core.engine as engine_module

    real_fetch = engine_module.fetch

    async def no_space(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(engine_module, "fetch", no_space)
    [r] = env.run([env.plan()])
    assert not r.ok and r.resumable and r.error_kind == "disk_full"
    assert "full" in r.error and "promptreel resume" in r.error and "Traceback" not in r.error
    assert env.journal.get(r.job_id).state is JobState.SUCCEEDED  # paid for, kept

    monkeypatch.setattr(engine_module, "fetch", real_fetch)
    env.new_engine()
    [again] = env.resume()
    assert again.ok and sum(env.api.creates.values()) == 1


def _fill_up(db) -> None:
    """Let the database grow no more, and take up the room left in its pages: SQLite's own "database or
    disk is full" from here on, as on a full data folder."""
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    for n in range(100_000):  # every table the rest of a job writes: each has pages of its own
        try:
            db.execute(
                "INSERT INTO cache (key, job_id, path, created_at) VALUES (?, 'x', ?, 'now')", (f"filler{n}", "x" * 200)
            )
        except Exception as e:
            assert "full" in str(e)
            return


def test_a_full_data_folder_mid_download_is_reported_not_a_traceback(env, caplog):
    full = []

    def on_event(e):
        if e.kind.value == "downloading" and not full:
            _fill_up(env.journal._db)
            full.append(True)

    import asyncio

    [r] = asyncio.run(env.engine.run([env.plan()], on_event=on_event))
    assert full and not r.ok and r.resumable and r.error_kind == "disk_full"
    assert "full" in r.error and "promptreel resume" in r.error
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text
    assert sum(env.api.creates.values()) == 1
