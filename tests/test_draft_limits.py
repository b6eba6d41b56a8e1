"""The draft model has an upper bound: a draft past an hour, or bigger than the free disk, is refused
at planning time with its estimate (time and bytes), so scan, fill and generate all refuse before
anything renders, unless long drafts are allowed; a draft that takes a while gets the estimate as a note."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import write_cut

from promptreel.core.catalog import Size, default_catalog
from promptreel.core.cli import main
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.plan import plan_slot
from promptreel.core.providers.draft import MAX_SECONDS, estimate_draft
from promptreel.core.request import GenerationRequest, Slot
from promptreel.core.settings import Settings

HUGE = 10**12  # frames: a typo'd length that would render until the disk fills


def slot(frames, rate=Fraction(24), size="1920x1080"):
    return Slot(frames=frames, rate=rate, size=Size.parse(size), bit_depth=8, prompt="a harbour at dawn")


def draft():
    return default_catalog().get("draft")


def test_the_estimate_names_frames_length_time_and_bytes():
    est = estimate_draft(
        GenerationRequest(prompt="p", model="draft", frames=86_400, fps=Fraction(24), size="1920x1080")
    )
    assert est.seconds == 3600 and 5e8 < est.bytes < 2e9 and 3600 <= est.render_seconds <= 3 * 3600
    text = est.describe()
    assert text.startswith("86,400 frames (1 h at 24 fps, 1920x1080): about ") and " MB of disk" in text
    # Seconds-only requests are measured as the draft renders them: whole seconds at the rate.
    assert (
        estimate_draft(GenerationRequest(prompt="p", model="draft", seconds=5, fps=Fraction(24000, 1001))).frames == 120
    )


def test_a_huge_placeholder_is_refused_at_planning_with_the_estimate():
    with pytest.raises(UnsupportedRequest) as e:
        plan_slot(slot(HUGE), draft())
    message = str(e.value)
    assert "1,000,000,000,000 frames" in message and "to render" in message and " TB of disk" in message
    assert "drafts stop at 1 h" in message and "--allow-long-draft" in message and "allow_long_draft" in message


def test_an_hour_is_the_limit():
    plan_slot(slot(MAX_SECONDS * 24), draft(), settings=Settings(output_dir=None))  # exactly an hour plans
    with pytest.raises(UnsupportedRequest):
        plan_slot(slot(MAX_SECONDS * 24 + 1), draft())


def test_bigger_than_the_free_disk_is_refused(tmp_path):
    # Under an hour, at a size and rate that need twice this disk's free space.
    free = shutil.disk_usage(tmp_path).free
    one_second = estimate_draft(
        GenerationRequest(prompt="p", model="draft", frames=1, fps=Fraction(1), size="8192x8192")
    ).bytes
    rate = -(-2 * free // (59 * 60 * one_second))
    big = slot(59 * 60 * rate, Fraction(rate), "8192x8192")
    assert estimate_draft(plan_slot(big, draft(), settings=Settings(allow_long_draft=True)).request).bytes > free
    with pytest.raises(UnsupportedRequest) as e:
        plan_slot(big, draft(), settings=Settings(output_dir=tmp_path / "media"))
    assert f"{tmp_path / 'media'} has " in str(e.value) and "free" in str(e.value)


def test_allowed_long_drafts_plan_with_the_estimate_as_a_note():
    planned = plan_slot(slot(HUGE), draft(), settings=Settings(allow_long_draft=True))
    assert planned.request.frames == HUGE
    assert len(planned.warnings) == 1 and "1,000,000,000,000 frames" in planned.warnings[0]


def test_the_setting_is_read_from_settings_toml(isolated_home):
    (isolated_home / "settings.toml").write_text("allow_long_draft = true\n", encoding="utf-8")
    assert plan_slot(slot(HUGE), draft()).request.frames == HUGE


def test_ordinary_drafts_plan_without_a_note_or_reading_settings(isolated_home):
    model = draft()
    (isolated_home / "settings.toml").write_text("not = [valid", encoding="utf-8")  # would raise if read
    assert plan_slot(slot(48), model).warnings == []


def _huge_cut(tmp_path):
    rt = otio.opentime.RationalTime
    gap = otio.schema.Gap(name="GEN: a harbour at dawn", source_range=otio.opentime.TimeRange(rt(0, 24), rt(HUGE, 24)))
    return write_cut(tmp_path / "cut.otio", [gap])


def test_scan_shows_the_refusal(tmp_path, capsys):
    assert main(["scan", str(_huge_cut(tmp_path)), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["placeholders"][0]
    assert "drafts stop at 1 h" in row["error"] and "to render" in row["error"]


def test_fill_refuses_before_anything_renders(tmp_path, capsys, isolated_home):
    cut = _huge_cut(tmp_path)
    before = cut.read_bytes()
    code = main(["fill", str(cut), "-o", str(tmp_path / "filled.otio")])
    err = capsys.readouterr().err
    assert code == 4 and "cannot be made" in err and "drafts stop at 1 h" in err and "Traceback" not in err
    assert cut.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cut.otio"]
    journal = Journal(isolated_home / "journal.sqlite")
    try:
        assert journal.jobs() == []
    finally:
        journal.close()


def test_generate_refuses_and_the_flag_lets_it_through(tmp_path, capsys, isolated_home):
    args = ["generate", "a harbour at dawn", "--frames", "100000", "--fps", "24"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "100,000 frames" in err and "--allow-long-draft" in err and "Traceback" not in err
    # With the flag the plan passes and its note shows the estimate; then the render starts, so the run
    # is killed (its whole process group: ffmpeg too) as soon as the note is out.
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptreel.core.cli", *args, "--allow-long-draft", "--out", str(tmp_path)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        first = proc.stderr.readline()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert first.startswith("note: The draft is 100,000 frames (1 h 10 min at 24 fps, 1920x1080): about ")
