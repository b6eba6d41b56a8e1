"""Conform speed, as ratios measured in one run on this machine.

    python bench/conform_speed.py [--seconds 8] [--clips 8]

1. conform (probe + plan + one ffmpeg pass + verify) ÷ the bare ffmpeg command doing the same transcode (target ≤ 1.05)
2. 8 s 720p24 H.264 -> 1080p 23.976 ProRes 422 HQ: times real time (target ≥ 1.5)
3. prores_ks ÷ prores_aw wall time, and each one's PSNR against the scaled source
4. DNxHR HQX with ffmpeg's default threads ÷ one thread
5. ProRes 422 HQ ÷ H.264 wall time
6. N clips conformed one after another ÷ in parallel across cores
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promptreel.core.conform.execute import conform, conform_many  # noqa: E402
from promptreel.core.conform.plan import plan_conform  # noqa: E402
from promptreel.core.conform.probe import probe  # noqa: E402
from promptreel.core.conform.target import Target  # noqa: E402
from promptreel.core.ffmpeg import ffmpeg_exe  # noqa: E402


def make_source(path: Path, seconds: float, size: str = "1280x720", rate: str = "24") -> Path:
    video = ffmpeg.input(f"testsrc2=size={size}:rate={rate}", f="lavfi", t=seconds)
    audio = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi", t=seconds)
    (ffmpeg.output(video, audio, str(path), **{"c:v": "libx264", "pix_fmt": "yuv420p", "crf": 18, "c:a": "aac"})
     .global_args("-hide_banner", "-loglevel", "error").overwrite_output().run(cmd=ffmpeg_exe()))
    return path


def timed(fn, repeat: int = 1) -> float:
    """Best of `repeat` wall times: other work on the machine only ever adds time."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _child_cpu(fn, include_self: bool = False) -> float:
    """CPU seconds (user + system) spent by child processes (ffmpeg), and by this process if asked,
    while `fn` runs: unlike wall time, it does not grow when other work shares the machine."""
    import resource

    who = [resource.RUSAGE_CHILDREN] + ([resource.RUSAGE_SELF] if include_self else [])
    before = [resource.getrusage(w) for w in who]
    fn()
    after = [resource.getrusage(w) for w in who]
    return sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(after, before))


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL).stderr


def prores(src: Path, out: Path, encoder: str) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-i", str(src), "-vf", "scale=1920:1080",
            "-r", "24000/1001", "-c:v", encoder, "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-an", str(out)]


def psnr(encoded: Path, src: Path) -> str:
    graph = "[1:v]scale=1920:1080,format=yuv422p10le[r];[0:v]format=yuv422p10le[e];[e][r]psnr"
    err = run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(encoded), "-i", str(src),
               "-lavfi", graph, "-f", "null", "-"])
    found = re.search(r"average:(\S+)", err)
    return f"{found.group(1)} dB" if found else "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clips", type=int, default=8)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"conform speed on {os.cpu_count()} cores (load average {load:.1f}), ffmpeg {ffmpeg_exe()}")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = make_source(d / "src.mp4", args.seconds)
        info = probe(src)
        frames = info.usable_frames  # speed change 24 -> 23.976 keeps every frame
        target = Target(frames=frames, rate="24000/1001", size="1920x1080", codec="prores-hq")
        plan = plan_conform(info, target)
        bare_cmd = plan.command(d / "bare.mov", global_args=("-loglevel", "error"))

        bare = whole = float("inf")
        for _ in range(3):  # interleaved, so load from other work hits both alike
            bare = min(bare, timed(lambda: run(bare_cmd)))
            whole = min(whole, timed(lambda: conform(src, d / "conformed.mov", target, overwrite=True)))
        seconds = float(Fraction(frames) / target.rate)
        cpu = _child_cpu(lambda: conform(src, d / "conformed.mov", target, overwrite=True), include_self=True)
        bare_cpu = _child_cpu(lambda: run(bare_cmd))
        print(f"1. conform ÷ bare ffmpeg, same transcode ({frames} frames): {whole / bare:.3f}  "
              f"({whole:.2f} s vs {bare:.2f} s)")
        print(f"1b. the same by CPU time (probe, plan and verify included): {cpu / bare_cpu:.3f}  "
              f"({cpu:.2f} s vs {bare_cpu:.2f} s)")
        print(f"2. 720p24 H.264 -> 1080p 23.976 ProRes 422 HQ: {seconds / whole:.2f}× real time "
              f"({seconds:.2f} s of clip in {whole:.2f} s); from CPU time ({cpu:.2f} s) on "
              f"{os.cpu_count()} idle cores: {seconds / (cpu / (os.cpu_count() or 1)):.2f}× real time")

        ks = timed(lambda: run(prores(src, d / "ks.mov", "prores_ks")))
        aw = timed(lambda: run(prores(src, d / "aw.mov", "prores_aw")))
        print(f"3. prores_ks ÷ prores_aw wall time: {ks / aw:.3f}  ({ks:.2f} s vs {aw:.2f} s); "
              f"PSNR ks {psnr(d / 'ks.mov', src)}, aw {psnr(d / 'aw.mov', src)}; "
              f"size ks {(d / 'ks.mov').stat().st_size / (d / 'aw.mov').stat().st_size:.3f}× aw")

        dnx = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-i", str(src), "-vf", "scale=1920:1080",
               "-c:v", "dnxhd", "-profile:v", "dnxhr_hqx", "-pix_fmt", "yuv422p10le", "-an"]
        auto = timed(lambda: run([*dnx, str(d / "dnx_auto.mov")]))
        one = timed(lambda: run([*dnx, "-threads", "1", str(d / "dnx_one.mov")]))
        print(f"4. DNxHR HQX default threads ÷ one thread: {auto / one:.3f}  ({auto:.2f} s vs {one:.2f} s)")

        h264 = Target(frames=frames, rate="24000/1001", size="1920x1080", codec="h264", bit_depth=8)
        t264 = timed(lambda: conform(src, d / "h264.mov", h264, overwrite=True))
        print(f"5. ProRes 422 HQ ÷ H.264 conform time: {whole / t264:.3f}  ({whole:.2f} s vs {t264:.2f} s)")

        short = make_source(d / "short.mp4", 2)
        small = Target(frames=probe(short).usable_frames, rate="24000/1001", size="1920x1080")
        jobs = [(short, d / f"batch{i}.mov", small, None) for i in range(args.clips)]
        serial = timed(lambda: conform_many(jobs, workers=1, overwrite=True))
        parallel = timed(lambda: conform_many(jobs, overwrite=True))
        print(f"6. {args.clips} clips one after another ÷ in parallel ({os.cpu_count()} workers): "
              f"{serial / parallel:.3f}  ({serial:.2f} s vs {parallel:.2f} s)")


if __name__ == "__main__":
    main()
