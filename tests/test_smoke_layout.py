"""The package installs under one import name and the CLI answers."""

import subprocess
import sys


def test_subpackages_import_under_promptreel():
    import promptreel.core
    import promptreel.otio_adapters
    import promptreel.resolve_plugin

    assert promptreel.core.__name__ == "promptreel.core"


def test_no_top_level_core_module(tmp_path):
    # Run outside the checkout, where `core/` would be importable only by accident of the cwd.
    code = "import importlib.util; print(importlib.util.find_spec('core'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "None"


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "promptreel.core.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "generate" in out.stdout and "demo" in out.stdout
