"""Audio with the real ffmpeg: the source's kept (tempo follows a speed change), silence when it has none,
each exactly as long as the picture, to the sample."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

from promptreel.core.conform.execute import conform, execute
from promptreel.core.conform.plan import plan_conform
from promptreel.core.conform.probe import probe
from promptreel.core.conform.target import Target
from promptreel.core.errors import UnsupportedRequest


def _audio(path) -> tuple[int, int, bool]:
    """(samples, channels, silent) of the first audio stream, decoded."""
    samples, channels, silent = 0, 0, True
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            samples += frame.samples
            channels = len(frame.layout.channels)
            silent = silent and not any(any(bytes(p)) for p in frame.planes)
    return samples, channels, silent


@pytest.mark.parametrize("frames, rate, channels", [(25, "30000/1001", 2), (7, "24", 1), (12, "25", 16)])
def test_silence_of_exactly_the_clips_length_when_the_source_has_none(clips, tmp_path, frames, rate, channels):
    target = Target(frames=frames, rate=rate, size="320x180", audio_channels=channels)
    plan = plan_conform(probe(clips["25"]), target)  # made without audio
    assert plan.silent_audio and "silence (the source has none)" in "\n".join(plan.describe())
    out = execute(plan, tmp_path / "out.mov")
    assert (out.audio[0].rate, out.audio[0].channels, out.audio[0].codec) == (48000, channels, "pcm_s24le")
    assert _audio(out.path) == (round(Fraction(frames) / Fraction(rate) * 48000), channels, True)


def test_source_audio_is_kept_and_follows_a_speed_change(clips, tmp_path):
    target = Target(frames=30, rate="25", size="320x180")  # 24 -> 25: speed change, audio tempo 25/24
    plan = plan_conform(probe(clips["24"]), target)
    assert plan.strategy == "speed" and plan.tempo == Fraction(25, 24) and not plan.silent_audio
    out = execute(plan, tmp_path / "out.mov")
    assert _audio(out.path) == (round(Fraction(30, 25) * 48000), 2, False)


def test_channel_counts_ffmpeg_cannot_mix_into_are_refused(clips, tmp_path):
    for channels in (9, 11, 13, 15):
        with pytest.raises(UnsupportedRequest, match=f"into {channels} channels.*Use {channels - 1} or {channels + 1}"):
            Target(frames=5, rate="24", size="320x180", audio_channels=channels)
    target = Target(frames=5, rate="24", size="320x180", audio_channels=6)  # mono source mixed into 5.1
    assert conform(clips["24"], tmp_path / "out.mov", target).audio[0].channels == 6


def test_no_audio_when_the_target_asks_for_none(clips, tmp_path):
    for source in ("24", "25"):
        target = Target(frames=5, rate="24", size="320x180", audio_channels=0)
        plan = plan_conform(probe(clips[source]), target)
        assert not plan.has_audio and "Audio: none" in "\n".join(plan.describe())
        assert conform(clips[source], tmp_path / f"{source}.mov", target).audio == ()
