"""Per-model statistics from a seeded journal with known answers, the journal upgrade that adds
`media_at`, the engine stamping it, and `promptreel stats`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from promptreel.core.cli import main
from promptreel.core.errors import BadInput
from promptreel.core.journal import Journal
from promptreel.core.providers.base import JobState
from promptreel.core.request import GenerationRequest
from promptreel.core.stats import COLUMNS, ModelStats, model_stats, parse_since
from promptreel.core.store import MIGRATIONS
from tests.engine_env import clip, env  # noqa: F401  (fixtures)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
VEO, VERTEX = "veo:veo-3.1-generate-preview", "vertex:veo-3.1-generate-001"


def _add(
    journal: Journal,
    route: str,
    state: JobState,
    *,
    kind: str | None = None,
    wait: float | None = None,
    cost: float | None = None,
    created: datetime = T0,
    cached: bool = False,
    **request,
) -> str:
    req = GenerationRequest(prompt="a kite", model="veo-3.1", **(request or {"seconds": 8}))
    job = journal.add_job(
        batch_id="b",
        request=req.model_dump(mode="json"),
        cache_key="k",
        variant=0,
        model="veo-3.1",
        route_key=route,
        estimated_cost=0.0,
        cached_from="job_earlier" if cached else None,
    )
    fields = {"state": state, "created_at": created.isoformat(), "sent_at": created.isoformat()}
    if wait is not None:
        fields["media_at"] = (created + timedelta(seconds=wait)).isoformat()
    if kind:
        fields |= {"error_kind": kind, "error_message": "why"}
    journal.update(job, **fields)
    if cost is not None:
        journal.charge(job, "veo-3.1", cost)
    return job


@pytest.fixture
def seeded(isolated_home):
    journal = Journal(isolated_home / "journal.sqlite")  # where `promptreel stats` reads it
    for wait in (30, 60, 90):
        _add(journal, VEO, JobState.DONE, wait=wait, cost=3.2)
    _add(journal, VEO, JobState.SUCCEEDED, kind="download", wait=120, cost=3.2)  # delivered; download pending
    for kind, state in [
        ("moderation", JobState.FAILED),
        ("rate_limited", JobState.FAILED),
        ("timeout", JobState.RUNNING),
        ("retryable", JobState.FAILED),
        ("provider", JobState.FAILED),
        ("billing", JobState.FAILED),
        ("bad_request", JobState.FAILED),
    ]:
        _add(journal, VEO, state, kind=kind)
    _add(journal, VEO, JobState.QUEUED)  # in flight: a job, but no outcome yet
    _add(journal, VEO, JobState.DONE, cost=0.0, cached=True)  # a cache hit made nothing
    _add(journal, VERTEX, JobState.DONE, wait=45, cost=1.0, frames=48, fps="24000/1001")
    _add(journal, VERTEX, JobState.FAILED, kind="moderation", created=T0 - timedelta(days=10))
    yield journal
    journal.close()


def test_known_answers(seeded):
    veo, vertex = model_stats(seeded)
    assert (veo.model, veo.route) == ("veo-3.1", VEO)
    assert (veo.jobs, veo.delivered, veo.failed) == (12, 4, 7)
    assert veo.success_rate == pytest.approx(4 / 11)
    failures = (veo.moderation, veo.timeout, veo.rate_limit, veo.provider_error, veo.billing, veo.other)
    assert failures == (1, 1, 1, 2, 1, 1)
    assert veo.median_s == pytest.approx(75.0)
    assert veo.p90_s == pytest.approx(111.0)  # 90 + 0.7 x (120 - 90): linear between closest ranks
    assert (veo.seconds, veo.usd, veo.usd_per_second) == (pytest.approx(32.0), pytest.approx(12.8), pytest.approx(0.4))

    assert (vertex.route, vertex.jobs, vertex.delivered, vertex.failed, vertex.moderation) == (VERTEX, 2, 1, 1, 1)
    assert vertex.success_rate == pytest.approx(0.5)
    assert vertex.median_s == vertex.p90_s == pytest.approx(45.0)
    assert vertex.seconds == pytest.approx(2.002)  # 48 frames at 24000/1001
    assert vertex.usd_per_second == pytest.approx(round(1.0 / 2.002, 4))


def test_since_leaves_older_jobs_out(seeded):
    rows = model_stats(seeded, since=T0 - timedelta(days=7))
    vertex = rows[1]
    assert (vertex.jobs, vertex.failed, vertex.success_rate) == (1, 0, 1.0)
    assert model_stats(seeded, since=T0 + timedelta(seconds=1)) == []


def test_row_is_in_column_order_and_frozen(seeded):
    stats = model_stats(seeded)[0]
    assert list(stats.row()) == list(COLUMNS)
    assert COLUMNS[:3] == ("model", "route", "jobs") and stats.row()["failed"] == 7
    with pytest.raises(AttributeError):
        stats.jobs = 0  # type: ignore[misc]
    assert isinstance(stats, ModelStats)


def test_parse_since():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since("2w", now) == now - timedelta(weeks=2)
    day = parse_since("2026-11-01")
    assert (day.year, day.month, day.day, day.hour) == (2026, 11, 1, 0) and day.tzinfo is not None
    with pytest.raises(BadInput, match="7d"):
        parse_since("last tuesday")


def test_an_older_journal_gains_media_at(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)  # a journal as written before `media_at` existed: the base schema alone
    db.executescript(MIGRATIONS[0].sql)
    assert "media_at" not in {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
    db.execute(
        "INSERT INTO jobs (id, batch_id, request, cache_key, variant, model, route_key, state, created_at, "
        "updated_at) VALUES ('job_old', 'b', '{\"prompt\": \"p\", \"seconds\": 4}', 'k', 0, 'm', 'p:m', 'done', "
        "'2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    )
    db.commit()
    db.close()
    journal = Journal(path)
    try:
        assert journal.get("job_old").media_at is None
        journal.update("job_old", media_at="2026-01-01T00:01:00+00:00")
        assert journal.get("job_old").media_at == "2026-01-01T00:01:00+00:00"
        [row] = model_stats(journal)
        assert (row.delivered, row.median_s) == (1, None)  # no submit time: no wait to report
    finally:
        journal.close()


def test_engine_stamps_submit_and_media_times(env):
    results = env.run([env.plan(), env.plan(prompt="another kite")])
    assert all(r.ok for r in results)
    for r in results:
        job = env.journal.get(r.job_id)
        assert job.sent_at and job.media_at and job.media_at >= job.sent_at
    [row] = model_stats(env.journal)
    assert (row.jobs, row.delivered, row.failed, row.success_rate) == (2, 2, 0, 1.0)
    assert row.median_s is not None and row.median_s >= 0
    assert row.seconds == pytest.approx(8.0) and row.usd_per_second == pytest.approx(0.1)


def _cli(capsys, *args) -> str:
    assert main(["stats", *args]) == 0
    return capsys.readouterr().out


def test_cli_json_csv_and_table(seeded, capsys):
    rows = json.loads(_cli(capsys, "--json"))
    assert [r["route"] for r in rows] == [VEO, VERTEX] and rows[0]["provider_error"] == 2
    assert list(rows[0]) == list(COLUMNS)
    table = list(csv.DictReader(io.StringIO(_cli(capsys, "--csv", "--since", "2026-11-15"))))
    assert [r["route"] for r in table] == [VEO, VERTEX] and table[1]["jobs"] == "1"
    text = _cli(capsys)
    assert "veo-3.1" in text and "36%" in text


def test_cli_bad_since_is_a_user_error(capsys):
    assert main(["stats", "--since", "soon"]) == 2
    assert "7d" in capsys.readouterr().err


def test_by_model_joins_the_routes(seeded):
    (both,) = model_stats(seeded, by_model=True)
    assert (both.model, both.route, both.jobs, both.delivered, both.failed) == ("veo-3.1", "*", 14, 5, 8)
    assert both.median_s == pytest.approx(60.0)  # 30, 45, 60, 90, 120
