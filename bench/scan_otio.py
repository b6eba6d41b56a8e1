"""Benchmark: scan and plan of a generated 10,000-clip timeline ÷ the time OTIO takes only to read it.

    python bench/scan_otio.py [--clips 10000]

Target (issue 5): ratio <= 1.5. The timeline has one video track of 10,000 clips; every tenth
item is a placeholder (a generator, an offline clip or a gap, each with a prompt), every
fiftieth a dissolve, plus markers; the other clips point at media.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import opentimelineio as otio

from promptreel.core.timeline.fill import scan_timeline
from promptreel.otio_adapters.timeline_io import read_timeline


def make_timeline(clips: int, with_metadata: bool = False) -> otio.schema.Timeline:
    rate = 24000 / 1001
    R = lambda s, d: otio.opentime.TimeRange(otio.opentime.RationalTime(s, rate), otio.opentime.RationalTime(d, rate))  # noqa: E731
    t = otio.schema.Timeline(name="bench", global_start_time=otio.opentime.RationalTime(86400, rate))
    track = otio.schema.Track(name="Video 1")
    for i in range(clips):
        n = 24 + i % 48
        if i % 10 == 5:
            kind = (i // 10) % 3
            if kind == 0:
                item = otio.schema.Gap(source_range=R(0, n), metadata={"promptreel": {"prompt": f"shot {i}"}})
            else:
                ref = otio.schema.GeneratorReference(generator_kind="Slug") if kind == 1 else None
                item = otio.schema.Clip(name=f"GEN: shot {i}", source_range=R(0, n), media_reference=ref)
        else:
            item = otio.schema.Clip(
                name=f"c{i}.mov",
                source_range=R(100, n),
                media_reference=otio.schema.ExternalReference(target_url=f"/media/c{i}.mov", available_range=R(0, 500)),
            )
            if with_metadata:  # as Resolve writes on every clip
                item.metadata["Resolve_OTIO"] = {}
            if i % 7 == 0:
                item.markers.append(otio.schema.Marker(name=f"note {i}", marked_range=R(100, 1)))
        track.append(item)
        if i % 50 == 49:
            track.append(
                otio.schema.Transition(
                    in_offset=otio.opentime.RationalTime(6, rate), out_offset=otio.opentime.RationalTime(6, rate)
                )
            )
    t.tracks.append(track)
    return t


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        del result  # freeing 10,000 OTIO objects is not part of either measurement
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metadata", action="store_true", help="give every clip vendor metadata (as Resolve does)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.otio"
        otio.adapters.write_to_file(make_timeline(args.clips, args.metadata), str(path))
        read_only = median_time(lambda: otio.adapters.read_from_file(str(path)), args.runs)

        def scan_and_plan():
            doc = read_timeline(path)
            estimates, _ = scan_timeline(doc.timeline, model="veo-3.1")
            assert len(estimates) == args.clips // 10
            return doc, estimates

        scan = median_time(scan_and_plan, args.runs)
    print(f"clips={args.clips} placeholders={args.clips // 10}")
    print(f"OTIO read only:          {read_only * 1000:8.1f} ms")
    print(f"promptreel scan + plan:  {scan * 1000:8.1f} ms (includes the read)")
    print(f"ratio: {scan / read_only:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
