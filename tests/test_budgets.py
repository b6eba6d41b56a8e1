"""Shared budgets, on this machine's SQLite journal and on a studio's PostgreSQL: a run reserves its
estimate before its first create and each job settles at its actual cost, so runs at once (four real
processes here) can never pass a cap together; per day, per user, per project; `cost --by user`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from promptreel.core.cli import main
from promptreel.core.errors import BudgetExceeded
from promptreel.core.journal import Caps, Journal
from promptreel.core.providers.base import JobState
from tests.engine_env import clip, env  # noqa: F401  (fixtures)
from tests.postgres_env import database, pg_cluster  # noqa: F401  (fixtures)
from tests.test_exactly_once import _cli

pytestmark = pytest.mark.usefixtures("database")


def _job(journal: Journal, n: int, estimate: float = 0.4) -> str:
    return journal.add_job(
        batch_id="b",
        request={"n": n},
        cache_key=f"k{n}:0",
        variant=0,
        model="m",
        route_key="p:m",
        estimated_cost=estimate,
    )


def test_a_reservation_holds_the_cap_until_settled_at_the_actual_cost(database):
    journal = Journal(database)
    caps = Caps(day=1.0)
    a, b, c = (_job(journal, n) for n in range(3))
    journal.reserve([(a, 0.4, ""), (b, 0.4, "")], caps)
    assert journal.reserved() == pytest.approx(0.8)
    with pytest.raises(BudgetExceeded, match=r"\$0\.80 already spent or reserved.*daily cap of \$1\.00"):
        journal.reserve([(c, 0.4, "")], caps)  # nothing spent yet, but 0.8 promised
    assert journal.reserved() == pytest.approx(0.8)  # the refused run reserved nothing
    journal.charge(a, "m", 0.1)  # the provider's bill was less than the estimate: the rest is free again
    journal.reserve([(c, 0.4, "")], caps)
    journal.set_state(b, JobState.FAILED)  # a failed job gives its reservation back, and costs nothing
    assert journal.reserved() == pytest.approx(0.4)
    d = _job(journal, 3)
    journal.reserve([(d, 0.5, "")], caps)  # 0.1 spent + 0.4 reserved + 0.5 = 1.0: at the cap, allowed
    journal.charge(c, "m", 0.4, sandbox=True)  # the sandbox's pretend money counts for nothing
    journal.reserve([(_job(journal, 4), 0.4, "")], caps)
    assert journal.spent_on() == pytest.approx(0.1)
    journal.close()


def test_a_cap_counts_what_was_spent_before_it_was_set(database):
    journal = Journal(database)
    spent = _job(journal, 0)
    journal.charge(spent, "m", 0.7)
    with pytest.raises(BudgetExceeded, match=r"\$0\.70 already spent"):
        journal.reserve([(_job(journal, 1), 0.4, "")], Caps(day=1.0))
    journal.close()


def test_project_and_user_caps(database, monkeypatch):
    journal = Journal(database)
    caps = Caps(user_day=1.0, projects={"film": 0.5})
    journal.reserve([(_job(journal, 0), 0.4, "film")], caps)
    with pytest.raises(BudgetExceeded, match="budget of project 'film'"):
        journal.reserve([(_job(journal, 1), 0.4, "film")], caps)
    journal.reserve([(_job(journal, 2), 0.4, "ad")], caps)  # another project: only the user's cap applies
    monkeypatch.setenv("PROMPTREEL_USER", "alice")
    with pytest.raises(BudgetExceeded, match="alice's daily cap"):
        journal.reserve([(_job(journal, 3), 1.1, "ad")], caps)
    journal.reserve([(_job(journal, 4), 1.0, "ad")], caps)  # alice has spent nothing yet
    journal.close()


def test_the_engine_reserves_before_the_first_create_and_refuses_with_nothing_added(env):
    env.settings.daily_cap_usd = 1.0
    env.settings.project_caps_usd = {"film": 0.3}
    with pytest.raises(BudgetExceeded, match="project 'film'"):
        env.run([env.plan(prompt="film", tags={"project": "film"})])  # 0.40 > 0.30
    env.run([env.plan(variants=2)])  # 0.80 of the 1.00 reserved, then spent
    with pytest.raises(BudgetExceeded, match="daily cap"):
        env.run([env.plan(prompt="another", variants=1)])  # 0.80 + 0.40 > 1.00
    assert len(env.journal.jobs()) == 2 and env.journal.reserved() == 0
    assert sum(env.api.creates.values()) == 2


def test_four_processes_against_one_cap_stop_at_it_together(env, capsys):
    """Four seats start a $0.80 run each at once against a $2.00 daily cap: two run, two are refused
    (before any create), whatever the timing; the ledger never passes the cap. Each seat's spend is listed
    under its user."""
    (env.home / "settings.toml").write_text(
        (env.home / "settings.toml").read_text().replace("[base_urls]", "daily_cap_usd = 2.0\n[base_urls]")
    )
    env.api.job_seconds = 0.5  # every run is still at the provider when the others start
    procs = [
        _cli(
            ["generate", f"seat {n}", "--model", "test-model", "--seconds", "4", "--variants", "2", "--json"],
            PROMPTREEL_USER=user,
        )
        for n, user in enumerate(("alice", "bob", "carol", "dan"))
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 0, 3, 3], [o[1].decode()[-1500:] for o in outs]
    refused = [o[1].decode() for p, o in zip(procs, outs) if p.returncode == 3]
    assert all("daily cap of $2.00" in err and "Traceback" not in err for err in refused)
    journal = env.journal
    assert journal.spent_on() == pytest.approx(1.6) and journal.reserved() == 0
    assert sum(env.api.creates.values()) == 4
    assert all(r["state"] == "done" for p, o in zip(procs, outs) if p.returncode == 0 for r in json.loads(o[0]))
    capsys.readouterr()
    assert main(["cost", "--by", "user", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["user", "usd", "jobs"] and len(rows[1:]) == 2
    assert all(r[1:] == ["0.8000", "2"] for r in rows[1:])
    assert {r[0] for r in rows[1:]} <= {"alice", "bob", "carol", "dan"}


def test_a_resend_is_reserved_like_any_create_and_a_reserved_job_counts_once(env):
    """A job never sent by a run made before the cap was set: resending it is held to the cap. A job
    whose reservation is still open (its outcome unknown) is not counted a second time when resent."""
    orphan = env.journal.add_job(
        batch_id="b0",
        request=env.plan().request.model_dump(mode="json"),
        cache_key="k:0",
        variant=0,
        model="test-model",
        route_key="testproto:test-1",
        estimated_cost=0.4,
    )
    spent = env.journal.add_job(
        batch_id="b0", request={}, cache_key="k:1", variant=0, model="m", route_key="p:m", estimated_cost=0.8
    )
    env.journal.charge(spent, "m", 0.8)
    env.settings.daily_cap_usd = 1.0
    with pytest.raises(BudgetExceeded, match="daily cap"):
        env.resume(resend=[orphan])  # 0.80 + 0.40 > 1.00
    assert env.journal.get(orphan).state is JobState.PLANNED and sum(env.api.creates.values()) == 0
    assert env.journal.reserved() == 0

    held = _job(env.journal, 9)
    env.journal.reserve([(held, 0.1, "")], Caps(day=1.0))
    env.journal.reserve([(held, 0.1, "")], Caps(day=1.0))  # the same job again: already reserved

    def counted() -> float:  # the budget row the conditional update reads, and what it should say
        row = env.journal.execute("SELECT committed FROM budgets WHERE scope = 'day'").fetchone()[0]
        assert row == pytest.approx(env.journal.committed("day"))
        return row

    assert counted() == pytest.approx(0.9)
    env.journal.set_state(held, JobState.CANCELED)
    assert counted() == pytest.approx(0.8)
