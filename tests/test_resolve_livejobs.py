"""The panel's live job list: each engine job's latest event as a row, from a real journal."""

from __future__ import annotations

import pytest

from promptreel.core.events import Event, EventKind
from promptreel.core.journal import Journal
from promptreel.core.keys import redact
from promptreel.resolve_plugin.livejobs import LiveJobs


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()


def _job(journal: Journal, prompt: str) -> str:
    return journal.add_job(
        batch_id="batch_1",
        request={"prompt": prompt},
        cache_key="k",
        variant=0,
        model="veo-3.1",
        route_key="vertex:veo-3.1-generate-001",
        estimated_cost=3.2,
    )


def test_a_job_goes_from_queued_through_progress_to_done_with_its_charge(journal):
    live = LiveJobs(journal)
    job = _job(journal, "a red fox in snow")
    live.on_event(Event(EventKind.QUEUED, job, "veo-3.1"))
    (row,) = live()
    assert (row.kind, row.state, row.progress, row.cost_usd) == ("engine", "queued", None, 3.2)
    assert row.title == "veo-3.1 'a red fox in snow'"
    live.on_event(Event(EventKind.RUNNING, job, "veo-3.1", progress=0.4))
    assert (live()[0].state, live()[0].progress) == ("running", 0.4)
    live.on_event(Event(EventKind.DOWNLOADING, job, "veo-3.1", bytes=512 * 1024, total=2048 * 1024))
    assert (live()[0].state, live()[0].progress, live()[0].detail) == ("downloading", 0.25, "512 KiB of 2048")
    journal.charge(job, "veo-3.1", 3.0)
    live.on_event(Event(EventKind.DONE, job, "veo-3.1"))
    (row,) = live()
    assert (row.state, row.progress, row.cost_usd, row.detail) == ("done", 1.0, 3.0, "delivered")


def test_a_failure_says_why_without_keys_and_a_cache_hit_costs_nothing(journal, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyTESTKEY0123456789abcdefghijklmnop")
    live = LiveJobs(journal)
    failed, cached = _job(journal, "storm"), _job(journal, "waves")
    reason = "401 for key AIzaSyTESTKEY0123456789abcdefghijklmnop"
    live.on_event(Event(EventKind.FAILED, failed, "veo-3.1", reason=reason, resumable=True))
    live.on_event(Event(EventKind.CACHED, cached, "veo-3.1"))
    rows = {r.id: r for r in live()}
    assert rows[failed].state == "failed" and "AIzaSy" not in rows[failed].detail
    assert rows[failed].detail == redact(reason) + " (kept: `promptreel resume` collects it)"
    assert (rows[cached].state, rows[cached].cost_usd) == ("done", 0.0)


def test_only_the_newest_jobs_are_kept(journal):
    live = LiveJobs(journal, keep=2)
    ids = [_job(journal, f"shot {i}") for i in range(3)]
    for job in ids:
        live.on_event(Event(EventKind.QUEUED, job, "veo-3.1"))
    assert [r.id for r in live()] == ids[1:]


def test_a_row_names_its_shot_and_each_change_moves_the_stream(journal, tmp_path):
    live = LiveJobs(journal)
    job = journal.add_job(
        batch_id="batch_2",
        request={"prompt": "a red fox in snow", "tags": {"shot": "SH010"}},
        cache_key="k2",
        variant=0,
        model="veo-3.1",
        route_key="vertex:veo-3.1-generate-001",
        estimated_cost=3.2,
    )
    seen = live.changes.version
    live.on_event(Event(EventKind.QUEUED, job, "veo-3.1"))
    assert live.changes.wait(seen, 0) == seen + 1  # the event stream wakes, no polling
    (row,) = live()
    assert (row.title, row.shot, row.model) == ("SH010 · veo-3.1 'a red fox in snow'", "SH010", "veo-3.1")
    assert row.started and not row.ended
    clip = tmp_path / "clip.mov"
    live.on_event(Event(EventKind.DONE, job, "veo-3.1", path=clip))
    (row,) = live()
    assert row.media == str(clip) and row.ended >= row.started
