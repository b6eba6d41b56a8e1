"""The Workflow Integration plugin (promptreel's panel docked in Resolve Studio): `resolve install` /
`uninstall` write and remove it in a given folder, and its entry (run by Node with a stand-in for
Electron's window, since Resolve is not here) finds the running worker, trades the token for a one-time
link and loads a page that is the panel, signed in, in Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptreel.core.cli import main
from promptreel.core.settings import home
from promptreel.install.workflow_plugin import PLUGIN_ID, plugins_dir
from promptreel.resolve_plugin.panel import Panel
from promptreel.resolve_plugin.worker import announce, retire
from tests.test_resolve_browser import CHROMIUM_ARGS, _chromium

FAKE_ELECTRON = """
exports.app = { whenReady: () => Promise.resolve(), on: () => {}, quit: () => {} };
exports.BrowserWindow = class { loadURL(url) { console.log(url); process.exit(0); } };
"""


def test_install_and_uninstall_the_plugin_into_a_given_folder(tmp_path, capsys):
    scripts, plugins = tmp_path / "Scripts", tmp_path / "Workflow Integration Plugins"
    assert main(["resolve", "install", "--scripts-dir", str(scripts), "--plugins-dir", str(plugins)]) == 0
    folder = plugins / PLUGIN_ID
    assert sorted(p.name for p in folder.iterdir()) == ["main.js", "manifest.xml", "package.json", "promptreel.json"]
    manifest = (folder / "manifest.xml").read_text("utf-8")
    assert f"<Id>{PLUGIN_ID}</Id>" in manifest and "<FilePath>main.js</FilePath>" in manifest
    config = json.loads((folder / "promptreel.json").read_text("utf-8"))
    assert config == {"python": sys.executable, "session": str(home() / "panel-session.json")}
    assert "Workspace > Workflow Integrations > promptreel" in capsys.readouterr().out
    # Again: nothing changes; then uninstall removes exactly what it wrote.
    assert main(["resolve", "install", "--scripts-dir", str(scripts), "--plugins-dir", str(plugins)]) == 0
    assert capsys.readouterr().out.count("unchanged") == 6  # two script entries, four plugin files
    assert main(["resolve", "uninstall", "--scripts-dir", str(scripts), "--plugins-dir", str(plugins)]) == 0
    assert not folder.exists() and plugins.is_dir()


def test_a_folder_of_the_same_name_that_is_not_ours_is_left_alone(tmp_path, capsys):
    plugins = tmp_path / "plugins"
    (plugins / PLUGIN_ID).mkdir(parents=True)
    (plugins / PLUGIN_ID / "manifest.xml").write_text(
        "<BlackmagicDesign><Plugin><Id>someone.else</Id></Plugin></BlackmagicDesign>"
    )
    for command in ("install", "uninstall"):
        assert main(["resolve", command, "--scripts-dir", str(tmp_path / "s"), "--plugins-dir", str(plugins)]) == 2
        assert "is not promptreel's plugin" in capsys.readouterr().err
    assert (plugins / PLUGIN_ID / "manifest.xml").read_text().endswith("</BlackmagicDesign>")


def test_where_studio_looks_for_plugins_on_each_os(tmp_path):
    assert (
        plugins_dir("macos", root=tmp_path)
        == tmp_path / "Library/Application Support/Blackmagic Design/DaVinci Resolve/Workflow Integration Plugins"
    )
    assert plugins_dir("windows", env={"PROGRAMDATA": "C:/ProgramData"}) == Path(
        "C:/ProgramData/Blackmagic Design/DaVinci Resolve/Support/Workflow Integration Plugins"
    )
    assert plugins_dir("linux") is None  # Studio loads no Workflow Integration plugins there: the browser tab


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_plugins_page_is_the_panel_signed_in(tmp_path):
    executable = _chromium()
    plugins = tmp_path / "plugins"
    assert main(["resolve", "install", "--scripts-dir", str(tmp_path / "s"), "--plugins-dir", str(plugins)]) == 0
    folder = plugins / PLUGIN_ID
    (folder / "node_modules" / "electron").mkdir(parents=True)
    (folder / "node_modules" / "electron" / "index.js").write_text(FAKE_ELECTRON)
    panel = Panel(None, None, reason="Resolve did not answer.")
    panel.start()
    announce(panel)
    try:
        session = home() / "panel-session.json"
        assert session.stat().st_mode & 0o077 == 0  # the token is this user's only
        url = subprocess.run(
            ["node", str(folder / "main.js")], capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
        assert url.startswith(f"http://127.0.0.1:{panel.port}/?code=") and panel.token not in url
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("document.getElementById('mode').textContent === '(file)'")
            page.screenshot(path=str(tmp_path / "docked.png"), full_page=True)
            context.close()
    finally:
        retire(panel)
        panel.stop()
    assert not session.exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_with_no_worker_running_the_plugin_starts_one(tmp_path):
    import os
    import signal

    plugins = tmp_path / "plugins"
    assert main(["resolve", "install", "--scripts-dir", str(tmp_path / "s"), "--plugins-dir", str(plugins)]) == 0
    folder = plugins / PLUGIN_ID
    (folder / "node_modules" / "electron").mkdir(parents=True)
    (folder / "node_modules" / "electron" / "index.js").write_text(FAKE_ELECTRON)
    session = home() / "panel-session.json"
    session.write_text(json.dumps({"port": 9, "token": "stale"}))  # a worker that is gone
    url = subprocess.run(
        ["node", str(folder / "main.js")], capture_output=True, text=True, timeout=90, check=True
    ).stdout.strip()
    started = json.loads(session.read_text())
    try:
        assert started["token"] != "stale" and url.startswith(f"http://127.0.0.1:{started['port']}/?code=")
    finally:
        os.kill(started["pid"], signal.SIGTERM)  # the worker the plugin started (detached: it outlives node)
