"""Draft slates in any script: a Japanese (or other non-Latin) prompt is drawn with an installed font that
covers it, found through fontconfig, and wrapped by display width (wide characters take two columns,
no spaces needed); when no installed font covers a script the slate keeps the bundled font and says so."""

from __future__ import annotations

import dataclasses
import logging
import subprocess

import pytest

from promptreel.core.providers.draft import FONT, build_command, plan_draft
from promptreel.core.providers.slate_fonts import _fontconfig, columns, font_for, wrap
from promptreel.core.request import GenerationRequest
from tests.test_draft import frame_hashes

JAPANESE = "夜の東京、雨に濡れた交差点を傘をさした人々が渡る。ネオンが水たまりに映る。"
THAI = "แมวเดินบนหลังคาในคืนฝนตก"


def test_wide_characters_wrap_by_columns_without_spaces():
    lines = wrap(JAPANESE, 20)
    assert "".join(lines) == JAPANESE and len(lines) > 1
    assert all(columns(line) <= 20 for line in lines)
    assert wrap("寿司 and sake at 深夜", 8) == ["寿司 and", "sake at", "深夜"]
    assert font_for("a lighthouse at dusk, Ελλάδα, Москва").path == FONT  # the bundled font draws these


@pytest.mark.skipif(_fontconfig("夜東") is None, reason="no font covering Japanese is installed")
def test_a_japanese_prompt_is_drawn_with_a_font_that_has_its_glyphs(tmp_path):
    request = GenerationRequest(prompt=JAPANESE, size="640x360", frames=2, fps=24, tags={"shot": "東京 SH010"})
    plan = plan_draft(request)
    assert plan.font != FONT and plan.font_missing == ""
    width = 640 - 2 * max(4, 360 // 25)
    assert all(columns(line) * plan.prompt_font * 1233 / 2048 <= width for line in plan.prompt_lines)
    drawn = tmp_path / "drawn.mp4"
    boxes = tmp_path / "boxes.mp4"
    for plan_, dest in ((plan, drawn), (dataclasses.replace(plan, font=FONT), boxes)):
        subprocess.run(build_command(plan_, dest), check=True, capture_output=True)
    assert frame_hashes(drawn)[0] != frame_hashes(boxes)[0]  # the glyphs, not the bundled font's boxes


@pytest.mark.skipif(_fontconfig("แม") is not None, reason="a font covering Thai is installed here")
def test_a_script_no_installed_font_covers_is_said(caplog):
    with caplog.at_level(logging.WARNING, logger="promptreel.core.providers.draft"):
        plan = plan_draft(GenerationRequest(prompt=THAI, size="320x180", frames=2, fps=24))
    assert plan.font == FONT and set(plan.font_missing) <= set(THAI) and plan.font_missing
    assert "show as boxes" in caplog.text and "Install a font for that script" in caplog.text
