"""Timelines that are malformed in ways OTIO accepts (or dies on) are refused with one line, exit 2:
nesting deep enough to crash OTIO's reader, times with rate 0 or NaN, promptreel metadata of the
wrong type. `scan` and `fill` refuse each alike, naming the item, and spend nothing."""

import subprocess
import sys

import opentimelineio as otio
import pytest
from otio_helpers import write_cut

from promptreel.core.cli import main
from promptreel.core.errors import BadInput
from promptreel.core.journal import Journal
from promptreel.core.nesting import MAX_NESTED_COMPOSITIONS, json_depth
from promptreel.core.timeline.placeholders import find_placeholders

RATE = 24


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def rt(value, rate=RATE):
    return otio.opentime.RationalTime(value, rate)


def clip(name, meta=None, rate=RATE, frames=20):
    c = otio.schema.Clip(
        name=name,
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(rt(0, rate), rt(frames, rate)),
    )
    if meta is not None:
        c.metadata["promptreel"] = meta
    return c


def nested_stacks(levels: int) -> str:
    """A timeline whose tracks are `levels` Stacks inside one another, as JSON (OTIO's own writer
    crashes on the deepest of these, so the text is built here)."""
    return (
        '{"OTIO_SCHEMA": "Timeline.1", "name": "deep", "tracks": '
        + '{"OTIO_SCHEMA": "Stack.1", "children": [' * levels
        + "]}" * levels
        + "}"
    )


def cli(*args) -> subprocess.CompletedProcess:
    """The installed command in a process of its own: a crash in OTIO's C++ shows as a signal, not a failure."""
    return subprocess.run(
        [sys.executable, "-m", "promptreel.core.cli", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_a_file_nested_deep_enough_to_crash_otio_is_refused_in_one_line(tmp_path):
    deep = tmp_path / "deep.otio"
    deep.write_text(nested_stacks(60_000), "utf-8")
    for command in (["scan", deep], ["fill", deep, "-o", tmp_path / "out.otio"]):
        done = cli(*command)
        assert done.returncode == 2, (done.returncode, done.stderr[-500:])  # not -11 (SIGSEGV), not 139
        assert done.stderr.count("\n") == 1 and "nests 120,001 levels deep" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.otio").exists() and not (tmp_path / "out_media").exists()


def test_an_otioz_is_measured_before_it_is_read(tmp_path, capsys):
    import zipfile

    packed = tmp_path / "deep.otioz"
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("content.otio", nested_stacks(1_000))
        z.writestr("version.txt", "1.0.0")
    code, _, err = run(capsys, "scan", packed)
    assert code == 2 and "nests 2,001 levels deep" in err


def test_json_depth_skips_brackets_inside_strings():
    assert json_depth(b'{"a": ["[[[", {"b": "]]]\\"{"}], "c": "\\\\"}') == 3
    assert json_depth(b'["\\\\\\"[", [1]]') == 2  # an escaped backslash, then an escaped quote
    assert json_depth(b'"[[[["') == 0 and json_depth(b"5") == 0
    assert json_depth(nested_stacks(500).encode()) == 1_001


def test_stacks_nested_past_the_limit_are_refused_not_a_recursion_error(tmp_path, capsys):
    inner = otio.schema.Stack()
    inner.append(clip("SH1", {"prompt": "a lamp"}))
    for _ in range(499):
        outer = otio.schema.Stack()
        outer.append(inner)
        inner = outer
    timeline = otio.schema.Timeline()
    timeline.tracks.append(inner)
    with pytest.raises(BadInput, match=f"more than {MAX_NESTED_COMPOSITIONS} deep"):
        find_placeholders(timeline.tracks)  # a timeline a hook was handed, never read from a file

    # Within the file limit but past the walk's: the CLI says so in one line.
    track = otio.schema.Track()
    track.append(clip("SH1", {"prompt": "a lamp"}))
    node = track
    for _ in range(MAX_NESTED_COMPOSITIONS + 5):
        stack = otio.schema.Stack()
        stack.append(node)
        node = stack
    timeline = otio.schema.Timeline()
    timeline.tracks.append(node)
    path = tmp_path / "nested.otio"
    otio.adapters.write_to_file(timeline, str(path))
    code, _, err = run(capsys, "scan", path)
    assert code == 2 and f"more than {MAX_NESTED_COMPOSITIONS} deep" in err and err.count("\n") == 1


def test_ninety_nested_sequences_still_scan(tmp_path, capsys):
    node = otio.schema.Track()
    node.append(clip("SH1", {"prompt": "a lamp"}))
    for _ in range(90):
        stack = otio.schema.Stack()
        stack.append(node)
        node = stack
    timeline = otio.schema.Timeline()
    timeline.tracks.append(node)
    assert [p.prompt for p in find_placeholders(timeline.tracks).placeholders] == ["a lamp"]


@pytest.mark.parametrize(
    "rate,frames,message",
    [
        (0, 20, "its rate is 0, which is no frame rate"),
        (float("nan"), 20, "its rate is nan, which is no frame rate"),
        (-24, 20, "its rate is -24, which is no frame rate"),
        (RATE, float("nan"), "it holds a time of nan frames"),
        (RATE, float("inf"), "it holds a time of inf frames"),
    ],
)
def test_a_time_that_is_no_time_names_its_clip(tmp_path, capsys, rate, frames, message):
    cut = write_cut(
        tmp_path / "cut.otio",
        [clip("SH1", {"prompt": "a kite"}), clip("SH2", {"prompt": "a lake"}, rate=rate, frames=frames)],
    )
    for args in (["scan", cut], ["fill", cut, "-o", tmp_path / "out.otio", "--codec", "h264"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and err.startswith("promptreel: Item 'SH2' at V1 01:00:00:20: ") and message in err
        assert err.count("\n") == 1
    assert not (tmp_path / "out.otio").exists() and Journal.open_default().jobs() == []


def test_a_bad_rate_on_an_ordinary_clip_or_the_start_time_is_named_too(tmp_path, capsys):
    plate = otio.schema.Clip(
        name="plate",
        source_range=otio.opentime.TimeRange(rt(0, 0), rt(12, 0)),
        media_reference=otio.schema.ExternalReference(target_url="/media/plate.mov"),
    )
    cut = write_cut(tmp_path / "cut.otio", [plate, clip("SH1", {"prompt": "a kite"})])
    code, _, err = run(capsys, "scan", cut)
    assert code == 2 and "Item 'plate' at V1 01:00:00:00: its rate is 0" in err
    timeline = otio.adapters.read_from_file(str(cut))
    timeline.global_start_time = rt(0, float("nan"))
    otio.adapters.write_to_file(timeline, str(cut))
    code, _, err = run(capsys, "scan", cut)
    assert code == 2 and "The timeline's start time: its rate is nan" in err


@pytest.mark.parametrize(
    "meta,message",
    [
        ({"prompt": 12345}, "`prompt` metadata is a number (12345), not text"),
        ({"prompt": ["a", "b"]}, "`prompt` metadata is a list, not text"),
        ({"prompt": {"text": "a kite"}}, "`prompt` metadata is a dictionary, not text"),
        ({"prompt": True}, "`prompt` metadata is true/false (true), not text"),
        ({"prompt": "a kite", "model": 5}, "`model` metadata is a number (5), not text"),
        ({"prompt": "a kite", "negative_prompt": 7}, "`negative_prompt` metadata is a number (7), not text"),
        ({"template": 7}, "`template` metadata is a number (7), not text"),
        ({"prompt": "a kite", "seed": "abc"}, "`seed` metadata is text ('abc'), not a whole number"),
        ({"prompt": "a kite", "seed": 1.5}, "`seed` metadata is a number (1.5), not a whole number"),
    ],
)
def test_metadata_of_the_wrong_type_is_refused_alike_by_scan_and_fill(tmp_path, capsys, meta, message):
    cut = write_cut(tmp_path / "cut.otio", [clip("SH1", meta)])
    errors = []
    for args in (
        ["scan", cut],
        ["scan", cut, "--model", "veo-3.1", "--json"],
        ["fill", cut, "-o", tmp_path / "out.otio", "--codec", "h264"],
    ):
        code, _, err = run(capsys, *args)
        assert code == 2, err
        errors.append(err)
    assert len(set(errors)) == 1  # the same refusal, word for word
    assert errors[0].startswith("promptreel: Placeholder 'SH1' at V1 01:00:00:00: ") and message in errors[0]
    assert not (tmp_path / "out.otio").exists() and Journal.open_default().jobs() == []


def test_a_whole_number_seed_written_as_a_float_is_still_a_seed(tmp_path, capsys):
    import json

    cut = write_cut(tmp_path / "cut.otio", [clip("SH1", {"prompt": "a kite", "seed": 7.0})])
    code, out, err = run(capsys, "scan", cut, "--json")
    assert code == 0, err
    assert json.loads(out)["placeholders"][0]["prompt"] == "a kite"
