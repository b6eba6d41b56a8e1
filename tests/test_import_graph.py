"""The promptreel package's import graph has no cycle, and no module imports another's private name.

Read from the source with `ast`, so every import counts: at module level, inside functions (an import
deferred into a function to dodge a cycle is still the cycle) and under `if TYPE_CHECKING:` (an import for
annotations only is still a dependency: the two modules still cannot be understood one without the other).
"""

from __future__ import annotations

import ast

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dirs() -> dict[str, Path]:
    """Import name -> folder, as pyproject.toml maps them (`promptreel.core` = `core`, ...)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {name: ROOT / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()}


def sources(dirs: dict[str, Path]) -> dict[str, tuple[str, bool]]:
    """Module name -> (source, is a package's __init__) for every .py file under the package folders."""
    out = {}
    for name, folder in dirs.items():
        for path in sorted(folder.rglob("*.py")):
            if ".venv" in path.parts:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            init = parts[-1] == "__init__"
            out[".".join([name, *(parts[:-1] if init else parts)])] = (path.read_text(encoding="utf-8"), init)
    return out


def imports(module: str, source: str, is_package: bool, known: set[str]) -> list[tuple[str, str | None]]:
    """(module imported, the name taken from it or None) for each import in `source`, at any depth."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for a in node.names:
                # `from . import store` imports the module store; `from .store import open` a name of it.
                out.append((f"{base}.{a.name}", None) if f"{base}.{a.name}" in known else (base, a.name))
    return out


def graph(mods: dict[str, tuple[str, bool]]) -> tuple[dict[str, set[str]], list[str]]:
    """(module -> the promptreel modules it imports, "module imports _name from other" for each private name)."""
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    private = []
    for module, (source, is_package) in mods.items():
        for target, name in imports(module, source, is_package, known):
            if target not in known or target == module:
                continue
            edges[module].add(target)
            if name is not None and name.startswith("_") and not name.startswith("__"):
                private.append(f"{module} imports {name} from {target}")
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle of the graph, as the modules along it (first one repeated at the end): one per
    strongly connected component of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    components.append(set(component))
    return [_path_through(c, edges) for c in components]


def _path_through(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle inside a strongly connected component: from its first module back to it."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth-first, so the cycle named is a shortest one through `start`
        nxt = []
        for node in frontier:
            for child in sorted(edges[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")


def test_the_checker_finds_a_cycle_at_any_depth_and_names_it():
    mods = {
        "p.a": ("from .b import f\n", False),
        "p.b": ("def g():\n    from . import c\n", False),
        "p.c": ("import p.a\n", False),
        "p.d": ("from .a import f\n", False),
    }
    edges, _ = graph(mods)
    assert cycles(edges) == [["p.a", "p.b", "p.c", "p.a"]]
    # An import for annotations only is still the cycle.
    mods["p.c"] = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.a import X\n", False)
    assert cycles(graph(mods)[0]) == [["p.a", "p.b", "p.c", "p.a"]]
    # Without it, none.
    mods["p.c"] = ("from typing import TYPE_CHECKING\n", False)
    assert cycles(graph(mods)[0]) == []


def test_the_checker_finds_private_names_taken_from_another_module():
    mods = {
        "p": ("", True),
        "p.a": ("from .b import _hidden, shown\n", False),
        "p.b": ("_hidden = 1\nshown = 2\n", False),
        "p.sub": ("", True),
        "p.sub.c": (
            "import typing\nif typing.TYPE_CHECKING:\n    from ..b import _hidden as h\nfrom . import d\n",
            False,
        ),
        "p.sub.d": ("from __future__ import annotations\n", False),
    }
    _, private = graph(mods)
    assert private == ["p.a imports _hidden from p.b", "p.sub.c imports _hidden from p.b"]


def test_promptreel_has_no_import_cycle():
    edges, _ = graph(sources(package_dirs()))
    assert len(edges) > 100  # every folder was read
    found = cycles(edges)
    assert found == [], "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_no_module_imports_a_private_name_of_another():
    _, private = graph(sources(package_dirs()))
    assert private == [], "private names imported across modules: " + "; ".join(private)
