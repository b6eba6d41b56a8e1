"""Takes in core: A/B and variants through the engine and the sandbox fakes, the takes table, promote."""

import json
from fractions import Fraction

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import BadInput, UnknownModel, UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.request import Slot
from promptreel.core.sandbox.run import sandbox
from promptreel.core.slots import FillSettings, fill_slots_sync
from promptreel.core.takes import base_seed, choose, get_take, list_takes, promote_slot, record_takes, take_slots

SLOT = Slot(
    frames=20, rate=Fraction(24000, 1001), size="320x180", prompt="a lighthouse keeper lights the lamp", name="SH010"
)


def quick_engine():
    """The real engine with waits between polls recorded, not slept (the fakes answer at once)."""
    from promptreel.core.catalog import default_catalog
    from promptreel.core.engine import Engine
    from promptreel.core.settings import load_settings

    async def no_wait(seconds):
        return None

    engine = Engine(default_catalog(), Journal.open_default(), load_settings())
    engine.sleep = no_wait
    return engine


def test_take_slots_one_per_model_and_variant_with_distinct_recorded_seeds():
    slots = take_slots(SLOT, ["gen-4.5", "kling-v3", "draft"], variants=2)
    assert [(s.model, s.variant) for s in slots] == [
        ("gen-4.5", 0),
        ("gen-4.5", 1),
        ("kling-v3", 0),
        ("kling-v3", 1),
        ("draft", 0),
        ("draft", 1),
    ]
    base = base_seed(SLOT)
    # Models that take a seed get the same pair of seeds (comparable takes); Kling takes none.
    assert [s.seed for s in slots] == [base, base + 1, None, None, base, base + 1]
    assert all((s.frames, s.rate, s.size, s.prompt) == (SLOT.frames, SLOT.rate, SLOT.size, SLOT.prompt) for s in slots)
    given = take_slots(SLOT.model_copy(update={"seed": 7}), ["draft"], variants=3)
    assert [s.seed for s in given] == [7, 8, 9]
    assert base_seed(SLOT) == base and base_seed(SLOT.model_copy(update={"prompt": "another"})) != base


@pytest.mark.parametrize(
    "models, variants, error",
    [
        ([], 1, BadInput),
        (["draft", "draft"], 1, BadInput),
        (["draft"], 0, BadInput),
        (["draft"], 9, BadInput),
        (["draft", "no-such-model"], 1, UnknownModel),
    ],
)
def test_take_slots_refuses_clearly(models, variants, error):
    with pytest.raises(error) as e:
        take_slots(SLOT, models, variants)
    assert e.value.fix  # says what to do


def test_draft_variants_are_separate_jobs_and_stay_apart_in_the_cache(tmp_path):
    settings = FillSettings(output_dir=tmp_path)
    slots = take_slots(SLOT, ["draft"], variants=2)
    first = fill_slots_sync(slots, settings)
    again = fill_slots_sync(slots, settings)
    assert all(c.ok for c in first + again)
    assert first[0].path != first[1].path and first[0].provenance.seed != first[1].provenance.seed
    assert [c.provenance.cached for c in again] == [True, True]
    assert [c.path for c in again] == [c.path for c in first]  # each variant its own cache entry


def test_ab_and_variants_through_the_sandbox_are_recorded_as_one_group(tmp_path):
    """gen-4.5 (Runway, takes a seed) and kling-v3 (no seed), two variants each, in one engine batch."""
    slots = take_slots(SLOT, ["gen-4.5", "kling-v3"], variants=2)
    with sandbox(routes=["runway", "kling"], export=True) as env:
        clips = fill_slots_sync(slots, FillSettings(output_dir=tmp_path), engine=quick_engine())
        runway, kling = env.fakes["runway"], env.fakes["kling"]
        creates = (runway.creates, kling.creates)
        again = fill_slots_sync(slots, FillSettings(output_dir=tmp_path), engine=quick_engine())
        assert (runway.creates, kling.creates) == creates  # asked again: the cache, never paid twice
    assert creates == (2, 2)  # four takes, four jobs: Kling's two identical requests did not collapse
    for clip in clips:
        assert clip.ok, clip.error
        info = probe(clip.path)
        assert (info.frames, info.rate, info.width, info.height) == (20, Fraction(24000, 1001), 320, 180)
    assert len({c.provenance.job_id for c in clips}) == 4 and len({c.path for c in clips}) == 4
    assert [c.provenance.cached for c in again] == [True] * 4
    assert [c.path for c in again] == [c.path for c in clips]  # each take its own cache entry

    journal = Journal.open_default()
    group = record_takes(journal, "SH010", clips, "ab")
    takes = list_takes(journal, shot="SH010")
    assert [t.group for t in takes] == [group] * 4 and [t.position for t in takes] == [0, 1, 2, 3]
    assert [(t.model, t.variant) for t in takes] == [("gen-4.5", 0), ("gen-4.5", 1), ("kling-v3", 0), ("kling-v3", 1)]
    seeds = [t.seed for t in takes]
    assert seeds[0] is not None and seeds[1] == seeds[0] + 1 and seeds[2:] == [None, None]
    sent = [j.request["seed"] for j in journal.jobs() if j.model == "gen-4.5" and j.cached_from is None]
    assert sorted(sent) == seeds[:2]  # the seeds recorded are the seeds sent
    assert [t.path for t in takes] == [c.path for c in clips] and not any(t.chosen for t in takes)
    assert list_takes(journal, group=group) == takes and list_takes(journal, shot="SH999") == []

    chosen = choose(journal, takes[2].id)
    assert chosen.chosen and [t.chosen for t in list_takes(journal, shot="SH010")] == [False, False, True, False]
    choose(journal, takes[0].id)  # one keeper per shot
    assert [t.chosen for t in list_takes(journal, shot="SH010")] == [True, False, False, False]


def test_failed_takes_are_recorded_with_their_reason_and_cannot_be_chosen(tmp_path):
    from promptreel.core.made import MadeClip, Provenance

    journal = Journal.open_default()
    good = fill_slots_sync([SLOT.model_copy(update={"model": "draft"})], FillSettings(output_dir=tmp_path))[0]
    bad = MadeClip.failed(
        SLOT.model_copy(update={"model": "kling-v3"}),
        "the provider ended the job (moderation)",
        Provenance(model="kling-v3", job_id="job_x"),
    )
    group = record_takes(journal, "SH010", [good, bad], "ab")
    failed = list_takes(journal, group=group)[1]
    assert (failed.ok, failed.error, failed.path) == (False, "the provider ended the job (moderation)", None)
    with pytest.raises(BadInput, match="has no clip"):
        choose(journal, failed.id)
    with pytest.raises(BadInput, match="no take"):
        get_take(journal, "take_missing")
    with pytest.raises(BadInput):
        record_takes(journal, "SH010", [], "ab")
    with pytest.raises(BadInput):
        record_takes(journal, "SH010", [good], "remix")  # type: ignore[arg-type]
    assert len(list_takes(journal)) == 2  # the refusals recorded nothing


def test_takes_say_who_recorded_them_and_where_and_filter_by_it(tmp_path, monkeypatch, capsys):
    import socket

    from promptreel.core.cli import main

    journal = Journal.open_default()
    clip = fill_slots_sync([SLOT.model_copy(update={"model": "draft"})], FillSettings(output_dir=tmp_path))[0]
    for user in ("alice", "bob"):  # two editors on one database
        monkeypatch.setenv("PROMPTREEL_USER", user)
        record_takes(journal, f"SH0{len(user)}0", [clip], "variants")
    # Two groups recorded in the same millisecond may list either way round: compare as a set.
    assert sorted((t.user, t.host) for t in list_takes(journal)) == [
        ("alice", socket.gethostname()),
        ("bob", socket.gethostname()),
    ]
    assert [t.shot for t in list_takes(journal, user="bob")] == ["SH030"]
    assert list_takes(journal, host="render-node-7") == []
    assert main(["takes", "--user", "alice", "--json"]) == 0
    assert [(t["shot"], t["user"]) for t in json.loads(capsys.readouterr().out)] == [("SH050", "alice")]
    assert main(["takes", "--user", "alice"]) == 0
    assert f"alice@{socket.gethostname()}" in capsys.readouterr().out


def _take(tmp_path, model="draft", seed=None):
    journal = Journal.open_default()
    slot = SLOT.model_copy(update={"model": model, "seed": seed, "negative_prompt": "text, watermark"})
    clip = fill_slots_sync([slot], FillSettings(output_dir=tmp_path))[0]
    return list_takes(journal, group=record_takes(journal, "SH010", [clip], "variants"))[0]


def test_promote_keeps_prompt_negative_seed_and_slot(tmp_path):
    take = _take(tmp_path, seed=41)
    final = promote_slot(take.slot, take, "gen-4.5")
    assert (final.model, final.seed, final.prompt, final.negative_prompt) == (
        "gen-4.5",
        41,
        SLOT.prompt,
        "text, watermark",
    )
    assert (final.frames, final.rate, final.size, final.variant) == (SLOT.frames, SLOT.rate, SLOT.size, 0)
    assert promote_slot(take.slot, take, "kling-v3").seed is None  # Kling takes no seed


def test_promote_refuses_a_model_that_cannot_cover_the_slot(tmp_path):
    take = _take(tmp_path)
    long_slot = take.slot.model_copy(update={"frames": 24 * 30})  # 30 s: longer than Gen-4.5 makes
    with pytest.raises(UnsupportedRequest, match="cannot be promoted to Runway Gen-4.5") as e:
        promote_slot(long_slot, take, "gen-4.5")
    assert "Shorten the slot" in str(e.value)
    with pytest.raises(UnknownModel):
        promote_slot(take.slot, take, "veo-9")
