"""Terminal tables never cut what a user types: `promptreel models` shows every model id whole at any
width (less important columns are left out first, and the table says which), and no line is wider
than the terminal."""

from __future__ import annotations

import io

import pytest

from promptreel.core.catalog import default_catalog
from promptreel.core.cli import main
from promptreel.core.cli.tables import Col, fitted_table


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_models_shows_every_id_whole_at_any_width(width, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["models", "--all"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0] if "\n\n" in out else out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert rows and all(len(line) <= width for line in rows)
    firsts = {line.split("│")[1].strip() for line in rows}
    assert set(default_catalog().models) <= firsts  # each id whole, in its own cell
    assert "…" not in table
    if width <= 80:
        assert "not shown at this width:" in out


def test_when_even_the_ids_do_not_fit_each_row_becomes_lines():
    from rich.console import Console

    cols = [Col("model", "id"), Col("vendor", "extra"), Col("timecode", "id")]
    console = Console(width=30, record=True, file=io.StringIO())
    console.print(fitted_table("t", cols, [["veo-3.1-fast-generate-preview", "Google", "01:00:00:00"]], 30))
    lines = console.export_text().splitlines()
    assert all(len(line) <= 30 for line in lines)
    assert lines[1] + lines[2] == "model: veo-3.1-fast-generate-preview"  # wrapped, not cut
    assert "  timecode: 01:00:00:00" in lines
