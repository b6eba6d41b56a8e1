"""`promptreel takes --sheet FILE.png|FILE.html`: a contact sheet of a shot's takes (or every take),
each take's middle frame made once with ffmpeg and cached beside its clip."""

from __future__ import annotations

import base64
import re
from fractions import Fraction

import av

from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.request import Slot
from promptreel.core.slots import FillSettings, fill_slots_sync
from promptreel.core.takes import list_takes, record_takes, take_slots

SLOT = Slot(frames=20, rate=Fraction(24), size="320x180", prompt="a lighthouse keeper lights the lamp", name="SH010")


def _two_takes(tmp_path):
    clips = fill_slots_sync(take_slots(SLOT, ["draft"], variants=2), FillSettings(output_dir=tmp_path / "media"))
    assert all(c.ok for c in clips)
    journal = Journal.open_default()
    record_takes(journal, "SH010", clips, "variants")
    return list_takes(journal, shot="SH010")


def test_html_sheet_shows_each_take_with_its_model_seed_and_cost(tmp_path, capsys):
    made = _two_takes(tmp_path)
    out = tmp_path / "sheet.html"
    assert main(["takes", "SH010", "--sheet", str(out)]) == 0
    assert f"Contact sheet: {out}" in capsys.readouterr().out
    page = out.read_text("utf-8")
    pictures = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert len(pictures) == 2 and all(base64.b64decode(p)[:2] == b"\xff\xd8" for p in pictures)  # JPEGs inline
    for t in made:
        assert f"seed {t.seed} · $0.00" in page
        assert t.path.with_name(f"{t.path.stem}.thumb.jpg").is_file()  # cached beside the clip
    assert page.count("SH010 — draft") == 2


def test_png_sheet_puts_the_takes_side_by_side(tmp_path, capsys):
    _two_takes(tmp_path)
    out = tmp_path / "sheet.png"
    assert main(["takes", "--sheet", str(out)]) == 0
    with av.open(str(out)) as f:
        frame = next(f.decode(video=0))
    assert (frame.width, frame.height) == (640, 180)  # two 320x180 cells in one row


def test_a_sheet_of_another_kind_is_refused_and_nothing_is_written(tmp_path, capsys):
    _two_takes(tmp_path)
    made = list_takes(Journal.open_default(), shot="SH010")
    assert main(["takes", "--choose", made[1].id, "--sheet", str(tmp_path / "sheet.pdf")]) == 2
    err = capsys.readouterr().err
    assert "Name it SHEET.png or SHEET.html." in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sheet.pdf").exists()
    assert not any(t.chosen for t in list_takes(Journal.open_default(), shot="SH010"))  # nothing changed
