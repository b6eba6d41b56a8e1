"""Slots to exact clips through the real engine, the draft model and conform (real ffmpeg)."""

from fractions import Fraction

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import BudgetExceeded, UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.request import Slot
from promptreel.core.slots import FillSettings, fill_slots_sync

SLOTS = [
    Slot(frames=17, rate=Fraction(24000, 1001), size="320x180", prompt="a paper boat in the rain", name="SH010"),
    Slot(frames=30, rate=Fraction(25), size="320x136", prompt="the boat reaches the sea", name="SH020", bit_depth=10),
]


def test_every_slot_gets_an_exact_verified_clip(tmp_path):
    clips = fill_slots_sync(SLOTS, FillSettings(output_dir=tmp_path, start_timecode="01:00:00:00"))
    for slot, clip in zip(SLOTS, clips):
        assert clip.ok, clip.error
        info = probe(clip.path)
        assert (info.frames, info.rate, info.width, info.height) == (
            slot.frames,
            slot.rate,
            slot.size.width,
            slot.size.height,
        )
        assert info.pix_fmt == "yuv422p10le"  # ProRes 422 HQ, 10-bit by default
        assert clip.provenance.model == "draft" and clip.provenance.ai_generated is False
        assert clip.path.name.startswith(clip.provenance.job_id)  # named from the job, never from a provider


def test_second_fill_is_served_from_cache_and_reuses_the_conform(tmp_path):
    first = fill_slots_sync(SLOTS[:1], FillSettings(output_dir=tmp_path))
    again = fill_slots_sync(SLOTS[:1], FillSettings(output_dir=tmp_path))
    assert again[0].provenance.cached is True and again[0].provenance.cost == 0
    assert again[0].path == first[0].path  # the same take conformed to the same slot is reused, not redone
    assert probe(again[0].path).frames == probe(first[0].path).frames == SLOTS[0].frames


def test_refusals_change_nothing(tmp_path):
    too_long = Slot(frames=24 * 30, rate=Fraction(24), size="1920x1080", prompt="x")
    with pytest.raises(UnsupportedRequest):
        fill_slots_sync([SLOTS[0], too_long], FillSettings(output_dir=tmp_path, model="veo-3.1"))
    with pytest.raises(BudgetExceeded):
        fill_slots_sync(SLOTS[:1], FillSettings(output_dir=tmp_path, model="veo-3.1", budget=0.10))
    with pytest.raises(UnsupportedRequest, match="Veo 2 .veo-2. was shut down on 2026-06-30.*Use veo-3.1"):
        fill_slots_sync(SLOTS[:1], FillSettings(output_dir=tmp_path, model="veo-2"))
    assert Journal.open_default().jobs() == [] and not any(tmp_path.iterdir())
