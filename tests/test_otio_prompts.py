"""Structured prompts in timelines: storyboard rows and placeholders that name a template and fill its
fields, built per model family at scan time, through real OTIO files and the real command line."""

import json

import opentimelineio as otio
import pytest

from promptreel.core.cli import main
from promptreel.core.errors import BadInput
from promptreel.core.prompts.templates import MissingPlaceholders, TemplateStore, UnknownTemplate, new_template
from promptreel.core.timeline.fill import scan_timeline
from promptreel.core.timeline.timebase import time_range
from promptreel.otio_adapters.storyboard import read_shot_list

DUSK = "{subject} on a {place} at {time_of_day}, {lighting}"

SHOTS = (
    "shot,duration,prompt,template,subject,place,time_of_day,lighting,action,camera_movement,negative_prompt,crew\n"
    "1A,24,,dusk-exterior,a fisherman,pier,dusk,low amber sun,,,text,Ana\n"
    "1B,24,,,a gull,,,,dives into the swell,slow dolly in,,Ben\n"
    "1C,24,a lighthouse in a storm,dusk-exterior,,,,,,,,Cy\n"
)


@pytest.fixture
def dusk():
    TemplateStore().save(new_template("dusk-exterior", DUSK, ["house"]))


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def board_file(tmp_path, text=SHOTS, name="shots.csv"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def saved(timeline, tmp_path) -> otio.schema.Timeline:
    """The timeline through a real .otio file, as every other tool would read it."""
    path = tmp_path / "board.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return otio.adapters.read_from_file(str(path))


def test_storyboard_rows_carry_template_and_fields_into_the_placeholders(tmp_path, dusk):
    t = saved(read_shot_list(board_file(tmp_path)), tmp_path)
    metas = [dict(c.metadata["promptreel"]) for c in t.find_clips()]
    assert metas[0]["template"] == "dusk-exterior"
    # The template's values and the shot fields are kept; a column for people ("crew") is not.
    assert dict(metas[0]["fields"]) == {
        "subject": "a fisherman",
        "place": "pier",
        "time_of_day": "dusk",
        "lighting": "low amber sun",
        "negative_prompt": "text",
    }
    assert "prompt" not in metas[0] and "template" not in metas[1]
    assert dict(metas[1]["fields"]) == {
        "subject": "a gull",
        "action": "dives into the swell",
        "camera_movement": "slow dolly in",
    }


def test_scan_builds_each_prompt_for_the_models_family_and_free_text_wins(tmp_path, dusk):
    t = saved(read_shot_list(board_file(tmp_path)), tmp_path)
    veo, _ = scan_timeline(t, model="veo-3.1")
    assert [e.slot.prompt for e in veo] == [
        "a fisherman on a pier at dusk, low amber sun",  # the template, sent as written
        "A gull dives into the swell. Slow dolly in.",  # the fields, in Veo's order
        "a lighthouse in a storm",
    ]  # free text wins over the template named beside it
    assert veo[0].slot.negative_prompt == "text" and veo[0].error is None  # veo takes a negative prompt
    # LTX has no negative prompt: the template is sent as written and the negative is not.
    ltx, _ = scan_timeline(t, model="ltx-2.3-pro")
    assert ltx[0].slot.prompt == "a fisherman on a pier at dusk, low amber sun" and ltx[0].slot.negative_prompt is None
    # The draft slate is a labelled shot list: another family, another text from the same fields.
    draft, _ = scan_timeline(t, model="draft")
    assert draft[1].slot.prompt == "A gull dives into the swell. Camera: slow dolly in."
    # The plan sends exactly the built text.
    assert veo[1].planned.request.prompt == "A gull dives into the swell. Slow dolly in."


def test_storyboard_refuses_an_unknown_template_or_a_missing_value_naming_the_row(tmp_path, dusk):
    with pytest.raises(UnknownTemplate, match=r"row 1 \(shot 1A\): No template named 'night'.*dusk-exterior"):
        read_shot_list(board_file(tmp_path, "shot,duration,template,subject\n1A,24,night,a fox\n"))
    with pytest.raises(
        BadInput,
        match=r"row 2 \(shot 2\): template 'dusk-exterior' needs a value for: "
        r"place, time_of_day.*Add a column",
    ):
        read_shot_list(
            board_file(
                tmp_path, "shot,duration,template,subject,lighting\n1,24,,a fox,\n2,24,dusk-exterior,a fox,sun\n"
            )
        )
    with pytest.raises(BadInput, match=r"row 1 \(shot 1\) has no prompt"):
        read_shot_list(board_file(tmp_path, "shot,duration,prompt,crew\n1,24,,Ana\n"))


def test_json_rows_may_group_the_fields(tmp_path, dusk):
    rows = {
        "shots": [
            {
                "shot": "1",
                "duration": "1s",
                "template": "dusk-exterior",
                "fields": {"subject": "a fox", "place": "dune", "time_of_day": "noon", "lighting": "hard sun"},
            }
        ]
    }
    t = read_shot_list(board_file(tmp_path, json.dumps(rows), "shots.json"))
    (e,), _ = scan_timeline(saved(t, tmp_path), model="kling-v3")
    assert e.slot.prompt == "a fox on a dune at noon, hard sun" and e.slot.frames == 24


def _gap_timeline(**placeholders) -> otio.schema.Timeline:
    track = otio.schema.Track(name="V", kind=otio.schema.TrackKind.Video)
    for name, (meta, markers) in placeholders.items():
        gap = otio.schema.Gap(name=name, source_range=time_range(0, 24, 24))
        if meta:
            gap.metadata["promptreel"] = meta
        for text in markers:
            gap.markers.append(otio.schema.Marker(name=text, marked_range=time_range(0, 1, 24)))
        track.append(gap)
    t = otio.schema.Timeline(name="cut")
    t.tracks.append(track)
    return t


def test_placeholder_metadata_and_gen_marker_name_a_template(tmp_path, dusk):
    t = saved(
        _gap_timeline(
            meta=(
                {
                    "template": "dusk-exterior",
                    "model": "veo-3.1",
                    "fields": {"subject": "a fox", "place": "cliff", "time_of_day": "dawn", "lighting": "mist"},
                },
                [],
            ),
            marker=(
                None,
                [
                    'GEN: Template=dusk-exterior subject="a red fox" place=cliff time_of_day=dusk '
                    'lighting="backlit, warm"'
                ],
            ),
            fields=({"fields": {"subject": "a fox", "action": "sleeps"}, "negative_prompt": "people"}, []),
            free=(None, ["gen: template is not a word here"]),
        ),
        tmp_path,
    )
    estimates, skipped = scan_timeline(t)
    assert skipped == []
    assert [(e.slot.model, e.slot.prompt, e.slot.negative_prompt) for e in estimates] == [
        ("veo-3.1", "a fox on a cliff at dawn, mist", None),
        ("draft", "a red fox on a cliff at dusk, backlit, warm", None),
        ("draft", "A fox sleeps.", "people"),  # the metadata's negative prompt joins the fields
        ("draft", "template is not a word here", None),
    ]  # only `template=` opens the structured form


def test_placeholder_errors_name_the_placeholder_and_the_fix(tmp_path, dusk):
    missing = saved(_gap_timeline(shot7=(None, ["gen: template=dusk-exterior subject=fox"])), tmp_path)
    with pytest.raises(
        MissingPlaceholders,
        match=r"Placeholder 'shot7' at V1 V 00:00:00:00: Template 'dusk-exterior' "
        r"needs a value for: place, time_of_day, lighting.*fields",
    ):
        scan_timeline(missing, model="veo-3.1")
    gone = saved(_gap_timeline(shot8=({"template": "night", "fields": {"subject": "x"}}, [])), tmp_path)
    with pytest.raises(UnknownTemplate, match=r"Placeholder 'shot8' .*No template named 'night'"):
        scan_timeline(gone)
    quoted = _gap_timeline(shot9=(None, ['gen: template=dusk-exterior subject="a fox']))
    with pytest.raises(BadInput, match=r"Placeholder 'shot9' at V1 V 00:00:00:00: .*unclosed quote"):
        scan_timeline(quoted)
    loose = _gap_timeline(shot10=(None, ["gen: template=dusk-exterior a fox at dusk"]))
    with pytest.raises(BadInput, match=r"'a' in its `gen: template=…` is not key=value"):
        scan_timeline(loose)


def test_scan_cli_shows_the_built_prompt_and_a_draft_fill_keeps_the_fields(tmp_path, capsys, dusk, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps its table to the terminal's width
    shots = board_file(
        tmp_path,
        "shot,duration,template,subject,place,time_of_day,lighting\n"
        "1A,12,dusk-exterior,a fisherman,pier,dusk,low sun\n",
    )
    board = tmp_path / "board.otio"
    code, _, err = run(capsys, "storyboard", shots, "-o", board, "--size", "320x180", "--drafts")
    assert code == 0, err
    code, text, err = run(capsys, "scan", board, "--json", "--model", "gen-4.5")
    assert code == 0, err
    (row,) = json.loads(text)["placeholders"]
    assert row["kind"] == "draft" and row["template"] == "dusk-exterior"
    # Refilling the draft on a real model builds from the fields again, not from the draft's slate text.
    assert row["prompt"] == "a fisherman on a pier at dusk, low sun" and row["model"] == "gen-4.5"
    code, text, err = run(capsys, "scan", board)
    assert code == 0 and "a fisherman on a pier at dusk, low sun" in text
    TemplateStore().delete("dusk-exterior")
    code, text, err = run(capsys, "scan", board)
    assert code == 2 and "Placeholder '1A'" in err and "No template named 'dusk-exterior'" in err
    assert "Traceback" not in err
