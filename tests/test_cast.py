"""A project's cast (`promptreel cast`), and `@name` in prompts: the members' images reach a model that takes
references (the gemini sandbox fake's request), a model that takes none is warned about before spending,
an unknown name is refused before any spend, and the references are recorded on each take."""

import base64
import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import write_cut

from promptreel.core import cast
from promptreel.core.catalog import default_catalog
from promptreel.core.cli import main
from promptreel.core.plan import plan_slot
from promptreel.core.request import Slot
from promptreel.core.sandbox import SMALL, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import point_at

pytestmark = pytest.mark.usefixtures("no_poll_waits")  # conftest: the CLI's engine without poll waits


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["gemini", "kling"], limit=SMALL) as env:
        yield env


@pytest.fixture
def maria(tmp_path):
    face, side = still(tmp_path, 64, 64, "face"), still(tmp_path, 48, 64, "side")  # two sizes: two images
    assert main(["cast", "add", "maria", str(face), str(side), "--note", "red coat"]) == 0
    return face, side


def slot(prompt, model):
    return Slot(frames=48, rate=Fraction(24), size="1280x720", prompt=prompt, model=model, name="SH010")


def test_cast_add_list_remove_keeps_copies_in_the_data_folder(maria, isolated_home, capsys):
    face, side = maria
    face.unlink()  # a copy was kept: the cast does not depend on the original
    assert main(["cast", "list", "--json"]) == 0
    (member,) = json.loads(capsys.readouterr().out)
    assert member["name"] == "maria" and member["note"] == "red coat" and len(member["images"]) == 2
    assert all(p.startswith(str(isolated_home / "cast")) for p in member["images"])
    assert main(["cast", "add", "maria", str(side)]) == 2  # already there: refused, nothing changed
    assert "already in the cast" in capsys.readouterr().err
    assert main(["cast", "remove", "maria"]) == 0
    assert main(["cast", "list"]) == 0 and "No cast yet" in capsys.readouterr().out
    assert main(["cast", "remove", "maria"]) == 2


def test_bad_cast_input_is_refused_in_one_line(tmp_path, capsys):
    assert main(["cast", "add", "maria", str(tmp_path / "missing.png")]) == 2
    assert main(["cast", "add", "9lives", str(still(tmp_path, 8, 8))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "missing" in err[0] and "not a cast name" in err[1]


def test_mentions_are_written_out_with_the_note_on_the_first(maria):
    text, members = cast.resolve("@Maria waves; @maria smiles. Mail me@example.com")
    assert text == "Maria (red coat) waves; maria smiles. Mail me@example.com"
    assert [m.name for m in members] == ["maria"]
    assert cast.mentions("no names here, a@b.c") == []


def test_a_project_sees_its_own_cast_and_the_shared_one(tmp_path, maria):
    tom = still(tmp_path, 16, 16, "tom")
    assert main(["cast", "add", "tom", str(tom), "--project", "Heist"]) == 0
    with pytest.raises(cast.UnknownCastMember):
        cast.resolve("@tom and @maria")
    with cast.project("Heist"):
        assert [m.name for m in cast.resolve("@tom and @maria")[1]] == ["tom", "maria"]


def test_images_go_in_order_up_to_the_models_limit_and_a_model_without_references_is_warned(tmp_path, maria):
    catalog = default_catalog()
    extra = [still(tmp_path, 32, 32, "pedro"), still(tmp_path, 16, 48, "pedro")]
    main(["cast", "add", "pedro", *map(str, extra)])
    veo = plan_slot(slot("@pedro hands @maria a map", "veo-3.1"), catalog.get("veo-3.1"))  # at most 3
    assert len(veo.request.reference_images) == 3
    assert veo.request.reference_images[:2] == cast.members()[1].images  # pedro first: named first
    assert veo.request.prompt == "pedro hands maria (red coat) a map"
    assert any("at most 3 reference images" in w for w in veo.warnings)
    fast = plan_slot(slot("@maria runs", "veo-3.1-fast"), catalog.get("veo-3.1-fast"))
    assert fast.request.reference_images == () and fast.request.prompt == "maria (red coat) runs"
    assert any("takes no reference images" in w and "@maria" in w for w in fast.warnings)
    draft = plan_slot(slot("@maria runs", "draft"), catalog.get("draft"))  # free and local: no warning
    assert draft.warnings == [] and draft.request.tags["cast"] == "maria"


def test_an_unknown_name_is_refused_before_any_spend(fakes, monkeypatch, isolated_home, maria, capsys):
    point_at(fakes, monkeypatch, isolated_home)
    before = fakes.fakes["gemini"].creates
    rc = main(["generate", "@marai walks in", "--model", "veo-3.1", "--seconds", "4", "--size", "1280x720"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "@marai is not in the cast" in err[0] and "@maria" in err[0]
    assert fakes.fakes["gemini"].creates == before


def test_at_name_reaches_the_fake_and_is_recorded_on_the_take(fakes, monkeypatch, isolated_home, maria, capsys):
    point_at(fakes, monkeypatch, isolated_home)
    fake = fakes.fakes["gemini"]
    face, side = maria
    assert (
        main(
            [
                "generate",
                "@maria crosses the square",
                "--model",
                "gemini-omni-1.2-flash",
                "--seconds",
                "4",
                "--size",
                "1280x720",
                "--shot",
                "SH010",
            ]
        )
        == 0
    )
    (create,) = [c.json() for c in fake.calls_to("POST", r"/v1beta/interactions")]
    images = [base64.b64decode(c["data"]) for c in create["input"] if c["type"] == "image"]
    assert images == [face.read_bytes(), side.read_bytes()]
    assert any("maria (red coat) crosses the square" in c.get("text", "") for c in create["input"])
    capsys.readouterr()
    assert main(["takes", "SH010", "--json"]) == 0
    (take,) = json.loads(capsys.readouterr().out)
    assert take["cast"] == ["maria"] and len(take["references"]) == 2 and take["references"][0]["sha256"]


def test_a_model_without_references_is_warned_before_spending(fakes, monkeypatch, isolated_home, maria, capsys):
    point_at(fakes, monkeypatch, isolated_home)
    assert main(["generate", "@maria runs", "--model", "kling-v3", "--seconds", "5"]) == 0
    assert "note: @maria: Kling 3.0 takes no reference images" in capsys.readouterr().err
    (create,) = [c.json() for c in fakes.fakes["kling"].calls_to("POST", r"/v1/videos/[\w-]+")]
    assert create["prompt"] == "maria (red coat) runs" and "image_list" not in create


def gap(name, marker, frames=20):
    g = otio.schema.Gap(
        name=name,
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(frames, 24)),
    )
    g.markers.append(otio.schema.Marker(name=marker))
    return g


def test_gen_markers_in_an_otio_fill_send_each_placeholders_own_cast(
    fakes, monkeypatch, isolated_home, maria, tmp_path, capsys
):
    point_at(fakes, monkeypatch, isolated_home)
    face, side = maria
    pedro = still(tmp_path, 40, 40, "pedro")
    assert main(["cast", "add", "pedro", str(pedro), "--note", "blue cap"]) == 0
    # Alike in all but their words (same length even): each is still sent its own member's images.
    cut = write_cut(tmp_path / "cut.otio", [gap("SH010", "gen: @maria walks in"), gap("SH020", "gen: @pedro walks in")])
    code = main(
        ["fill", str(cut), "-o", str(tmp_path / "out.otio"), "--model", "gemini-omni-1.2-flash", "--codec", "h264"]
    )
    assert code == 0, capsys.readouterr().err
    creates = [c.json() for c in fakes.fakes["gemini"].calls_to("POST", r"/v1beta/interactions")]
    sent = {
        next(p["text"] for p in c["input"] if p["type"] == "text"): [
            base64.b64decode(p["data"]) for p in c["input"] if p["type"] == "image"
        ]
        for c in creates
    }
    assert sent == {
        "maria (red coat) walks in": [face.read_bytes(), side.read_bytes()],
        "pedro (blue cap) walks in": [pedro.read_bytes()],
    }
    capsys.readouterr()
    takes = {t["shot"]: t for t in json.loads(main(["takes", "--json"]) == 0 and capsys.readouterr().out)}
    assert takes["SH010"]["cast"] == ["maria"] and takes["SH020"]["cast"] == ["pedro"]


def test_an_otio_fill_warns_before_spending_and_refuses_an_unknown_name(
    fakes, monkeypatch, isolated_home, maria, tmp_path, capsys
):
    point_at(fakes, monkeypatch, isolated_home)
    cut = write_cut(tmp_path / "cut.otio", [gap("SH010", "gen: @maria walks in")])
    assert main(["fill", str(cut), "-o", str(tmp_path / "out.otio"), "--model", "kling-v3", "--codec", "h264"]) == 0
    err = capsys.readouterr().err
    assert "@maria: Kling 3.0 takes no reference images" in err
    assert err.index("takes no reference images") < err.index("[1/1]")  # said before the job went out
    bad = write_cut(tmp_path / "bad.otio", [gap("SH010", "gen: @nobody walks in")])
    before = fakes.fakes["kling"].creates
    assert main(["fill", str(bad), "-o", str(tmp_path / "bad-out.otio"), "--model", "kling-v3"]) == 2
    assert "@nobody is not in the cast" in capsys.readouterr().err
    assert fakes.fakes["kling"].creates == before and not (tmp_path / "bad-out.otio").exists()


def test_a_template_field_naming_a_member_is_written_out(maria):
    from promptreel.core.prompts.compose import PromptSpec
    from promptreel.core.takes import worded_for

    catalog = default_catalog()
    spec = PromptSpec(fields={"subject": "@maria", "action": "opens the door"})
    s = worded_for(
        slot("x", "gemini-omni-1.2-flash").model_copy(update={"spec": spec}), catalog.get("gemini-omni-1.2-flash")
    )
    planned = plan_slot(s, catalog.get("gemini-omni-1.2-flash"))
    assert "maria (red coat)" in planned.request.prompt and len(planned.request.reference_images) == 2


def test_a_resolve_fill_records_the_cast_on_the_clip_and_the_take(maria):
    from promptreel.core.journal import Journal
    from promptreel.core.takes import list_takes
    from promptreel.resolve_plugin.fill import fill as resolve_fill
    from promptreel.resolve_plugin.gateway import DirectGateway
    from promptreel.resolve_plugin.worker import clip_maker
    from tests.fakes.resolve import cut_with_placeholders

    resolve, timeline = cut_with_placeholders()
    solid = timeline.GetItemListInTrack("video", 1)[0]  # its `gen:` marker now names a cast member
    (frame,) = solid.GetMarkers()
    solid.DeleteMarkerAtFrame(frame)
    solid.AddMarker(0, "Blue", "gen: @maria in the snow", "", 1)
    gw = DirectGateway(resolve)
    report = resolve_fill(gw, clip_maker(gw))  # the draft model: words only, and no warning (it is free)
    assert report.failed == []
    placed = [
        it
        for it in timeline._items()
        if it._mpi is not None and it._mpi.GetThirdPartyMetadata("promptreel.prompt") == "@maria in the snow"
    ]
    assert placed and placed[0]._mpi.GetThirdPartyMetadata("promptreel.cast") == "maria"
    journal = Journal.open_default()
    assert [t.provenance.get("cast") for t in list_takes(journal)] in ([["maria"], None], [None, ["maria"]])
    journal.close()


def test_a_storyboard_row_naming_a_member_is_cast(maria, tmp_path, capsys):
    shots = tmp_path / "shots.csv"
    shots.write_text("shot,duration,prompt\nSH010,24,@maria waits at the bus stop\n", "utf-8")
    assert main(["storyboard", str(shots), "-o", str(tmp_path / "board.otio"), "--drafts"]) == 0
    capsys.readouterr()
    assert main(["takes", "SH010", "--json"]) == 0
    (take,) = json.loads(capsys.readouterr().out)
    assert take["cast"] == ["maria"] and take["prompt"] == "@maria waits at the bus stop"
    bad = tmp_path / "bad.csv"
    bad.write_text("shot,duration,prompt\nSH010,24,@nobody waits\n", "utf-8")
    assert main(["storyboard", str(bad), "-o", str(tmp_path / "bad.otio"), "--drafts"]) == 2
    assert "@nobody is not in the cast" in capsys.readouterr().err and not (tmp_path / "bad.otio").exists()
