"""`promptreel conform` end to end: dry run in words and JSON, a real conform, clean refusals."""

from __future__ import annotations

import json
from pathlib import Path

from promptreel.core.cli import main
from promptreel.core.conform.probe import probe


def test_dry_run_prints_words_and_command_and_writes_nothing(clips, tmp_path, capsys):
    out = tmp_path / "out.mov"
    code = main(
        [
            "conform",
            str(clips["24"]),
            "-o",
            str(out),
            "--fps",
            "23.976",
            "--frames",
            "30",
            "--size",
            "478x200",
            "--fit",
            "fit",
            "--dry-run",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and not out.exists()
    assert "speed change 24 → 23.976" in text and "pad with black to 478x200" in text
    assert "-filter_complex" in text and "prores_aw" in text


def test_dry_run_says_what_becomes_of_hdr(clips, tmp_path, capsys):
    out = str(tmp_path / "o.mov")
    assert main(["conform", str(clips["pq"]), "-o", out, "--frames", "4", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "HDR (PQ, bt2020) tone-mapped to SDR Rec.709" in text and "tonemap=" in text and "zscale=" in text
    assert main(["conform", str(clips["pq"]), "-o", out, "--frames", "4", "--hdr", "keep", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "HDR (PQ) kept" in text and "transfer smpte2084" in text and "tonemap=" not in text
    assert (
        main(
            [
                "conform",
                str(clips["pq"]),
                "-o",
                out,
                "--frames",
                "4",
                "--hdr",
                "keep",
                "--codec",
                "h264",
                "--bit-depth",
                "8",
            ]
        )
        == 2
    )
    assert "cannot carry HDR" in capsys.readouterr().err


def test_dry_run_json(clips, tmp_path, capsys):
    code = main(
        [
            "conform",
            str(clips["24"]),
            "-o",
            str(tmp_path / "o.mov"),
            "--fps",
            "25",
            "--seconds",
            "1",
            "--codec",
            "h264",
            "--fps-mode",
            "nearest",
            "--anchor",
            "center",
            "--dry-run",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["frames"], data["rate"], data["strategy"], data["pix_fmt"]) == (25, "25", "nearest", "yuv420p")
    assert data["in_frame"] == 12  # centre of 48 frames, 24 used
    assert "ffmpeg" in Path(data["command"][0]).name and data["command"][-1].endswith("o.mov")


def test_conform_writes_a_verified_clip(clips, tmp_path, capsys):
    out = tmp_path / "out.mov"
    code = main(
        [
            "conform",
            str(clips["24"]),
            "-o",
            str(out),
            "--fps",
            "24000/1001",
            "--frames",
            "20",
            "--size",
            "320x180",
            "--timecode",
            "01:00:00:00",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)["result"]
    assert code == 0 and result["frames"] == 20 and result["timecode"] == "01:00:00:00"
    info = probe(out)
    assert (info.frames, str(info.rate), info.pix_fmt) == (20, "24000/1001", "yuv422p10le")


def test_refusals_exit_2_without_traceback(clips, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert main(["conform", str(bad), "-o", str(tmp_path / "o.mov")]) == 2
    assert main(["conform", str(clips["24"]), "-o", str(tmp_path / "o.mov"), "--frames", "0"]) == 2
    assert main(["conform", str(clips["24"]), "-o", str(tmp_path / "o.mov"), "--frames", "500"]) == 2
    assert (
        main(["conform", str(clips["24"]), "-o", str(tmp_path / "o.mov"), "--codec", "h264", "--bit-depth", "10"]) == 2
    )
    assert main(["conform", str(clips["24"]), "-o", str(tmp_path / "o.mov"), "--bit-depth", "12"]) == 2
    err = capsys.readouterr().err
    assert "not 12-bit" in err and "carries 12-bit: h265-12" in err
    assert "Traceback" not in err
    assert "not readable media" in err and "at least 1 frame" in err and "--short hold" in err and "h265-10" in err
    assert not (tmp_path / "o.mov").exists()


def test_an_ffmpeg_failure_is_told_in_words_and_leaves_nothing(clips, tmp_path, monkeypatch, capsys):
    from promptreel.core.ffmpeg import ffmpeg_exe

    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'Conversion failed!' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PROMPTREEL_FFMPEG", str(broken))
    ffmpeg_exe.cache_clear()
    try:
        out = tmp_path / "out.mov"
        code = main(["conform", str(clips["24"]), "-o", str(out), "--fps", "24", "--frames", "10", "--size", "320x180"])
    finally:
        ffmpeg_exe.cache_clear()
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "Nothing was written" in err and "Traceback" not in err
