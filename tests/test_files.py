"""Atomic writes honour the umask (another account can read what the CLI writes), and the data
folder, which holds prompts and costs, is created readable by its owner only."""

import os
import stat
from contextlib import contextmanager

import pytest

from promptreel.core.cli import main
from promptreel.core.files import replacing, write_atomic


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_write_atomic_gives_the_mode_the_umask_allows(tmp_path, mask):
    with umask(mask):
        write_atomic(tmp_path / "a.txt", "one\ntwo\n")
        write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert mode(tmp_path / "a.txt") == mode(tmp_path / "b.bin") == 0o666 & ~mask
    assert (tmp_path / "a.txt").read_bytes() == b"one\ntwo\n"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "cut.otio"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target, ".tmp.otio") as temp:
        temp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["cut.otio"]


def test_a_writer_that_leaves_a_folder_is_cleaned_up_on_failure(tmp_path):
    with pytest.raises(RuntimeError), replacing(tmp_path / "cut.otiod") as temp:
        temp.unlink()
        (temp / "media").mkdir(parents=True)
        raise RuntimeError("refused")
    assert os.listdir(tmp_path) == []


def _cut(tmp_path):
    """A one-clip cut every format can hold (its media there, as the bundles want)."""
    (tmp_path / "plate.mov").write_bytes(b"not really a movie")
    import opentimelineio as otio

    from promptreel.otio_adapters.timeline_io import Document

    rt = otio.opentime.RationalTime
    clip = otio.schema.Clip(
        name="plate_012",
        source_range=otio.opentime.TimeRange(rt(0, 24), rt(48, 24)),
        media_reference=otio.schema.ExternalReference(
            target_url=str(tmp_path / "plate.mov"), available_range=otio.opentime.TimeRange(rt(0, 24), rt(96, 24))
        ),
    )
    timeline = otio.schema.Timeline(name="cut")
    track = otio.schema.Track()
    track.append(clip)
    timeline.tracks.append(track)
    return Document(tmp_path / "in.otio", "otio_json", timeline, timeline)


@pytest.mark.parametrize("suffix", [".otio", ".edl", ".xml", ".otioz", ".otiod"])
def test_timelines_are_written_readable_by_others(tmp_path, suffix):
    from promptreel.otio_adapters.timeline_io import write_timeline

    out = tmp_path / f"out{suffix}"
    with umask(0o022):
        written, _ = write_timeline(_cut(tmp_path), out)
    assert written == out and mode(out) == (0o755 if suffix == ".otiod" else 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "plate.mov"])  # no temporary left


def test_storyboard_writes_a_timeline_others_can_read(tmp_path, capsys):
    shots = tmp_path / "shots.csv"
    shots.write_text("shot,duration,prompt\nSH010,20,a red fox in snow\n", "utf-8")
    with umask(0o022):
        assert main(["storyboard", str(shots), "-o", str(tmp_path / "board.otio")]) == 0
    assert mode(tmp_path / "board.otio") == 0o644


def test_templates_export_is_readable_by_others(tmp_path, capsys):
    assert main(["templates", "save", "look", "--text", "a {subject} at dusk"]) == 0
    with umask(0o022):
        assert main(["templates", "export", str(tmp_path / "house.toml")]) == 0
    assert mode(tmp_path / "house.toml") == 0o644


def test_a_new_data_folder_is_private(tmp_path, monkeypatch, capsys):
    home = tmp_path / "deep" / "promptreel"
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    with umask(0o022):
        assert main(["templates", "save", "look", "--text", "a {subject} at dusk"]) == 0
    assert mode(home) == 0o700
    assert mode(home.parent) == 0o755  # folders above it are the user's own business


def test_an_existing_data_folder_is_left_as_it_is(tmp_path, monkeypatch, capsys):
    home = tmp_path / "shared"
    home.mkdir(mode=0o750)
    os.chmod(home, 0o750)  # a folder the user shares on purpose (another seat on the same database)
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    assert main(["templates", "save", "look", "--text", "a {subject} at dusk"]) == 0
    assert mode(home) == 0o750
