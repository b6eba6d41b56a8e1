"""The conform matrix: timeline rates × source rates × slot lengths × size modes × codec families.

The full product is ~7,000 conforms; every pair of values (each rate with each codec, each size mode
with each source, ...) is what finds the bugs, so the cases are an all-pairs cover (allpairspy):
about 75 small conforms. Each asserts the exact frame count, rate, size, pixel format, profile and
timecode, the colour tags and the audio, read back from the file.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from allpairspy import AllPairs

from promptreel.core.conform.execute import conform
from promptreel.core.conform.plan import Choices
from promptreel.core.conform.probe import probe
from promptreel.core.conform.target import Target, codec_families
from tests.conform import media

TIMELINE_RATES = [
    ("24000/1001", False),
    ("24", False),
    ("25", False),
    ("30000/1001", False),
    ("30000/1001", True),
    ("30", False),
    ("50", False),
    ("60000/1001", True),
    ("60", False),
]
SOURCES = ["16", "24", "25", "30", "vfr"]
# One frame; a few; all the source covers at the timeline rate; longer than that (the last frame held).
LENGTHS = ["1", "3", "covered", "longer"]
FITS = ["fit", "fill", "crop", "stretch"]
CODECS = list(codec_families())
SIZE = "288x120"  # 2.4:1 from 16:9 sources, so every size mode does something; DNxHR's minimum height

CASES = [tuple(case) for case in AllPairs([TIMELINE_RATES, SOURCES, LENGTHS, FITS, CODECS])]


def _id(case) -> str:
    (rate, drop), source, length, fit, codec = case
    return f"{rate}{'DF' if drop else ''}-from{source}-{length}-{fit}-{codec}"


def test_the_cover_has_every_pair():
    params = [TIMELINE_RATES, SOURCES, LENGTHS, FITS, CODECS]
    for i in range(len(params)):
        for j in range(i + 1, len(params)):
            seen = {(case[i], case[j]) for case in CASES}
            assert len(seen) == len(params[i]) * len(params[j])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matrix(clips, tmp_path, case):
    (rate, drop), source, length, fit, codec = case
    info = probe(clips[source])
    covered = int(Fraction(info.usable_frames) / info.rate * Fraction(rate))  # frames the clip spans at `rate`
    frames = {"1": 1, "3": 3, "covered": covered, "longer": covered + 12}[length]
    family = codec_families()[codec]
    target = Target(
        frames=frames,
        rate=rate,
        size=SIZE,
        drop_frame=drop,
        codec=codec,
        bit_depth=family.bit_depths[-1],
        start_timecode="01:00:00;00" if drop else "01:00:00:00",
    )
    out = conform(clips[source], tmp_path / f"out.{family.containers[0]}", target, Choices(fit=fit, short="hold"))
    media.assert_conformed(out, target)
    assert (out.color_primaries, out.color_transfer, out.color_matrix, out.color_range) == ("bt709",) * 3 + ("tv",)
    (audio,) = out.audio  # stereo 48 kHz PCM, the source's or silence, as long as the picture to the sample
    samples = round(target.seconds * 48000)
    assert (audio.rate, audio.channels, audio.codec, audio.duration * 48000) == (48000, 2, "pcm_s24le", samples)


def test_several_minutes_from_a_two_second_clip(clips, tmp_path):
    # 3 minutes at 23.976, tiny frames: still exactly N frames, audio exactly as long as the picture.
    target = Target(frames=4316, rate="24000/1001", size="64x36", codec="prores", start_timecode="00:59:50:00")
    out = conform(clips["24"], tmp_path / "long.mov", target, Choices(short="hold"))
    media.assert_conformed(out, target)
    assert out.duration == Fraction(4316 * 1001, 24000)
    assert out.audio[0].duration * 48000 == round(out.duration * 48000)
