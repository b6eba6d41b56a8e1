"""The job engine against the jobapi loopback server: limits, retries, lost creates, downloads,
poll cap, route fallback, cache, budget."""

from __future__ import annotations

import asyncio

import pytest

from promptreel.core.errors import BudgetExceeded
from promptreel.core.events import EventKind
from promptreel.core.limits import TokenBucket, limits_for
from promptreel.core.providers.base import JobState
from promptreel.core.settings import RouteLimits, Settings
from tests.engine_env import clip, env  # noqa: F401  (fixtures)
from tests.fakes.testproto import ClipLocal, media_host


def test_batch_runs_each_variant_as_its_own_job(env):
    results = env.run([env.plan(seed=7, variants=3)])
    assert [r.state for r in results] == [JobState.DONE] * 3
    sent = sorted(c.json()["seed"] for c in env.api.server.calls_to("POST", r"/v1/models/.*/jobs"))
    assert sent == [7, 8, 9]  # seed offset per variant
    for r in results:
        assert r.path.name == f"{r.job_id}.mp4" and r.path.is_file()
        assert (r.info.width, r.info.height, r.info.frames) == (320, 180, 24)
        assert r.cost == pytest.approx(0.4)  # catalog estimate: $0.10/s x 4 s, provider reported none
    assert not list(r.path.parent.glob(".*"))  # no temporary left behind
    kinds = {e.kind for e in env.events}
    assert {EventKind.QUEUED, EventKind.SUBMITTED, EventKind.DONE} <= kinds
    assert env.journal.spent_on() == pytest.approx(1.2)


def test_concurrency_limit_holds(env):
    env.settings.route_limits["testproto"] = RouteLimits(concurrency=2)
    env.api.job_seconds = 0.3
    results = env.run([env.plan(variants=6)])
    assert all(r.ok for r in results)
    assert env.api.max_active <= 2
    assert sum(env.api.creates.values()) == 6


def test_route_limits_override_catalog(env):
    route = env.engine.catalog.get("test-model").routes[0]
    assert limits_for(route, Settings()).concurrency == 20
    s = Settings(route_limits={"testproto": {"concurrency": 3, "rpm": 10}, "testproto:tm-1": {"rpm": 5}})
    assert (limits_for(route, s).concurrency, limits_for(route, s).rpm) == (3, 5)  # the specific key wins


def test_token_bucket_never_exceeds_rpm_in_any_minute():
    now = [0.0]
    granted: list[float] = []

    async def fake_sleep(seconds):
        now[0] += seconds

    async def main():
        bucket = TokenBucket(6, clock=lambda: now[0], sleep=fake_sleep)
        for _ in range(20):
            await bucket.acquire()
            granted.append(now[0])

    asyncio.run(main())
    for t in granted:  # every 60 s window holds at most 6 grants
        assert sum(1 for u in granted if t <= u < t + 60) <= 6
    assert granted[-1] > 60  # and the 20 grants really were spread out


def test_retry_honours_retry_after(env):
    env.api.rate_limit_creates, env.api.retry_after = 2, 30
    env.api.fail_creates = 1
    results = env.run([env.plan()])
    assert results[0].ok
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 4
    assert sum(env.api.creates.values()) == 1
    assert sum(1 for w in env.waits if w >= 30) == 2  # each 429 waited at least Retry-After


@pytest.mark.parametrize("refusal, kind", [("billing", "billing"), ("moderation", "moderation")])
def test_billing_and_moderation_are_never_retried(env, refusal, kind):
    env.api.refuse = refusal
    results = env.run([env.plan()])
    assert results[0].state is JobState.FAILED and results[0].error_kind == kind
    assert not results[0].resumable
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1


def test_lost_create_is_reconciled_not_resent(env):
    env.api.drop_creates = 1
    results = env.run([env.plan()])
    assert results[0].ok
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1  # never resent
    assert len(env.api.server.calls_to("GET", r"/v1/jobs")) == 1  # looked up instead
    assert env.api.creates[results[0].job_id] == 1
    assert env.journal.get(results[0].job_id).provider_job_id == "j1"


def test_lost_create_without_lookup_is_left_for_the_editor(env):
    env.api.drop_creates = 1
    results = env.run([env.plan(model="test-blind")])
    r = results[0]
    assert r.state is JobState.UNKNOWN and r.resumable
    assert f"--resend {r.job_id}" in r.error and f"--abandon {r.job_id}" in r.error
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1
    # resume does not resend it either
    again = env.new_engine() and env.resume()
    assert again[0].state is JobState.UNKNOWN
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1
    # the editor decides: resend
    done = env.resume(resend=[r.job_id])
    assert done[0].ok and env.api.creates[r.job_id] == 2


def test_abandon_ends_an_unknown_job(env):
    env.api.drop_creates = 1
    r = env.run([env.plan(model="test-blind")])[0]
    env.resume(abandon=[r.job_id])
    assert env.journal.get(r.job_id).state is JobState.CANCELED
    assert env.resume() == []


def test_truncated_download_resumes_with_range_and_never_recreates(env):
    env.api.truncate_downloads = 1
    results = env.run([env.plan()])
    assert results[0].ok and results[0].info.frames == 24
    gets = env.api.server.calls_to("GET", r"/media/.*")
    assert len(gets) == 2
    assert "range" not in gets[0].headers
    assert gets[1].headers["range"] == f"bytes={len(env.api.media) // 2}-"
    assert sum(env.api.creates.values()) == 1
    assert results[0].path.read_bytes() == env.api.media


def test_failed_download_stays_collectable_and_resume_fetches_it(env):
    env.api.fail_downloads = 99
    r = env.run([env.plan()])[0]
    assert r.state is JobState.SUCCEEDED and r.resumable and r.error_kind == "download"
    assert len(env.api.server.calls_to("GET", r"/media/.*")) == env.engine.attempts
    assert sum(env.api.creates.values()) == 1
    env.api.fail_downloads = 0
    again = env.new_engine() and env.resume()
    assert again[0].ok and sum(env.api.creates.values()) == 1
    assert env.journal.spent_on() == pytest.approx(0.4)  # charged once


def test_success_without_media_fails_clearly(env):
    env.api.no_media = True
    r = env.run([env.plan()])[0]
    assert r.state is JobState.FAILED and "no media" in r.error


def test_poll_cap_leaves_job_resumable(env):
    env.settings.poll_cap_seconds = 1
    env.api.job_seconds = 60
    r = env.run([env.plan()])[0]
    assert r.state in (JobState.QUEUED, JobState.RUNNING) and r.resumable and r.error_kind == "timeout"
    env.api.job_seconds = 0
    again = env.new_engine() and env.resume()
    assert again[0].ok and sum(env.api.creates.values()) == 1


def test_retired_route_falls_back_to_next_route_of_same_model(env):
    env.api.retired_models = {"tm-old"}
    results = env.run([env.plan(model="test-fallback", variants=2)])
    assert all(r.ok and r.model == "test-fallback" for r in results)
    made = {j["model"] for j in env.api.jobs.values()}
    assert made == {"tm-2"}
    assert {env.journal.get(r.job_id).route_key for r in results} == {"testproto:tm-2"}


def test_cache_hit_makes_no_provider_call(env):
    first = env.run([env.plan(seed=1)])[0]
    calls = len(env.api.server.calls)
    second = env.run([env.plan(seed=1)])[0]
    assert second.cached and second.path == first.path and second.cost == 0
    assert len(env.api.server.calls) == calls
    assert any(e.kind is EventKind.CACHED for e in env.events)
    fresh = env.run([env.plan(seed=1)], no_cache=True)[0]
    assert not fresh.cached and fresh.path != first.path
    first.path.unlink()  # a hit whose file is gone is a miss
    assert not env.run([env.plan(seed=2)])[0].cached


def test_budget_refused_before_any_submit(env):
    with pytest.raises(BudgetExceeded, match=r"\$1\.60"):
        env.run([env.plan(variants=4)], budget=1.0)
    assert env.api.server.calls == [] and env.journal.jobs() == []


def test_daily_cap_refused_before_any_submit(env):
    env.run([env.plan()])
    env.settings.daily_cap_usd = 1.0
    calls = len(env.api.server.calls)
    with pytest.raises(BudgetExceeded, match="daily cap"):
        env.run([env.plan(seed=5, variants=2)])  # 0.40 spent + 0.80 > 1.00
    assert len(env.api.server.calls) == calls


def test_credentials_dropped_when_redirect_leaves_provider_host(env):
    with media_host(env.api.media) as cdn:
        env.api.redirect_media_to = cdn.url
        r = env.run([env.plan()])[0]
        assert r.ok
        first = env.api.server.calls_to("GET", r"/media/.*")[0]
        assert first.headers["authorization"].startswith("Bearer ")
        assert all("authorization" not in c.headers for c in cdn.calls)


def test_synchronous_answer_is_moved_into_place_without_download(env):
    r = env.run([env.plan(model="test-sync")])[0]
    assert r.ok and r.info.frames == 24 and r.cost == pytest.approx(0.2)
    assert env.api.server.calls_to("GET", r"/v1/jobs/.*") == []  # nothing to poll
    assert sum(env.api.downloads.values()) == 1  # the create's own answer
    assert not list(r.path.parent.glob(".*"))


def test_local_route_renders_in_place_at_no_cost(env, clip, monkeypatch):
    monkeypatch.setattr(ClipLocal, "clip", clip)
    r = env.run([env.plan(model="test-local", variants=2)])
    assert all(x.ok and x.cost == 0 and x.path.name == f"{x.job_id}.mp4" for x in r)
    assert env.api.server.calls == []
    assert any(e.kind is EventKind.RUNNING and e.progress == 0.5 for e in env.events)


def test_expired_media_url_is_refreshed_by_polling_not_regenerating(env):
    env.api.expire_downloads = 1
    r = env.run([env.plan()])[0]
    assert r.ok
    assert len(env.api.server.calls_to("GET", r"/media/.*")) == 2
    assert len(env.api.server.calls_to("GET", r"/v1/jobs/j1")) >= 2  # once to finish, once for a fresh URL
    assert sum(env.api.creates.values()) == 1
