"""Bad input: each a clear user error — the problem and the fix, no traceback — that leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from promptreel.core.cli import main
from promptreel.core.conform.execute import conform
from promptreel.core.conform.target import Target
from promptreel.core.errors import BadInput, UnsupportedRequest


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def locked(tmp_path):
    """A folder nothing can be written to (root ignores permissions: then the folder is made immutable)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable and not (
        shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    ):
        pytest.skip("running as root without chattr: no folder can be made unwritable")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def _refused(capsys, folder, *args) -> str:
    code = main(["conform", *map(str, args)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert not list(folder.iterdir())  # nothing written, not even a temporary
    return err


def test_not_media(clips, tmp_path, out_dir, capsys):
    notes = tmp_path / "notes.mov"
    notes.write_text("not a video\n" * 50)
    err = _refused(capsys, out_dir, notes, "-o", out_dir / "o.mov", "--frames", "10")
    assert "not readable media" in err and "regenerate" in err


def test_zero_length_slot(clips, out_dir, capsys):
    err = _refused(capsys, out_dir, clips["24"], "-o", out_dir / "o.mov", "--frames", "0")
    assert "0 frames cannot be made" in err and "at least 1 frame" in err
    with pytest.raises(UnsupportedRequest, match="at least 1 frame"):
        Target(frames=0, rate="24", size="320x180")


def test_unsupported_codec_name(clips, out_dir, capsys):
    err = _refused(capsys, out_dir, clips["24"], "-o", out_dir / "o.mov", "--codec", "cinepak")
    assert "cinepak" in err and "prores-hq" in err  # click names the choices
    with pytest.raises(UnsupportedRequest, match="Unknown codec 'cinepak'.*Choose one of: prores-hq"):
        Target(frames=5, rate="24", size="320x180", codec="cinepak")


def test_unwritable_output_folder(clips, locked, capsys):
    err = _refused(capsys, locked, clips["24"], "-o", locked / "o.mov", "--frames", "5")
    assert "not writable" in err and "Choose a folder you can write to" in err


def test_output_folder_that_is_not_a_folder(clips, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BadInput, match="not a folder"):
        conform(clips["24"], blocker / "out.mov", Target(frames=5, rate="24", size="320x180"))


def test_disk_full(clips, out_dir):
    # A file-size limit on the process and the ffmpeg it starts stands in for a full disk: ffmpeg's
    # writes fail (EFBIG, or SIGXFSZ kills it) part-way through a 1080p ProRes file.
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "promptreel.core.cli",
            "conform",
            str(clips["24"]),
            "-o",
            str(out_dir / "o.mov"),
            "--frames",
            "48",
            "--size",
            "1920x1080",
            "--json",
        ],
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "disk filled up" in run.stderr and "Free some space" in run.stderr
    assert not list(out_dir.iterdir())


def test_existing_output_is_not_overwritten(clips, out_dir, capsys):
    out = out_dir / "out.mov"
    out.write_bytes(b"the editor's file")
    code = main(["conform", str(clips["24"]), "-o", str(out), "--frames", "5"])
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"the editor's file" and [p.name for p in out_dir.iterdir()] == ["out.mov"]


def test_wrong_container_is_refused(clips, out_dir):
    with pytest.raises(UnsupportedRequest, match=r"\.mov"):
        conform(clips["24"], out_dir / "out.mp4", Target(frames=5, rate="24", size="320x180"))
    assert not list(out_dir.iterdir())
