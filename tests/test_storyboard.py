"""Shot lists in CSV, Markdown and JSON become timelines of placeholders; the OTIO adapter reads them."""

import json
from fractions import Fraction

import opentimelineio as otio
import pytest

from promptreel.core.errors import BadInput
from promptreel.core.timeline.placeholders import find_placeholders
from promptreel.otio_adapters.storyboard import parse_shots, read_shot_list

MD = """# Board

| Shot | Duration | Prompt | Model | Seed | Notes |
|------|----------|--------|-------|------|-------|
| 1A | 00:00:01:00 | a kite over a cliff | | 12 | |
| 1B | 2s | the kite string snaps | veo-3.1 | | wide |
"""


def test_markdown_table_with_timecode_and_seconds():
    shots = parse_shots(MD, ".md")
    assert [(s.shot, s.frames(Fraction(25)), s.model, s.seed, s.notes) for s in shots] == [
        ("1A", 25, None, 12, None),
        ("1B", 50, "veo-3.1", None, "wide"),
    ]


def test_json_list_or_object():
    rows = [{"shot": "1", "duration": 48, "prompt": "dawn"}]
    assert parse_shots(json.dumps(rows), ".json")[0].frames(Fraction(24)) == 48
    assert parse_shots(json.dumps({"shots": rows}), ".json")[0].prompt == "dawn"


def test_drop_frame_timecode_duration():
    (shot,) = parse_shots("shot,duration,prompt\nA,00:01:00;02,rain\n", ".csv")
    assert shot.frames(Fraction(30000, 1001)) == 1800


@pytest.mark.parametrize(
    "text,suffix,message",
    [
        ("shot,duration\nA,10\n", ".csv", "prompt"),
        ("shot,duration,prompt\nA,ten,x\n", ".csv", "not a duration"),
        ("shot,duration,prompt\nA,10,x\n", ".xlsx", "Unknown shot list format"),
        ("{bad", ".json", "not valid JSON"),
        ("shot,duration,prompt\n", ".csv", "no shots"),
    ],
)
def test_bad_shot_lists_are_refused(text, suffix, message):
    with pytest.raises(BadInput, match=message):
        shots = parse_shots(text, suffix)
        shots[0].frames(Fraction(24))


def test_otio_adapter_builds_placeholders_at_the_rate(tmp_path):
    path = tmp_path / "board.md"
    path.write_text(MD, "utf-8")
    t = otio.adapters.read_from_file(
        str(path), adapter_name="promptreel_storyboard", rate="24000/1001", start_timecode="00:59:58:00"
    )
    assert t.global_start_time.to_timecode() == "00:59:58:00"
    phs = find_placeholders(t.tracks, t.global_start_time).placeholders
    assert [(p.kind, p.frames, p.rate, p.prompt) for p in phs] == [
        ("generator:SolidColor", 24, Fraction(24000, 1001), "a kite over a cliff"),
        ("generator:SolidColor", 48, Fraction(24000, 1001), "the kite string snaps"),
    ]
    assert phs[1].hints == {"model": "veo-3.1"}
    assert phs[1].timecode == "00:59:59:00"


def test_zero_length_shot_is_refused(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("shot,duration,prompt\nA,0,x\n", "utf-8")
    with pytest.raises(BadInput, match="zero length"):
        read_shot_list(path)
