"""`promptreel scan | fill | revert | storyboard` end to end, and their refusals."""

import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import SAMPLES, as_json, assert_frame_exact

from promptreel.core.cli import main

EDL_2398 = """TITLE: twentythree
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME:  GEN: a neon street in the rain
002  AX       V     C        00:00:05:00 00:00:05:12 01:00:01:00 01:00:01:12
* FROM CLIP NAME:  plate_012
"""

# Drop-frame in its header but ':' separators: OTIO reads it as non-drop and the durations disagree.
EDL_DF_COLONS = """TITLE: dropframe
FCM: DROP FRAME

001  AX       V     C        00:00:00:00 00:01:00:02 01:00:00:00 01:01:00:00
"""


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def board(tmp_path):
    shots = tmp_path / "shots.csv"
    shots.write_text(
        "shot,duration,prompt,model,seed,notes\n"
        'SH010,20,"a red fox in snow",,7,opening\n'
        "SH020,0.5s,a fox's eye,veo-3.1,,\n",
        "utf-8",
    )
    return shots


def test_storyboard_scan_fill_revert(tmp_path, capsys, board):
    out = tmp_path / "board.otio"
    code, text, err = run(capsys, "storyboard", board, "-o", out, "--rate", "24000/1001", "--size", "320x180")
    assert code == 0, err
    t = otio.adapters.read_from_file(str(out))
    before = out.read_bytes()
    assert [c.duration().value for c in t.find_clips()] == [20, 12]  # 0.5 s at 23.976 rounds to 12 frames
    assert t.global_start_time.to_timecode() == "01:00:00:00"

    code, text, err = run(capsys, "scan", out, "--json")
    assert code == 0, err
    data = json.loads(text)
    rows = data["placeholders"]
    assert [(r["frames"], r["rate"], r["model"], r["timecode"]) for r in rows] == [
        (20, "24000/1001", "draft", "01:00:00:00"),
        (12, "24000/1001", "veo-3.1", "01:00:00:20"),
    ]
    assert rows[1]["planned"] == "4 s 1280x720" and rows[1]["cost"] > 0  # veo-3.1: shortest take, nearest size
    assert data["total_cost"] == pytest.approx(rows[1]["cost"])
    assert out.read_bytes() == before  # scan changed nothing

    filled = tmp_path / "filled.otio"
    code, text, err = run(capsys, "fill", out, "-o", filled, "--model", "draft", "--codec", "h264")
    assert code == 0, err
    assert out.read_bytes() == before
    t2 = otio.adapters.read_from_file(str(filled))
    for clip, frames in zip(t2.find_clips(), (20, 12)):
        assert_frame_exact(clip, frames, Fraction(24000, 1001))
    assert "2 filled" in text

    reverted = tmp_path / "reverted.otio"
    code, text, err = run(capsys, "revert", filled, "-o", reverted)
    assert code == 0, err
    assert as_json(otio.adapters.read_from_file(str(reverted))) == as_json(t)


def test_storyboard_with_drafts_plays_and_paths_with_spaces_and_accents(tmp_path, capsys, board):
    folder = tmp_path / "my boards" / "ñandú"
    folder.mkdir(parents=True)
    out = folder / "tablero 1.otio"
    code, text, err = run(capsys, "storyboard", board, "-o", out, "--rate", "25", "--size", "320x180", "--drafts")
    assert code == 0, err
    t = otio.adapters.read_from_file(str(out))
    for clip, frames in zip(t.find_clips(), (20, 12)):
        assert_frame_exact(clip, frames, Fraction(25))
    code, text, err = run(capsys, "scan", out, "--json")
    assert [r["kind"] for r in json.loads(text)["placeholders"]] == ["draft", "draft"]


def test_fill_dry_run_writes_nothing(tmp_path, capsys, board):
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out, "--size", "320x180")
    code, text, err = run(capsys, "fill", out, "-o", tmp_path / "x.otio", "--dry-run")
    assert code == 0 and "dry run" in text
    assert not (tmp_path / "x.otio").exists() and not (tmp_path / "x_media").exists()


def test_edl_at_23976_keeps_its_format(tmp_path, capsys):
    src = tmp_path / "cut.edl"
    src.write_text(EDL_2398, "utf-8")
    code, text, err = run(capsys, "scan", src, "--json", "--rate", "24000/1001")
    assert code == 0, err
    (row,) = json.loads(text)["placeholders"]
    assert (row["frames"], row["rate"], row["prompt"]) == (24, "24000/1001", "a neon street in the rain")
    out = tmp_path / "filled.edl"
    code, text, err = run(
        capsys, "fill", src, "-o", out, "--rate", "24000/1001", "--codec", "h264", "--size", "320x180"
    )
    assert code == 0, err
    assert "FROM CLIP: file://" in out.read_text("utf-8")
    t = otio.adapters.read_from_file(str(out), rate=24000 / 1001)
    assert_frame_exact(t.find_clips()[0], 24, Fraction(24000, 1001))


def test_budget_refusal_changes_nothing(tmp_path, capsys, board):
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out, "--size", "1280x720")
    code, text, err = run(capsys, "fill", out, "-o", tmp_path / "f.otio", "--model", "veo-3.1", "--budget", "1")
    assert code == 3 and "over the budget" in err
    assert not (tmp_path / "f.otio").exists() and not (tmp_path / "f_media").exists()


@pytest.mark.parametrize("command", ["scan", "fill"])
def test_a_retired_model_is_refused_before_anything_is_spent(tmp_path, capsys, board, command):
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out, "--size", "1280x720")
    extra = ["-o", tmp_path / "f.otio"] if command == "fill" else []
    code, text, err = run(capsys, command, out, *extra, "--model", "sora-2-pro")
    assert code == 2 and "Sora 2 Pro (sora-2-pro) was shut down on 2026-09-24" in err and "Use veo-3.1 (" in err
    assert "Traceback" not in err and not (tmp_path / "f.otio").exists() and not (tmp_path / "f_media").exists()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.otio", None, "does not exist"),
        ("cut.txt", "hello", "unknown timeline format"),
        ("broken.otio", "{not json", "not a readable otio_json timeline"),
        ("future.otio", json.dumps({"OTIO_SCHEMA": "Marker.3", "name": "m"}), "newer OpenTimelineIO"),
        ("df.edl", EDL_DF_COLONS, "ignore-timecode-mismatch"),
        ("fast.edl", EDL_DF_COLONS, "--rate"),
    ],
)
def test_bad_input_is_a_clear_refusal(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, "utf-8")
    rate = ["--rate", "30000/1001"] if name == "df.edl" else []
    code, text, err = run(capsys, "scan", path, *rate)
    assert code == 2 and message in err and "Traceback" not in err


def test_clip_root_is_refused(tmp_path, capsys):
    code, text, err = run(capsys, "scan", SAMPLES / "resolve_clip_imgseq_2x_speed.json")
    assert code == 2 and "unknown timeline format '.json'" in err
    clip_file = tmp_path / "one clip.otio"  # Resolve's single-clip export, under a timeline suffix
    clip_file.write_bytes((SAMPLES / "resolve_clip_imgseq_2x_speed.json").read_bytes())
    code, text, err = run(capsys, "scan", clip_file)
    assert code == 2 and "holds a Clip, not a timeline" in err


def test_output_is_never_the_input_or_an_existing_file(tmp_path, capsys, board):
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out)
    code, _, err = run(capsys, "fill", out, "-o", out)
    assert code == 2 and "is the input" in err
    (tmp_path / "taken.otio").write_text("mine", "utf-8")
    code, _, err = run(capsys, "fill", out, "-o", tmp_path / "taken.otio")
    assert code == 2 and "--force" in err and (tmp_path / "taken.otio").read_text("utf-8") == "mine"


def test_revert_of_an_unfilled_timeline_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "revert", SAMPLES / "transition_test.otio", "-o", tmp_path / "r.otio")
    assert code == 2 and "no promptreel fills" in err and not (tmp_path / "r.otio").exists()


@pytest.mark.parametrize("suffix", [".fcpxml", ".aaf"])
def test_format_that_cannot_be_written_falls_back_to_otio(tmp_path, capsys, board, suffix):
    # fcpx_xml writes 23.976 files its own reader rejects; the AAF writer needs Avid mob ids.
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out, "--rate", "24000/1001", "--size", "320x180")
    code, text, err = run(
        capsys, "fill", out, "-o", tmp_path / f"filled{suffix}", "--model", "draft", "--codec", "h264"
    )
    assert code == 0, err
    assert not (tmp_path / f"filled{suffix}").exists()
    assert "wrote filled.otio (OTIO) instead" in " ".join(text.split())
    t = otio.adapters.read_from_file(str(tmp_path / "filled.otio"))
    assert_frame_exact(t.find_clips()[0], 20, Fraction(24000, 1001))
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # no temporary file left behind


def test_fallback_to_otio_never_replaces_a_file_already_there(tmp_path, capsys, board):
    out = tmp_path / "cut.otio"
    run(capsys, "storyboard", board, "-o", out, "--rate", "24000/1001", "--size", "320x180")
    before = out.read_bytes()
    code, text, err = run(capsys, "fill", out, "-o", tmp_path / "cut.fcpxml", "--model", "draft", "--codec", "h264")
    assert code == 0, err
    assert out.read_bytes() == before  # the input, whose name the fallback would have taken
    assert "wrote cut 2.otio (OTIO) instead" in " ".join(text.split())
    assert_frame_exact(
        otio.adapters.read_from_file(str(tmp_path / "cut 2.otio")).find_clips()[0], 20, Fraction(24000, 1001)
    )


EDL_DF = """TITLE: dropframe
FCM: DROP FRAME

001  AX       V     C        00:00:59;28 00:01:00;04 01:00:59;28 01:01:00;04
* FROM CLIP NAME:  plate_001
002  AX       V     C        00:00:00;00 00:00:02;00 01:01:00;04 01:01:02;04
* FROM CLIP NAME:  GEN: sparks over a harbour
"""


def test_drop_frame_edl(tmp_path, capsys):
    src = tmp_path / "df.edl"
    src.write_text(EDL_DF, "utf-8")
    code, text, err = run(capsys, "scan", src, "--json", "--rate", "30000/1001")
    assert code == 0, err
    (row,) = json.loads(text)["placeholders"]
    # 00:00:59;28 -> 00:01:00;04 spans the dropped ;00 and ;01: 4 frames, not 6.
    assert (row["frames"], row["rate"], row["record_frame"]) == (60, "30000/1001", 4)
    assert row["timecode"] == "00:00:00;04"
    out = tmp_path / "filled.edl"
    code, text, err = run(capsys, "fill", src, "-o", out, "--rate", "30000/1001", "--codec", "h264", "--size", "64x36")
    assert code == 0, err
    t = otio.adapters.read_from_file(str(out), rate=30000 / 1001)
    assert_frame_exact(t.find_clips()[1], 60, Fraction(30000, 1001))
    assert "01:01:00;04 01:01:02;04" in out.read_text("utf-8")  # record times kept, drop-frame


def test_partial_fill_writes_what_it_can_and_lists_the_rest(tmp_path, capsys):
    shots = tmp_path / "shots.json"
    shots.write_text(
        json.dumps(
            [
                {"shot": "A", "duration": 12, "prompt": "a lantern lit"},
                {
                    "shot": "B",
                    "duration": "20s",
                    "prompt": "a long tracking shot",
                    "model": "veo-3.1",
                },  # veo makes <= 8 s
            ]
        ),
        "utf-8",
    )
    board = tmp_path / "board.otio"
    run(capsys, "storyboard", shots, "-o", board, "--size", "64x36")
    code, text, err = run(capsys, "fill", board, "-o", tmp_path / "all.otio")
    assert code == 4 and "cannot be made" in err and "--partial" in err
    assert not (tmp_path / "all.otio").exists()
    code, text, err = run(capsys, "fill", board, "-o", tmp_path / "some.otio", "--partial", "--codec", "h264")
    assert code == 0, err
    assert "1 filled" in text and "not filled" in text
    a, b = otio.adapters.read_from_file(str(tmp_path / "some.otio")).find_clips()
    assert_frame_exact(a, 12, Fraction(24))
    assert isinstance(b.media_reference, otio.schema.GeneratorReference)  # left as it was


def test_fill_lists_its_spend_under_the_project_given(tmp_path, capsys, board):
    out = tmp_path / "board.otio"
    run(capsys, "storyboard", board, "-o", out, "--rate", "24000/1001", "--size", "320x180")
    code, _, err = run(
        capsys,
        "fill",
        out,
        "-o",
        tmp_path / "filled.otio",
        "--model",
        "draft",
        "--codec",
        "h264",
        "--project",
        "Feature X",
    )
    assert code == 0, err
    code, text, err = run(capsys, "cost", "--by", "project", "--csv")
    assert code == 0, err
    assert text.splitlines() == ["project,usd,jobs", "Feature X,0.0000,2"]  # the two draft shots
