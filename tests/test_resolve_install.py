"""Installing the Scripts-menu entry into fake homes laid out as macOS, Windows and Linux, and running it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from promptreel.core.errors import BadInput
from promptreel.install import scripts
from promptreel.resolve_plugin.doctor import resolve_checks
from tests.fakes.bridge import connect_when_ready

ROOT = Path(__file__).resolve().parents[1]


def _layout(system, tmp_path, all_users):
    home = tmp_path / "home"
    env = {"APPDATA": str(tmp_path / "Users/ed/AppData/Roaming"), "PROGRAMDATA": str(tmp_path / "ProgramData")}
    return scripts.scripts_dir(system, all_users=all_users, home=home, env=env, root=tmp_path / "root")


@pytest.mark.parametrize(
    "system, all_users, tail",
    [
        ("macos", False, "home/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
        ("macos", True, "root/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
        ("windows", False, "Users/ed/AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"),
        ("windows", True, "ProgramData/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
        ("linux", False, "home/.local/share/DaVinciResolve/Fusion/Scripts"),
        ("linux", True, "root/opt/resolve/Fusion/Scripts"),
    ],
)
def test_install_uninstall_per_os_layout(tmp_path, system, all_users, tail):
    folder = _layout(system, tmp_path, all_users)
    assert folder == tmp_path / tail
    actions = scripts.install(folder, python="/envs/promptreel/bin/python", data=tmp_path / "data")
    assert [a.what for a in actions] == ["written", "written"]
    edit = folder / "Edit" / "promptreel.py"
    assert edit.read_text() == (folder / "Utility" / "promptreel.py").read_text()
    assert "PYTHON = '/envs/promptreel/bin/python'" in edit.read_text()
    assert scripts.installed(folder)
    assert [a.what for a in scripts.install(folder, python="/envs/promptreel/bin/python", data=tmp_path / "data")] == [
        "unchanged",
        "unchanged",
    ]
    assert [a.what for a in scripts.install(folder, python="/other/python", data=tmp_path / "data")] == [
        "updated",
        "updated",
    ]
    assert [a.what for a in scripts.uninstall(folder)] == ["removed", "removed"]
    assert not edit.exists() and not scripts.installed(folder)
    assert [a.what for a in scripts.uninstall(folder)] == ["absent", "absent"]


def test_never_overwrites_a_file_it_did_not_write(tmp_path):
    folder = tmp_path / "Scripts"
    theirs = folder / "Utility" / "promptreel.py"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("print('mine')\n")
    with pytest.raises(BadInput, match="not written by promptreel"):
        scripts.install(folder)
    assert theirs.read_text() == "print('mine')\n"
    assert not (folder / "Edit" / "promptreel.py").exists()  # nothing installed at all
    scripts.uninstall(folder)
    assert theirs.exists()


def test_windows_without_appdata_is_a_clear_error(tmp_path):
    with pytest.raises(BadInput, match="--scripts-dir"):
        scripts.scripts_dir("windows", env={})


_AS_RESOLVE = """
import sys
sys.path.insert(0, {root!r})
from tests.fakes.resolve import cut_with_placeholders
resolve, _ = cut_with_placeholders()
source = open({entry!r}).read()
exec(compile(source, "promptreel.py", "exec"), {{"resolve": resolve, "__name__": "__main__"}})
"""


def test_the_entry_runs_as_resolve_runs_it_and_doctor_finds_the_bridge(tmp_path):
    folder, data = tmp_path / "Scripts", tmp_path / "data"
    scripts.install(folder, python=sys.executable, data=data)
    entry = folder / "Utility" / "promptreel.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", _AS_RESOLVE.format(root=str(ROOT), entry=str(entry))],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROMPTREEL_NO_BROWSER": "1"},
    )
    try:
        session = data / "bridge.json"
        client = connect_when_ready(proc, session)
        checks, decision = resolve_checks(external=None, bridge=client, scripts_folder=folder)
        assert (decision.mode, decision.route) == ("connected", "bridge")
        assert all(c.ok for c in checks if c.name in ("Scripts entry", "Bridge"))
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        for _ in range(300):  # the worker connects, then serves the panel and says where
            if any("promptreel: panel at http://127.0.0.1:" in line for line in lines) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert any("panel at" in line for line in lines), proc.stderr.read() if proc.poll() is not None else lines
        assert client.call("shutdown") == {"stopping": True}
        assert proc.wait(30) == 0
        assert not session.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
