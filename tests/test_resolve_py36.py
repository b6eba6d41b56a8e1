"""Code that runs inside Resolve (the bridge and the Scripts-menu entry) is standard library only,
imports nothing of promptreel, and is valid Python 3.6."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from promptreel.install.entry import render
from tests.fakes.bridge import connect_when_ready

BRIDGE = Path(__file__).resolve().parents[1] / "resolve_plugin" / "bridge"
# Standard-library modules that Python 3.6 does not have.
NEWER = {"dataclasses", "contextvars", "zoneinfo", "graphlib", "tomllib", "importlib.resources", "importlib.metadata"}
NEWER_NAMES = {"capture_output", "create_server", "breakpoint", "removeprefix", "removesuffix", "isascii"}


def _sources():
    out = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(BRIDGE.glob("*.py"))]
    out.append(("entry", render(python=sys.executable, bridge=str(BRIDGE), data="/tmp/x")))
    return out


@pytest.mark.parametrize("name, source", _sources(), ids=[n for n, _ in _sources()])
def test_runs_on_python_36(name, source):
    tree = ast.parse(source, feature_version=(3, 6))
    for node in ast.walk(tree):
        assert not isinstance(node, ast.NamedExpr), f"{name}: walrus"
        assert not isinstance(node, ast.AnnAssign), f"{name}:{node.lineno}: variable annotation"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            assert not args.posonlyargs, f"{name}: positional-only parameters"
            assert all(a.annotation is None for a in args.args + args.kwonlyargs), f"{name}: annotations"
            assert getattr(node, "returns", None) is None, f"{name}: return annotation"
        if isinstance(node, ast.ImportFrom):
            assert node.module != "__future__", f"{name}: __future__ import (annotations is 3.7+)"
            if node.level == 0:
                _check_module(name, node.module)
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_module(name, alias.name)
        if isinstance(node, ast.JoinedStr):
            segment = ast.get_source_segment(source, node) or ""
            assert not re.search(r"=\s*(![rsa])?(:[^}]*)?}", segment), f"{name}: f-string '=' is 3.8+"
        if isinstance(node, ast.keyword):
            assert node.arg not in NEWER_NAMES, f"{name}: {node.arg}= is newer than 3.6"
        if isinstance(node, ast.Attribute):
            assert node.attr not in NEWER_NAMES, f"{name}: .{node.attr} is newer than 3.6"


def _check_module(name, module):
    top = module.split(".")[0]
    if top == "promptreel_bridge":
        return  # the entry loads the bridge by path under this name
    assert top in sys.stdlib_module_names, f"{name}: imports {module}, which is not in the standard library"
    assert module not in NEWER and top not in NEWER, f"{name}: {module} is newer than Python 3.6"


def test_checker_catches_newer_syntax():
    with pytest.raises(AssertionError):
        test_runs_on_python_36("x", "def f(a: int):\n    return a\n")
    with pytest.raises(AssertionError):
        test_runs_on_python_36("x", "import dataclasses\n")
    with pytest.raises((AssertionError, SyntaxError)):
        test_runs_on_python_36("x", "x = 1\ny = f'{x=}'\n")
    with pytest.raises((AssertionError, SyntaxError)):
        test_runs_on_python_36("x", "if (n := 1):\n    pass\n")


def _old_python():
    """A Python 3.6 (or 3.7) interpreter on PATH or under pyenv, the oldest Resolve may use."""
    import shutil

    pyenv = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "versions"
    for minor in ("3.6", "3.7"):
        candidates = [shutil.which(f"python{minor}")]
        candidates += sorted(str(p) for p in pyenv.glob(f"{minor}.*/bin/python{minor}"))
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
                return found
    return None


_STUB_RESOLVE = """
class Resolve(object):  # the least of Resolve: enough for hello, no project open
    def GetProductName(self): return "DaVinci Resolve"
    def GetVersion(self): return [21, 0, 4, 7, ""]
    def GetCurrentPage(self): return "edit"
    def GetProjectManager(self): return None
import sys
print(sys.version_info[:2], flush=True)
source = open({entry!r}).read()
exec(compile(source, "promptreel.py", "exec"), {{"resolve": Resolve(), "__name__": "__main__"}})
"""


@pytest.mark.skipif(_old_python() is None, reason="no Python 3.6 or 3.7 on this machine")
def test_the_entry_and_bridge_run_on_an_old_python(tmp_path):
    from promptreel.install import scripts
    from promptreel.resolve_plugin.bridge.client import BridgeError

    scripts.install(tmp_path / "Scripts", python=sys.executable, data=tmp_path / "data")
    entry = tmp_path / "Scripts" / "Utility" / "promptreel.py"
    env = {**os.environ, "PROMPTREEL_NO_BROWSER": "1"}
    proc = subprocess.Popen(
        [_old_python(), "-c", _STUB_RESOLVE.format(entry=str(entry))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = connect_when_ready(proc, tmp_path / "data" / "bridge.json")
        assert client.call("hello")["product"] == "DaVinci Resolve"
        with pytest.raises(BridgeError) as e:
            client.call("project")
        assert e.value.code == "no_project"
        client.call("shutdown")
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert out.startswith("(3, 6)") or out.startswith("(3, 7)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
