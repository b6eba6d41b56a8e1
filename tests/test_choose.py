"""Choosing among many models for one slot (core/choose.py): the ranking is pure, so it is tested over
made-up models with known answers and over the shipped catalog; then `promptreel models --frames` and
`--for` through the real command, at 80 columns, with and without a journal that changes the order."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from fractions import Fraction

import opentimelineio as otio
import pytest
from hypothesis import given, settings, strategies as st

from promptreel.core.catalog import Model, load_catalog
from promptreel.core.choose import (
    FIT_PENALTY,
    NEEDS,
    PRIOR_SUCCESS,
    expected_success,
    parse_needs,
    rank,
    ranking_json,
    sketch_slot,
)
from promptreel.core.cli import main
from promptreel.core.conform.plan import plan_for_take
from promptreel.core.conform.target import Target
from promptreel.core.errors import BadInput
from promptreel.core.journal import Journal
from promptreel.core.providers.base import JobState
from promptreel.core.request import GenerationRequest
from promptreel.core.stats import ModelStats

SLOT = sketch_slot(96, 24, "1920x1080")  # 4 s at 24 fps, HD


def model(
    mid: str, per_second: float | None = 0.1, *, fps=(24,), sizes=("1920x1080",), durations=(4, 8), **more
) -> Model:
    spec = dict(
        name=mid.upper(),
        vendor="test",
        durations=list(durations),
        fps=list(fps),
        sizes={"any": list(sizes)},
        price={} if per_second is None else {"1080p": per_second, "720p": per_second, "2160p": per_second},
        routes=[{"protocol": "fake", "model_id": mid}],
    )
    spec.update(more)
    return Model(id=mid, **spec)


def record(mid: str, delivered: int, failed: int, median_s: float | None = None) -> ModelStats:
    n = delivered + failed
    return ModelStats(
        model=mid,
        route="*",
        jobs=n,
        delivered=delivered,
        failed=failed,
        success_rate=delivered / n if n else None,
        moderation=0,
        timeout=0,
        rate_limit=0,
        provider_error=failed,
        billing=0,
        other=0,
        median_s=median_s,
        p90_s=median_s,
        seconds=4.0 * delivered,
        usd=0.0,
        usd_per_second=None,
    )


def ids(ranking) -> list[str]:
    return [c.model.id for c in ranking.choices]


# --- price: the shortest generation that covers the slot, as the engine prices it -----------------------------


def test_price_is_for_the_shortest_take_that_covers_the_slot():
    cheap_rate_long_take = model("a", 0.10, durations=(5, 10))  # 5 s x 0.10 = 0.50
    dearer_rate_exact_take = model("b", 0.12, durations=(4, 8))  # 4 s x 0.12 = 0.48
    r = rank(SLOT, [cheap_rate_long_take, dearer_rate_exact_take])
    assert ids(r) == ["b", "a"]
    assert [c.price for c in r.choices] == [pytest.approx(0.48), pytest.approx(0.50)]
    assert [c.planned.request.seconds for c in r.choices] == [4, 8 - 3]


def test_a_slot_a_frame_longer_takes_the_next_duration():
    r = rank(sketch_slot(97, 24, "1920x1080"), [model("a", 0.1)])
    assert r.choices[0].planned.request.seconds == 8 and r.choices[0].price == pytest.approx(0.8)


# --- fit: what conform would change ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, slot, strategy, changes",
    [
        (dict(), SLOT, "same", ()),
        (dict(fps=(25,)), SLOT, "speed", ("speed 25→24",)),
        (dict(fps=(30,)), SLOT, "nearest", ("resample 30→24",)),
        (dict(fps=(48,)), SLOT, "nearest", ("resample 48→24",)),  # an exact multiple drops every other frame
        (dict(sizes=("1280x720",)), SLOT, "same", ("up ×1.50",)),
        (dict(sizes=("3840x2160",)), SLOT, "same", ()),  # made bigger and scaled down: nothing lost
        (dict(), sketch_slot(96, 24, "2048x858"), "same", ("up ×1.07", "crop")),  # scope from HD: fill crops
        (dict(fps=(24,)), sketch_slot(96, Fraction(24000, 1001), "1920x1080"), "speed", ("speed 24→23.976",)),
    ],
)
def test_fit_names_each_conform_change(spec, slot, strategy, changes):
    c = rank(slot, [model("m", **spec)]).choices[0]
    assert (c.fit.strategy, c.fit.changes, c.fit.native) == (strategy, changes, not changes)
    assert c.fit.cropped == ("crop" in changes)


def test_a_take_too_short_for_a_speed_change_is_resampled_not_refused():
    # 100 frames at 25 need 4 s; 4 s at 24 is 96 frames, short of 100 at a one-for-one speed change.
    c = rank(sketch_slot(100, 25, "1920x1080"), [model("m", durations=(4,))]).choices[0]
    assert c.fit.changes == ("resample 24→25",)


def test_any_duration_any_fps_model_fits_natively():
    m = model("free-form", any_duration=True, any_fps=True, any_size=True)
    c = rank(sketch_slot(101, Fraction(30000, 1001), "2048x858"), [m]).choices[0]
    assert c.fit.native and c.planned.request.frames == 101 and c.plan_words() == "101fr 2048x858@29.970"


@pytest.mark.parametrize("price_with_change, first", [(0.7, "changed"), (0.85, "native")])
def test_each_conform_change_weighs_a_quarter_of_the_price(price_with_change, first):
    native = model("native", 1.0 / 4)  # $1.00 for the slot
    changed = model("changed", price_with_change / 4, fps=(25,))  # one change: x 1.25
    r = rank(SLOT, [native, changed])
    assert ids(r)[0] == first
    assert r.choices[ids(r).index("changed")].score == pytest.approx(
        price_with_change * (1 + FIT_PENALTY) / PRIOR_SUCCESS
    )


def test_plan_for_take_is_what_conform_would_do():
    target = Target(frames=96, rate=24, size="1920x1080")
    same = plan_for_take(Fraction(24), 1920, 1080, 96, target)
    assert (same.strategy, same.scale, same.cropped, same.has_audio) == ("same", 1, False, True)  # silence added
    scope = plan_for_take(Fraction(25), 1280, 720, 125, Target(frames=96, rate=24, size="2048x858"), audio=True)
    assert scope.strategy == "speed" and scope.cropped and scope.scale == Fraction(1152, 720)
    assert not scope.silent_audio and scope.tempo == Fraction(24, 25)


# --- the editor's record ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stats, expect",
    [
        (None, PRIOR_SUCCESS),
        (record("m", 0, 0), PRIOR_SUCCESS),  # jobs still in flight: no evidence yet
        (record("m", 10, 0), (10 + 1.8) / 12),
        (record("m", 0, 1), 1.8 / 3),  # one unlucky job does not bury a model
        (record("m", 3, 7), 4.8 / 12),
    ],
)
def test_expected_success_is_pulled_towards_the_prior(stats, expect):
    assert expected_success(stats) == pytest.approx(expect)


def test_failures_in_the_record_change_the_order():
    cheap, dear = model("cheap", 0.10), model("dear", 0.15)
    assert ids(rank(SLOT, [cheap, dear])) == ["cheap", "dear"]
    flaky = {"cheap": record("cheap", 2, 6), "dear": record("dear", 8, 0)}
    r = rank(SLOT, [cheap, dear], flaky)
    assert ids(r) == ["dear", "cheap"]
    assert r.choices[1].stats.failed == 6 and r.choices[1].expected_success == pytest.approx(3.8 / 10)


def test_latency_breaks_a_tie_and_orders_by_latency():
    a, b, c = model("a"), model("b"), model("c")
    stats = {"a": record("a", 5, 0, median_s=90), "b": record("b", 5, 0, median_s=30)}
    assert ids(rank(SLOT, [a, b, c], stats)) == ["b", "a", "c"]  # equal scores: faster first, unknown last
    slow_cheap = model("slow", 0.05)
    assert ids(rank(SLOT, [a, b, slow_cheap], {**stats, "slow": record("slow", 5, 0, 600)}, by="latency")) == [
        "b",
        "a",
        "slow",
    ]


@pytest.mark.parametrize(
    "by, expect",
    [
        ("score", ["changed", "native", "flaky"]),
        ("price", ["flaky", "changed", "native"]),
        ("fit", ["native", "flaky", "changed"]),
        ("success", ["native", "changed", "flaky"]),
    ],
)
def test_each_order(by, expect):
    models = [model("native", 0.30), model("changed", 0.20, fps=(25,)), model("flaky", 0.10)]
    stats = {"flaky": record("flaky", 1, 9), "native": record("native", 9, 0), "changed": record("changed", 3, 0)}
    assert ids(rank(SLOT, models, stats, by=by)) == expect


def test_unknown_price_ranks_last_and_says_so():
    r = rank(SLOT, [model("unpriced", None), model("dear", 5.0)])
    assert ids(r) == ["dear", "unpriced"]
    assert r.choices[1].price is None and r.choices[1].score is None


def test_unknown_order_is_refused():
    with pytest.raises(BadInput, match="Choose one of: score, price"):
        rank(SLOT, [model("a")], by="cheapest")


# --- what cannot fill the slot, and what is never offered ------------------------------------------------------


def test_models_that_cannot_serve_are_listed_apart_in_the_planners_words():
    short = model("short", durations=(2,))
    silent = model("silent")
    loud = model("loud", audio="native", inputs=["first_frame"])
    needs_image = model("i2v", inputs=["first_frame"], requires=["first_frame"])
    r = rank(SLOT, [short, silent, loud, needs_image], needs=("audio",))
    assert ids(r) == ["loud"]
    reasons = {x.model.id: x.problem for x in r.refused}
    assert "makes at most 2 s" in reasons["short"]
    assert reasons["silent"] == "SILENT makes no audio."
    assert reasons["i2v"] == "I2V needs a first frame input."  # the planner's first reason
    r = rank(SLOT, [silent, loud, needs_image])
    assert ids(r) == ["loud", "silent"] and r.refused[0].problem == "I2V needs a first frame input."
    r = rank(SLOT, [silent, loud, needs_image], needs="first_frame")
    assert ids(r) == ["i2v", "loud"] and r.refused[0].problem == "SILENT does not accept a first frame input."


@pytest.mark.parametrize(
    "need, field",
    [("reference_images", "reference_images"), ("extend", "extend"), ("remix", "remix"), ("last_frame", "last_frame")],
)
def test_each_input_need_is_checked_by_the_planner(need, field):
    takes = model("takes", inputs=["first_frame", field], max_reference_images=1)
    lacks = model("lacks", inputs=["first_frame"])
    r = rank(SLOT, [takes, lacks], needs=need)
    assert ids(r) == ["takes"]
    assert r.refused[0].problem == f"LACKS does not accept a {field.replace('_', ' ')} input."


def test_retired_models_are_hidden_deprecated_ones_ranked_with_a_warning_draft_left_out():
    retired = model("old", lifecycle={"status": "retired", "shutdown_on": "2026-01-01"})
    gone_routes = model("orphan", routes=[{"protocol": "fake", "model_id": "x", "status": "retired"}])
    deprecated = model("aging", lifecycle={"status": "deprecated", "note": "Use new."})
    draft = load_catalog().get("draft")
    r = rank(SLOT, [retired, gone_routes, deprecated, draft, model("new")])
    assert ids(r) == ["aging", "new"] and r.refused == []
    assert any("deprecated" in w for w in r.choices[0].warnings)


@pytest.mark.parametrize(
    "text, expect",
    [
        ("first_frame,audio", ("first_frame", "audio")),
        ("audio, first-frame", ("first_frame", "audio")),
        ("last_frame", ("first_frame", "last_frame")),  # a last frame comes with a first
        ("", ()),
        (None, ()),
        (["remix"], ("remix",)),
    ],
)
def test_parse_needs(text, expect):
    assert parse_needs(text) == expect


def test_unknown_need_names_the_known_ones():
    with pytest.raises(BadInput, match="Unknown need 'sound'. Choose from: " + ", ".join(NEEDS)):
        parse_needs("audio,sound")


@pytest.mark.parametrize(
    "frames, fps, size, word",
    [(0, 24, "1920x1080", "frames"), (10, "x", "1920x1080", "rate"), (10, 24, "1920", "size")],
)
def test_a_bad_slot_is_one_clear_refusal(frames, fps, size, word):
    with pytest.raises(BadInput, match=word):
        sketch_slot(frames, fps, size)


# --- over the shipped catalog ----------------------------------------------------------------------------------

CATALOG = load_catalog()
RATES = [Fraction(24), Fraction(25), Fraction(30), Fraction(24000, 1001), Fraction(30000, 1001), Fraction(50)]
SIZES = ["1920x1080", "3840x2160", "2048x858", "1080x1920", "1280x720", "1080x1080"]


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from(RATES),
    size=st.sampled_from(SIZES),
    frames=st.integers(1, 900),
    needs=st.lists(st.sampled_from(NEEDS), max_size=3, unique=True),
)
def test_every_live_model_is_ranked_or_refused_and_each_take_covers_the_slot(rate, size, frames, needs):
    slot = sketch_slot(frames, rate, size)
    r = rank(slot, CATALOG.models.values(), needs=needs)
    live = {m.id for m in CATALOG.models.values() if m.state() != "retired" and m.id != "draft"}
    assert sorted(ids(r) + [x.model.id for x in r.refused]) == sorted(live)
    for c in r.choices:
        assert c.planned.generated_seconds >= slot.seconds
        if c.fit.native:
            assert c.planned.request.fps in (None, rate)
    scores = [c.score for c in r.choices if c.score is not None]
    assert scores == sorted(scores)
    json.dumps(r.as_dict())  # the panel's form


# --- the command ----------------------------------------------------------------------------------------------


def _run(capsys, monkeypatch, *args) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["models", *args]) == 0
    return capsys.readouterr().out


def test_cli_table_fits_80_columns_and_cuts_no_model_id(capsys, monkeypatch):
    out = _run(capsys, monkeypatch, "--frames", "100", "--fps", "25", "--size", "2048x858", "--needs", "audio")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    expect = ranking_json(100, "25", "2048x858", "audio")
    assert expect["models"] and expect["refused"]
    # Every ranked id is a whole word on its own row, in rank order; every refused one starts its line.
    rows = [line.split()[1] for line in lines if line.split() and line.split()[0].isdigit()]
    assert rows == [m["model"] for m in expect["models"]]
    for m in expect["refused"]:
        assert any(line.startswith(f"  {m['model']}: ") for line in lines)
    assert "…" not in out


def test_cli_order_follows_the_journal(capsys, monkeypatch, isolated_home):
    def order():
        return [m["model"] for m in json.loads(_run(capsys, monkeypatch, "--frames", "96", "--json"))["models"]]

    before = order()
    assert before.index("kling-v2.6") < before.index("ltx-2.3-fast")  # $0.21 before $0.24
    journal = Journal(isolated_home / "journal.sqlite")
    now = datetime.now(timezone.utc).isoformat()
    for state in [JobState.DONE] + [JobState.FAILED] * 4:
        req = GenerationRequest(prompt="a kite", model="kling-v2.6", seconds=5)
        job = journal.add_job(
            batch_id="b",
            request=req.model_dump(mode="json"),
            cache_key="k",
            variant=0,
            model="kling-v2.6",
            route_key="kling:kling-v2-6",
            estimated_cost=0.21,
        )
        extra = {"media_at": now} if state == JobState.DONE else {"error_kind": "provider", "error_message": "why"}
        journal.update(job, state=state, created_at=now, sent_at=now, **extra)
    journal.close()
    after = order()
    assert after.index("ltx-2.3-fast") < after.index("kling-v2.6")
    table = _run(capsys, monkeypatch, "--frames", "96")
    row = next(line for line in table.splitlines() if " kling-v2.6 " in line)
    assert row.rstrip().endswith("1/5 0s")


def test_cli_for_a_placeholder_in_a_timeline(capsys, monkeypatch, tmp_path):
    rate = 25
    kite = otio.schema.Clip(
        name="Kite",
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(100, rate)
        ),
        metadata={"promptreel": {"prompt": "a red kite over dunes"}},
    )
    timeline = otio.schema.Timeline(name="cut", metadata={"promptreel": {"size": "2048x858"}})
    timeline.tracks.append(otio.schema.Track(name="V1"))
    timeline.tracks[0].append(kite)
    path = tmp_path / "cut:v2.otio"  # a colon in the file name still splits at the right one
    otio.adapters.write_to_file(timeline, str(path))
    got = json.loads(_run(capsys, monkeypatch, "--for", f"{path}:Kite", "--json"))
    assert got["slot"] == {"frames": 100, "fps": "25", "size": "2048x858", "seconds": 4.0}
    assert got["models"] == ranking_json(100, "25", "2048x858")["models"]
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["models", "--for", f"{path}:Balloon"]) == 2
    assert "has no placeholder named 'Balloon'. Its placeholders: 'Kite'." in capsys.readouterr().err


def test_cli_refuses_slot_flags_without_a_length(capsys):
    assert main(["models", "--size", "1920x1080"]) == 2
    assert "--frames N" in capsys.readouterr().err


def test_a_sketched_slot_names_inputs_the_planner_does_not_read(tmp_path):
    from promptreel.core.errors import BadInput as Unreadable
    from promptreel.core.plan import plan_slot

    m = model("i2v", inputs=["first_frame"])
    slot = SLOT.model_copy(update={"first_frame": tmp_path / "not yet.png"})
    assert plan_slot(slot, m, check_files=False).request.first_frame == tmp_path / "not yet.png"
    with pytest.raises(Unreadable, match="missing or unreadable"):
        plan_slot(slot, m)


def test_cli_says_what_is_deprecated(capsys, monkeypatch, tmp_path):
    catalog = tmp_path / "mine.toml"
    catalog.write_text(
        '[models."kling-v2.6".lifecycle]\nstatus = "deprecated"\nshutdown_on = 2099-01-01\n'
        'replacement = ["kling-v3"]\nnote = "Kling 3 replaces it."\n',
        "utf-8",
    )
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "settings.toml").write_text(f'catalog_file = "{catalog}"\n', "utf-8")
    out = _run(capsys, monkeypatch, "--frames", "96")
    assert "kling-v2.6: Kling 2.6 is deprecated and shuts down on 2099-01-01. Kling 3 replaces it." in " ".join(
        out.split()
    )
