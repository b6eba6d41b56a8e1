"""The layering docs/architecture.md sets: resolve_plugin may import only core (file mode fills through core's
timeline domain, core/timeline/), and the bridge imports nothing of promptreel."""

from __future__ import annotations

import ast
from pathlib import Path

import opentimelineio as otio

ROOT = Path(__file__).resolve().parents[1]


def imported(source: str, package: str) -> set[str]:
    """Every module `source` imports (absolute, relative from `package`, at any depth, or named as a
    string to importlib), as absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("promptreel."):
            names.add(node.value)
    return names


def _modules(folder: str):
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        package = "promptreel." + ".".join(rel.parts[:-1])  # a module's package, or __init__'s own
        yield path, package, imported(path.read_text(encoding="utf-8"), package)


def test_the_checker_sees_every_way_of_importing():
    pkg = "promptreel.resolve_plugin"
    assert "promptreel.otio_adapters.fill" in imported("from promptreel.otio_adapters.fill import x", pkg)
    assert "promptreel.otio_adapters" in imported("def f():\n    from ..otio_adapters import fill\n", pkg)
    assert "promptreel.otio_adapters.x" in imported(
        "import importlib\nimportlib.import_module('promptreel.otio_adapters.x')", pkg
    )
    assert "promptreel.core.errors" in imported("from ..core.errors import UserError", pkg)
    assert "promptreel.resolve_plugin.bridge.ops" in imported("from .ops import CLIP_COLORS", pkg + ".bridge")


def test_resolve_plugin_imports_nothing_of_otio_adapters():
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in names if n.startswith("promptreel.otio_adapters"))
        for path, _, names in _modules("resolve_plugin")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_bridge_imports_nothing_of_promptreel():
    for path, _, names in _modules("resolve_plugin/bridge"):
        ours = {n for n in names if n.startswith("promptreel") and not n.startswith("promptreel.resolve_plugin.bridge")}
        assert ours == set(), path


def test_core_imports_neither_plugin():
    for path, _, names in _modules("core"):
        assert not {n for n in names if n.startswith(("promptreel.otio_adapters", "promptreel.resolve_plugin"))}, path


def test_file_mode_fills_through_the_timeline_domain_and_runs_no_otio_hooks():
    (names,) = [names for path, _, names in _modules("resolve_plugin") if path.name == "filemode.py"]
    assert {"promptreel.core.timeline.fill", "promptreel.core.timeline.filler"} <= names
    assert [str(p.relative_to(ROOT)) for p, *_ in _modules("resolve_plugin") if "hooks.run" in p.read_text()] == []


def test_the_otio_hooks_stay_registered_for_otio_pipelines():
    hooks = otio.plugins.ActiveManifest().hooks
    assert list(hooks["promptreel_scan"]) == ["promptreel_scan"]
    assert list(hooks["promptreel_fill"]) == ["promptreel_fill"]
