"""The faults every Bearer-key job API shows (xAI, MiniMax, Luma, ModelArk, DashScope), one table over the
routes: each create fault and failed job classified, a wrong key, an unknown model, transport errors on a poll,
a lost create, an unknown status, an expired download URL; and through the engine, a moderated take and another
route's take refused before any create. What only one vendor does stays in its own test file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest

from promptreel.core.providers.ark import Ark
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.dashscope import DashScope
from promptreel.core.providers.luma import Luma
from promptreel.core.providers.minimax import MiniMax
from promptreel.core.providers.xai import XAI
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeArk, FakeDashScope, FakeLuma, FakeMiniMax, FakeXAI, Reply
from promptreel.core.sandbox.drive import download, poll_to_end, protocol

RATE, RETRY, BILLING, MODERATION, PROVIDER = (
    ErrorKind.RATE_LIMITED,
    ErrorKind.RETRYABLE,
    ErrorKind.BILLING,
    ErrorKind.MODERATION,
    ErrorKind.PROVIDER,
)


@dataclass(frozen=True)
class Route:
    name: str
    fake: type
    protocol: type
    model_id: str
    key_name: str
    key: str
    wrong_key: str
    wrong_key_status: int  # xAI answers a wrong key 400, the others 401: all are AUTH
    request: dict
    unknown_model: str
    status_path: str  # the status read's path, {id} for the job
    unknown_status: dict  # an answer with a state the API may add later ("{id}", at any depth: the job's)
    raw_state: str  # that state
    create_faults: tuple  # (fault, kind, retry_after)
    outcomes: tuple  # (outcome, kind)
    poll_faults: tuple
    expired_url_refreshes: bool = field(default=True)  # a new status read gives a fresh download URL


BASE = (("429", RATE, 2.0), ("429-bare", RATE, None))
ROUTES = [
    Route(
        "xai",
        FakeXAI,
        XAI,
        "grok-imagine-video",
        "XAI_API_KEY",
        "xai-secret-key-abcdef123456",
        "xai-wrong-key-zyxwvu987654",
        400,
        {"model": "grok-imagine-video", "seconds": 6, "size": "1280x720"},
        "grok-imagine-video-beta",
        "/v1/videos/{id}",
        {"status": "warming"},
        "warming",
        BASE + (("500", RETRY, None), ("503", RETRY, None), ("credits", BILLING, None)),
        (("moderation", MODERATION), ("failed", PROVIDER), ("expired", PROVIDER), ("empty", PROVIDER)),
        ("drop", "slow", "503"),
        expired_url_refreshes=False,
    ),
    Route(
        "minimax",
        FakeMiniMax,
        MiniMax,
        "MiniMax-H3",
        "MINIMAX_API_KEY",
        "mm-secret-key-abcdef123456",
        "mm-wrong-key-zyxwvu987654",
        401,
        {"model": "minimax-h3", "seconds": 6, "size": "1366x768"},
        "MiniMax-H2",
        "/v2/query/video_generation/{id}",
        {"task": {"status": "preparing"}},
        "preparing",
        BASE
        + (("500", RETRY, None), ("503", RETRY, None), ("balance", BILLING, None), ("sensitive", MODERATION, None)),
        (("sensitive", MODERATION), ("failed", PROVIDER), ("expired", PROVIDER), ("empty", PROVIDER)),
        ("drop", "slow", "502"),
    ),
    Route(
        "luma",
        FakeLuma,
        Luma,
        "ray-3.2",
        "LUMA_AGENTS_API_KEY",
        "luma-secret-key-abcdef123456",
        "luma-wrong-key-zyxwvu987654",
        401,
        {"model": "ray-3.2", "seconds": 5, "size": "1280x720"},
        "ray-2",
        "/v1/generations/{id}",
        {"id": "{id}", "state": "dreaming"},
        "dreaming",
        BASE + (("500", RETRY, None), ("502", RETRY, None), ("budget", BILLING, None)),
        (("moderated", MODERATION), ("failed", RETRY), ("budget", BILLING), ("empty", PROVIDER)),
        ("drop", "slow", "503"),
    ),
    Route(
        "ark",
        FakeArk,
        Ark,
        "dreamina-seedance-2-0-260128",
        "ARK_API_KEY",
        "ark-secret-key-abcdef123456",
        "ark-wrong-key-zyxwvu987654",
        401,
        {"model": "seedance-2", "seconds": 6, "size": "1280x720"},
        "dreamina-seedance-1-9-250101",
        "/api/v3/contents/generations/tasks/{id}",
        {"id": "{id}", "status": "preparing"},
        "preparing",
        BASE
        + (
            ("500", RETRY, None),
            ("503", RETRY, None),
            ("overdue", BILLING, None),
            ("sensitive", MODERATION, None),
            ("not-open", ErrorKind.AUTH, None),
        ),
        (("sensitive", MODERATION), ("failed", PROVIDER), ("expired", PROVIDER), ("empty", PROVIDER)),
        ("drop", "slow", "502"),
    ),
    Route(
        "dashscope",
        FakeDashScope,
        DashScope,
        "wan2.7-t2v",
        "DASHSCOPE_API_KEY",
        "sk-dashscope-secret-abcdef123456",
        "sk-dashscope-wrong-zyxwvu987654",
        401,
        {"model": "wan-2.7", "seconds": 6, "size": "1920x1080"},
        "wan2.1-t2v-plus",
        "/api/v1/tasks/{id}",
        {"request_id": "r", "output": {"task_id": "{id}", "task_status": "PREPARING"}},
        "PREPARING",
        BASE
        + (("500", RETRY, None), ("503", RETRY, None), ("arrearage", BILLING, None), ("inspection", MODERATION, None)),
        (("inspection", MODERATION), ("failed", PROVIDER), ("unknown", PROVIDER), ("empty", PROVIDER)),
        ("drop", "slow", "502"),
    ),
]
BY_NAME = {r.name: r for r in ROUTES}


@pytest.fixture(scope="module")
def servers():
    fakes = {r.name: r.fake(key=r.key) for r in ROUTES}
    for f in fakes.values():
        f.__enter__()
    yield fakes
    for f in fakes.values():
        f.__exit__(None, None, None)


def on(route: Route, servers, client, model_id: str | None = None, key: str | None = None):
    fake = servers[route.name]
    return fake, protocol(
        route.protocol, model_id or route.model_id, client, {route.key_name: key or route.key}, fake.url
    )


def req(route: Route) -> GenerationRequest:
    return GenerationRequest(prompt="a lighthouse at dusk", **route.request)


def cases(attr: str):
    return [pytest.param(r, *row, id=f"{r.name}-{row[0]}") for r in ROUTES for row in getattr(r, attr)]


def with_id(answer: dict, job_id: str) -> dict:
    return {k: job_id if v == "{id}" else with_id(v, job_id) if isinstance(v, dict) else v for k, v in answer.items()}


@pytest.fixture(autouse=True)
def fresh(servers):
    for f in servers.values():
        f.reset()


@pytest.mark.parametrize("route, fault, kind, retry_after", cases("create_faults"))
async def test_create_errors_classified(servers, client, tmp_path, route, fault, kind, retry_after):
    fake, proto = on(route, servers, client)
    fake.fault("create", fault)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    assert (e.value.kind, e.value.retry_after) == (kind, retry_after)
    assert e.value.retryable == (kind in (RATE, RETRY))
    assert fake.creates == 0


@pytest.mark.parametrize("route, outcome, kind", cases("outcomes"))
async def test_job_failures(servers, client, tmp_path, route, outcome, kind):
    fake, proto = on(route, servers, client)
    fake.fault("outcome", outcome)
    sub = await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert (status.state, status.error.kind) == (JobState.FAILED, kind)
    assert status.error.retryable == (kind in (RATE, RETRY))


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_unknown_status_tolerated(servers, client, tmp_path, route):
    fake, proto = on(route, servers, client)
    sub = await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    answer = with_id(route.unknown_status, sub.job_id)
    fake.fail_next("GET", route.status_path.format(id=sub.job_id), Reply(200, answer))
    status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.RUNNING, route.raw_state)


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_wrong_key_is_auth_and_never_echoed(servers, client, tmp_path, route):
    fake, proto = on(route, servers, client, key=route.wrong_key)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.AUTH and e.value.status == route.wrong_key_status
    assert route.wrong_key not in str(e.value) and fake.creates == 0


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_unknown_model_is_retired(servers, client, tmp_path, route):
    _, proto = on(route, servers, client, model_id=route.unknown_model)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    assert e.value.kind is ErrorKind.RETIRED


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_poll_transport_errors_are_retryable(servers, tmp_path, route):
    async with httpx.AsyncClient(timeout=0.5) as short:
        fake, proto = on(route, servers, short)
        sub = await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
        for fault in route.poll_faults:
            fake.fault("poll", fault)
            with pytest.raises(ProviderError) as e:
                await proto.poll(sub.job_id)
            assert e.value.kind is ErrorKind.RETRYABLE, fault


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_lost_create_answer_propagates_and_cannot_be_looked_up(servers, client, tmp_path, route):
    fake, proto = on(route, servers, client)
    fake.fault("create", "drop")
    with pytest.raises(httpx.TransportError):
        await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    assert await proto.find_created(proto.build(req(route), "j"), "j", datetime.now()) is None


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.expired_url_refreshes], ids=[r.name for r in ROUTES if r.expired_url_refreshes]
)
async def test_expired_url_then_a_fresh_one_from_a_new_read(servers, client, tmp_path, route):
    fake, proto = on(route, servers, client)
    sub = await proto.submit(proto.build(req(route), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    fake.fault("media", "expired")
    with pytest.raises(httpx.HTTPStatusError):
        await download(client, proto, status.media[0], tmp_path / "o.mp4", attempts=1)
    again = await proto.poll(sub.job_id)
    assert await download(client, proto, again.media[0], tmp_path / "o.mp4", attempts=1) == 1


# --- through the real engine and journal -------------------------------------------------------------


@dataclass(frozen=True)
class EngineRow:
    route: str
    request: dict
    moderated: str  # the fake's outcome that is a moderation refusal
    refusal: tuple[str, str] | None  # (request field, message) for another route's take; None: the planner refuses


ENGINE = [
    EngineRow(
        "xai",
        {"model": "grok-imagine-video", "seconds": 6, "size": "1280x720"},
        "moderation",
        ("remix_of", "xAI can remix only videos it made"),
    ),
    EngineRow("minimax", {"model": "minimax-h3", "seconds": 6, "size": "1366x768"}, "sensitive", None),
    EngineRow(
        "luma",
        {"model": "ray-3.2", "seconds": 5, "size": "1280x720"},
        "moderated",
        ("extend_video", "Luma can extend only videos it made"),
    ),
]


@pytest.fixture(scope="module")
def engine_fakes():
    from promptreel.core.sandbox import SMALL, sandbox

    with sandbox(routes=[r.route for r in ENGINE], limit=SMALL) as env:
        yield env


@pytest.mark.parametrize("row", ENGINE, ids=[r.route for r in ENGINE])
def test_a_moderated_take_fails_without_a_retry(engine_fakes, isolated_home, monkeypatch, row):
    from tests.sandbox_engine import point_at, run

    point_at(engine_fakes, monkeypatch, isolated_home)
    fake = engine_fakes.fakes[row.route]
    fake.fault("outcome", row.moderated)
    (result,), _ = run(isolated_home, GenerationRequest(prompt="a fox in snow", **row.request))
    assert result.error_kind == "moderation" and fake.creates == 1


@pytest.mark.parametrize("row", [r for r in ENGINE if r.refusal], ids=[r.route for r in ENGINE if r.refusal])
def test_a_take_from_another_route_is_refused_before_any_create(engine_fakes, isolated_home, monkeypatch, row):
    from tests.sandbox_engine import point_at, run

    point_at(engine_fakes, monkeypatch, isolated_home)
    (draft,), _ = run(
        isolated_home, GenerationRequest(prompt="a fox", model="draft", seconds=2, size="1280x720", fps=24)
    )
    assert draft.ok, draft.error
    field_name, message = row.refusal
    (refused,), _ = run(
        isolated_home, GenerationRequest(prompt="a fox in snow", **row.request, **{field_name: draft.job_id})
    )
    assert refused.error_kind == "bad_request" and message in refused.error
    assert engine_fakes.fakes[row.route].creates == 0
