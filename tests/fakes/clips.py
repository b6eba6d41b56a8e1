"""A ClipMaker for tests: renders a slot-exact clip (testsrc2, real ffmpeg) and says where it came from.

Stands in for the engine + conform: same signature, same promise (exactly the slot's frames, rate
and size). `rate` / `frames` overrides make clips that break the promise, to test verification.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import ffmpeg

from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.frames import rate_str
from promptreel.core.made import MadeClip, Provenance
from promptreel.core.request import Slot


class TestPatternMaker:
    __test__ = False  # not a pytest class

    def __init__(self, out_dir: Path, model: str = "draft", rate: Fraction | None = None, frames_delta: int = 0):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.rate = rate
        self.frames_delta = frames_delta
        self.slots: list[Slot] = []
        self._n = itertools.count(1)

    def __call__(self, slot: Slot) -> MadeClip:
        self.slots.append(slot)
        n = next(self._n)
        path = self.out_dir / f"{self.model}-{n:03d}.mov"
        rate = self.rate or slot.rate
        frames = slot.frames + self.frames_delta
        (
            ffmpeg.input(f"testsrc2=size={slot.size}:rate={rate_str(rate)}", f="lavfi")
            .output(str(path), vframes=frames, vcodec="prores_ks", profile=3, pix_fmt="yuv422p10le", r=rate_str(rate))
            .overwrite_output()
            .run(cmd=ffmpeg_exe(), quiet=True)
        )
        return MadeClip(
            slot, path, Provenance(prompt=slot.prompt, model=self.model, route="local", seed=n, job_id=f"job-{n:03d}")
        )
