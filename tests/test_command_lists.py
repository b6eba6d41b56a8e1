"""The commands are registered once, as `promptreel.commands` entry points (pyproject.toml); the help's
one-line summaries and the README's command table must list exactly those. Reading each command's own
docstring for the help instead would cost `promptreel --help` its fast start, so the two copies are held
to the one list here."""

from __future__ import annotations

import re
from importlib.metadata import entry_points, version
from pathlib import Path

from click.testing import CliRunner

from promptreel.core import __version__
from promptreel.core.cli import SUMMARIES, cli

ROOT = Path(__file__).resolve().parent.parent


def _registered() -> set[str]:
    return {ep.name for ep in entry_points(group="promptreel.commands")}


def test_every_command_has_a_summary_and_every_summary_a_command():
    assert set(SUMMARIES) == _registered()


def test_the_readme_documents_exactly_the_registered_commands():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Command line") :]
    assert set(re.findall(r"^\| `promptreel ([a-z]+)", table, re.M)) == _registered()


def test_the_help_lists_each_command_with_its_summary():
    out = CliRunner().invoke(cli, ["--help"]).output
    for name, summary in SUMMARIES.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(summary[:30])}", out, re.M), name


def test_the_version_is_the_package_metadatas():
    out = CliRunner().invoke(cli, ["--version"]).output
    assert __version__ == version("promptreel") and version("promptreel") in out
