"""Media made once per test session for the conform tests (small: 320x180, at most 2 s)."""

from __future__ import annotations

import pytest

from tests.conform import media


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("conform-media")
    made = {
        "24": media.clip(d / "src24.mp4", "24", 2),
        "30": media.clip(d / "src30.mp4", "30", 1),
        "25": media.clip(d / "src25.mp4", "25", 2, audio=False),
        "16": media.clip(d / "src16.mp4", "16", 2, audio=False),
        "vfr": media.vfr(d / "vfr.mp4"),
        "dup": media.clip(d / "dup.mp4", "24", 1, audio=False, vf=[("tpad", {"stop": 1, "stop_mode": "clone"})]),
        "dup_b": media.clip(
            d / "dup_b.mp4",
            "24",
            1,
            audio=False,
            vf=[("tpad", {"stop": 1, "stop_mode": "clone"})],
            out={"bf": 3, "preset": "medium"},
        ),
        "halves": media.halves(d / "halves.mp4"),
        "full": media.halves(d / "full.mp4", full_range=True),
        "bars_full": media.bars(d / "bars_full.mp4", full_range=True),
        "bars": media.bars(d / "bars.mp4"),
        "pq": media.hdr(d / "pq.mp4", "smpte2084"),
        "hlg": media.hdr(d / "hlg.mp4", "arib-std-b67"),
    }
    made["short"] = media.short_last_frame(media.clip(d / "plain.mp4", "24", 1, audio=False), d / "short.mp4")
    made["rotated"] = media.rotated(made["halves"], d / "rotated.mp4")
    return made
