"""`promptreel refine TAKE "..."`: Gemini Omni continues the take's interaction (remix by its job id), a
model without remix re-runs the take's prompt with the change and its seed; each refinement is a new take
with its parent recorded; `takes --chain` lists the chain; promote, choose and revert work on any of it."""

import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact, write_cut

from promptreel.core.catalog import default_catalog
from promptreel.core.cli import main
from promptreel.core.conform.probe import probe
from promptreel.core.journal import Journal
from promptreel.core.prompts.compose import PromptSpec
from promptreel.core.refine import refine_plan
from promptreel.core.request import Slot
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.takes import Take, list_takes
from tests.sandbox_engine import point_at

pytestmark = pytest.mark.usefixtures("no_poll_waits")  # conftest: the CLI's engine without poll waits


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["gemini", "minimax"], limit=SMALL) as env:
        yield env


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def take_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_an_omni_chain_of_three_continues_each_interaction_and_the_second_is_promoted(
    fakes, monkeypatch, isolated_home, tmp_path, capsys
):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["gemini"]
    (first,) = take_json(
        capsys,
        "generate",
        "a fox in snow",
        "--model",
        "gemini-omni-1.2-flash",
        "--seconds",
        "6",
        "--size",
        "1280x720",
        "--shot",
        "SH010",
    )
    second = take_json(capsys, "refine", first["take_id"], "make it dusk")
    third = take_json(capsys, "refine", second["id"], "keep the camera move")
    assert (second["parent"], third["parent"]) == (first["take_id"], second["id"])
    assert (second["kind"], second["refinement"], second["seed"]) == ("refine", "make it dusk", None)

    creates = [c.json() for c in fake.calls_to("POST", r"/v1beta/interactions")]
    journal = Journal.open_default()
    provider = [journal.get(j).provider_job_id for j in (first["job_id"], second["job_id"])]
    assert [c.get("previous_interaction_id") for c in creates] == [None, *provider]
    assert [c["generation_config"]["video_config"]["task"] for c in creates] == ["text_to_video", "edit", "edit"]
    said = [[p["text"] for p in c["input"] if p["type"] == "text"] for c in creates]
    assert said == [["a fox in snow"], ["make it dusk"], ["keep the camera move"]]  # the change alone
    # What the take is of: the words so far, for a later promotion to a model that starts afresh.
    assert third["prompt"] == "a fox in snow. Change: make it dusk. Change: keep the camera move."
    for t in (second, third):  # conformed to the take's slot: frame-exact
        info = probe(t["path"])
        assert (info.frames, info.rate) == (t["frames"], Fraction(24))

    code, out, _ = run(capsys, "takes", "--chain", third["id"])
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    assert lines[0].startswith(f"  {first['take_id']}  SH010  variants")
    assert lines[2].startswith(f"    {second['id']}  SH010  refine of {first['take_id']} 'make it dusk'")
    assert lines[4].startswith(f"      {third['id']}  SH010  refine of {second['id']} 'keep the camera move'")
    assert [t["id"] for t in take_json(capsys, "takes", "--chain", first["take_id"])] == [
        first["take_id"],
        second["id"],
        third["id"],
    ]

    code, out, err = run(
        capsys, "promote", second["id"], "--model", "gemini-omni-1.2-flash", "--json", "--media-dir", tmp_path / "final"
    )
    assert code == 0, err
    promoted = json.loads(out)
    assert promoted["source"] == second["id"]
    assert [p["text"] for p in fake.calls_to("POST", r"/v1beta/interactions")[-1].json()["input"]] == [
        "a fox in snow. Change: make it dusk."
    ]
    chained = take_json(capsys, "takes", "--chain", third["id"])  # promotions of the chain are in it too
    assert [(t["id"], t["source"]) for t in chained][-1] == (promoted["take"]["id"], second["id"])
    takes = list_takes(journal, shot="SH010")
    assert [(t.kind, t.chosen) for t in takes] == [
        ("variants", False),
        ("refine", False),
        ("refine", False),
        ("promote", True),
    ]
    assert run(capsys, "takes", "--choose", second["id"])[0] == 0  # any take of the chain can be the keeper
    assert [t.chosen for t in list_takes(journal, shot="SH010")] == [False, True, False, False]


def test_a_model_without_remix_reruns_the_prompt_with_the_change_and_the_seed(
    fakes, monkeypatch, isolated_home, capsys
):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["minimax"]
    (first,) = take_json(
        capsys, "generate", "a kite over dunes", "--model", "minimax-h3", "--seconds", "6", "--seed", "41"
    )
    second = take_json(capsys, "refine", first["take_id"], "make it dusk")
    assert (second["parent"], second["seed"], second["model"]) == (first["take_id"], 41, "minimax-h3")
    sent = [c.json() for c in fake.calls_to("POST", r"/v2/video_generation")]
    assert [(next(c["text"] for c in s["content"] if c["type"] == "text"), s.get("seed")) for s in sent] == [
        ("a kite over dunes", 41),
        ("a kite over dunes. Change: make it dusk.", 41),
    ]


def test_a_structured_prompt_keeps_its_fields_and_gets_the_change():
    spec = PromptSpec(fields={"subject": "a fisherman", "action": "hauls a net"})
    slot = Slot(frames=24, rate=24, size="1280x720", prompt="a fisherman hauls a net", spec=spec, model="draft", seed=3)
    take = Take(
        id="take_a",
        group="g",
        shot="SH1",
        kind="fill",
        position=0,
        model="draft",
        seed=3,
        variant=0,
        job_id=None,
        path=None,
        slot=slot,
        provenance={},
        error=None,
        chosen=False,
        source=None,
        created_at="",
    )
    take = Take(**{**take.__dict__, "path": __file__})
    new_slot, plan = refine_plan(take, "make it dusk", default_catalog())
    assert new_slot.spec.fields == spec.fields and new_slot.spec.changes == ["make it dusk"]
    assert plan.request.prompt.endswith("Change: make it dusk.") and plan.request.seed == 3
    again = Take(**{**take.__dict__, "slot": new_slot})
    assert refine_plan(again, "closer", default_catalog())[0].spec.changes == ["make it dusk", "closer"]


def test_refusals_change_nothing(capsys):
    code, _, err = run(capsys, "refine", "take_nope", "make it dusk")
    assert code == 2 and err.count("\n") == 1 and "There is no take take_nope" in err
    (first,) = take_json(capsys, "generate", "a kite", "--model", "draft", "--seconds", "1", "--size", "320x180")
    code, _, err = run(capsys, "refine", first["take_id"], "   ")
    assert code == 2 and "The refinement is empty" in err
    assert len(list_takes(Journal.open_default())) == 1


def test_a_refined_draft_is_promoted_in_place_of_the_chains_clip_and_reverted(tmp_path, capsys):
    rate = 24
    sh010 = otio.schema.Clip(
        name="SH010",
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(20, rate)),
    )
    sh010.metadata["promptreel"] = {"prompt": "a lighthouse keeper lights the lamp", "seed": 5}
    cut = write_cut(tmp_path / "cut.otio", [sh010], rate)
    assert run(capsys, "fill", cut, "-o", tmp_path / "draft.otio", "--model", "draft", "--codec", "h264")[0] == 0
    (filled,) = take_json(capsys, "takes", "SH010")
    refined = take_json(capsys, "refine", filled["id"], "at dusk")
    assert (refined["frames"], refined["seed"]) == (20, 5)

    code, out, err = run(
        capsys,
        "promote",
        refined["id"],
        "--model",
        "draft",
        "--timeline",
        tmp_path / "draft.otio",
        "-o",
        tmp_path / "final.otio",
        "--codec",
        "h264",
        "--json",
    )
    assert code == 0, err
    final = json.loads(out)["take"]
    clip = otio.adapters.read_from_file(str(tmp_path / "final.otio")).tracks[0][0]
    assert clip.metadata["promptreel"]["take_id"] == final["id"] and final["prompt"].endswith("Change: at dusk.")
    assert_frame_exact(clip, 20, Fraction(rate))
    code, _, err = run(capsys, "revert", tmp_path / "final.otio", "-o", tmp_path / "back.otio", "--take", final["id"])
    assert code == 0, err
    assert as_json(otio.adapters.read_from_file(str(tmp_path / "back.otio"))) == as_json(
        otio.adapters.read_from_file(str(tmp_path / "draft.otio"))
    )
