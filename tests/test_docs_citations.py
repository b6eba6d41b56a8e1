"""Every citation in the code points inside the repository, and docs/resolve-quirks.md does not go stale.

A Resolve quirk cited by number (`QUIRK 5`, `quirks 3, 4`, `docs/resolve-quirks.md #5`) must have its
entry in docs/resolve-quirks.md; no comment may send a reader to a document the repository does not
hold (the design notes and reference files the project was first written from). Each entry's
"Handled in" and "Imitated by" must name files, functions and tests that exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUIRKS = ROOT / "docs" / "resolve-quirks.md"
THIS = Path(__file__).resolve()

# "quirk 5", "QUIRK 11", "quirks 3, 4, 5", "quirks 6 and 13", "docs/resolve-quirks.md #7"
CITED = re.compile(r"(?i)\bquirks?\s+(\d+(?:(?:\s*,\s*|\s+and\s+)\d+)*)|resolve-quirks\.md\s*#(\d+)")
# Documents outside the repository: the shared reference notes and the design card they sat beside.
OUTSIDE = re.compile(
    r"\.\./shared|/work/shared|(?<![\w/-])reference/|\breference-full\b|\bresolve-api[\w-]*\.md"
    r"|\b(?:otio|providers|models-\d{4}-\d{2})\.md\b|\(reference:|\bReference:"
)
IN_DOCS = {"DESIGN.md", "STYLE.md"}


def _sources() -> list[Path]:
    """The code, tests and data of the repository (its top-level folders, as pyproject.toml lays them out)."""
    return sorted(
        p
        for folder in ("core", "otio_adapters", "resolve_plugin", "install", "tests", "bench")
        for suffix in ("*.py", "*.js", "*.html", "*.toml")
        for p in (ROOT / folder).rglob(suffix)
        if p.resolve() != THIS and "__pycache__" not in p.parts
    )


def _entries() -> dict[int, str]:
    text = QUIRKS.read_text()
    heads = list(re.finditer(r"^## (\d+)\. .*$", text, re.M))
    return {
        int(h.group(1)): text[h.start() : (heads[i + 1].start() if i + 1 < len(heads) else len(text))]
        for i, h in enumerate(heads)
    }


def _citations(text: str) -> list[tuple[int, int]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in CITED.finditer(line):
            out += [(n, int(x)) for x in re.findall(r"\d+", m.group(1) or m.group(2))]
    return out


def test_the_quirks_are_numbered_once_and_in_order():
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", QUIRKS.read_text(), re.M)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_cited_quirk_has_its_entry():
    entries = _entries()
    missing = [
        f"{p.relative_to(ROOT)}:{line} cites quirk {n}"
        for p in _sources()
        for line, n in _citations(p.read_text(errors="replace"))
        if n not in entries
    ]
    assert missing == [], "\n".join(missing)


def test_no_comment_cites_a_document_outside_the_repository():
    found = []
    for p in _sources():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
            found += [
                f"{p.relative_to(ROOT)}:{n}: {doc} is not in the repository"
                for doc in re.findall(r"\bdocs/[\w.-]+\.md\b", line)
                if not (ROOT / doc).is_file()
            ]
            for name in re.findall(r"\b([A-Z]+\.md)\b", line):
                if name in IN_DOCS and not (ROOT / "docs" / name).is_file() and not (ROOT / name).is_file():
                    found.append(f"{p.relative_to(ROOT)}:{n}: {name} is not in the repository")
    assert found == [], "\n".join(found)


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_every_file_function_and_test_the_quirks_name_exists():
    text = QUIRKS.read_text()
    stale = []
    for path, name in re.findall(
        r"`((?:core|otio_adapters|resolve_plugin|install|tests)/[\w/.]*?)(?:(?::|::)(\w+))?`", text
    ):
        target = ROOT / path
        if not target.exists():
            stale.append(f"{path} does not exist")
        elif name and target.suffix == ".py" and name not in _defined(target):
            stale.append(f"{path} has no {name}")
    assert stale == [], "\n".join(stale)


@pytest.mark.parametrize(
    "line, cited",
    [
        ("# QUIRK 5: a source at another rate lands a frame short", [5]),
        ("(quirks 3, 4, 5: AppendToTimeline drops", [3, 4, 5]),
        ("fails too (quirks 6 and 13).", [6, 13]),
        ("# see docs/resolve-quirks.md #24", [24]),
    ],
)
def test_citations_are_read_in_every_form_the_code_uses(line, cited):
    assert [n for _, n in _citations(line)] == cited


@pytest.mark.parametrize(
    "line",
    [
        "# as reference/resolve-api.md says",
        "see ../shared/DESIGN.md",
        '(reference-full 2.7 "Takes")',
        '(reference: "Getting resolve")',
    ],
)
def test_outside_documents_are_recognised(line):
    assert OUTSIDE.search(line) or re.search(r"\bDESIGN\.md\b", line)
