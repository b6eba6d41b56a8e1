"""Every folder a command writes into is checked before anything is spent: `fill -o`, `fill --media-dir`,
`storyboard -o` (and its drafts' folder), `generate --out`, `promote --media-dir` refuse a folder they
cannot write with one line, exit 2, no job created and no provider called."""

import json
import os

import opentimelineio as otio
import pytest
from otio_helpers import write_cut

from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.sandbox.run import sandbox

RATE = 24
pytestmark = pytest.mark.usefixtures("no_poll_waits")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cut(tmp_path):
    sh010 = otio.schema.Clip(
        name="SH010",
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(20, RATE)),
    )
    sh010.metadata["promptreel"] = {"prompt": "a lighthouse keeper lights the lamp"}
    return write_cut(tmp_path / "cut.otio", [sh010], RATE)


@pytest.fixture
def shots(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("shot,duration,prompt\nSH010,20,a red fox in snow\n", "utf-8")
    return path


def commands(tmp_path, cut, shots, bad):
    """Each command with one of its output folders at `bad`, on a paid model where it generates."""
    ok = tmp_path / "ok"
    return {
        "fill -o": ["fill", cut, "-o", bad / "filled.otio", "--model", "gen-4.5", "--codec", "h264"],
        "fill --media-dir": [
            "fill",
            cut,
            "-o",
            ok / "filled.otio",
            "--media-dir",
            bad / "media",
            "--model",
            "gen-4.5",
            "--codec",
            "h264",
        ],
        "storyboard -o": ["storyboard", shots, "-o", bad / "board.otio"],
        "storyboard --drafts --media-dir": [
            "storyboard",
            shots,
            "-o",
            ok / "board.otio",
            "--drafts",
            "--media-dir",
            bad / "drafts",
        ],
        "generate --out": [
            "generate",
            "a kite over dunes",
            "--model",
            "gen-4.5",
            "--seconds",
            "5",
            "--out",
            bad / "takes",
        ],
    }


def refused_before_spending(capsys, tmp_path, args, env) -> str:
    (tmp_path / "ok").mkdir(exist_ok=True)
    code, out, err = run(capsys, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert env.fakes["runway"].creates == 0 and Journal.open_default().jobs() == []
    assert list((tmp_path / "ok").iterdir()) == []  # nothing written beside it either
    return err


@pytest.mark.parametrize(
    "command", ["fill -o", "fill --media-dir", "storyboard -o", "storyboard --drafts --media-dir", "generate --out"]
)
def test_a_folder_under_a_file_is_refused_before_anything_is_spent(tmp_path, capsys, cut, shots, command):
    # Works for root too, which chmod does not stop: no one can make a folder inside a file.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine", "utf-8")
    with sandbox(routes=["runway"], export=True) as env:
        err = refused_before_spending(capsys, tmp_path, commands(tmp_path, cut, shots, blocker)[command], env)
    assert f"{blocker} is a file, not a folder" in err and "nothing was spent" in err
    assert blocker.read_text("utf-8") == "mine"


@pytest.mark.parametrize(
    "command", ["fill -o", "fill --media-dir", "storyboard -o", "storyboard --drafts --media-dir", "generate --out"]
)
def test_a_read_only_folder_is_refused_before_anything_is_spent(tmp_path, capsys, cut, shots, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        try:  # root writes into a 0555 folder (os.access says so too): then there is nothing to refuse
            (locked / "probe").touch()
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: chmod 0555 does not stop writes (the file-in-the-way test covers root)")
        with sandbox(routes=["runway"], export=True) as env:
            err = refused_before_spending(capsys, tmp_path, commands(tmp_path, cut, shots, locked)[command], env)
        assert "is not writable" in err and str(locked) in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_promote_checks_its_media_folder_before_rendering_again(tmp_path, capsys, cut):
    assert run(capsys, "fill", cut, "-o", tmp_path / "draft.otio", "--model", "draft", "--codec", "h264")[0] == 0
    (draft_job,) = Journal.open_default().jobs()
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine", "utf-8")
    code, out, _ = run(capsys, "takes", "SH010", "--json")
    take_id = json.loads(out)[0]["id"]
    with sandbox(routes=["runway"], export=True) as env:
        for args in (
            ["--media-dir", blocker / "final"],
            ["--timeline", tmp_path / "draft.otio", "-o", blocker / "final.otio"],
        ):
            code, _, err = run(capsys, "promote", take_id, "--model", "gen-4.5", "--codec", "h264", *args)
            assert code == 2 and "is a file, not a folder" in err and err.count("\n") == 1
        assert env.fakes["runway"].creates == 0
    assert [j.id for j in Journal.open_default().jobs()] == [draft_job.id]


def test_the_output_folder_must_exist_and_the_media_folder_is_made(tmp_path, capsys, cut):
    code, _, err = run(capsys, "fill", cut, "-o", tmp_path / "x.otio", "--dry-run")
    assert code == 0 and not (tmp_path / "x_media").exists()
    out = tmp_path / "new" / "filled.otio"
    with sandbox(routes=["runway"], export=True) as env:
        code, _, err = run(
            capsys, "fill", cut, "-o", out, "--model", "gen-4.5", "--codec", "h264", "--media-dir", tmp_path / "media"
        )
        assert code == 2 and f"The folder of the output {out.parent} does not exist" in err
        assert env.fakes["runway"].creates == 0 and not (tmp_path / "media").exists()
    out.parent.mkdir()
    code, _, err = run(
        capsys, "fill", cut, "-o", out, "--model", "draft", "--codec", "h264", "--media-dir", tmp_path / "media" / "sub"
    )
    assert code == 0, err
    assert os.listdir(tmp_path / "media" / "sub")
