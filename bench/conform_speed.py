"""Conform speed and the evidence for its defaults, as ratios measured in one run on this machine.

    python bench/conform_speed.py [--seconds 8] [--clips 8] [--quick]

The clip: an 8 s 1280x720 24 fps H.264 + AAC, itself a downscale of a lossless 1920x1080 original,
conformed to 1920x1080 23.976 ProRes 422 HQ 10-bit with 48 kHz PCM (speed change 24 -> 23.976).

1. conform (probe + plan + one ffmpeg pass + verify) ÷ the bare ffmpeg command doing the same transcode (≤ 1.05)
2. clip seconds ÷ conform wall time: × real time (≥ 1.5); and from CPU time, as on idle cores
3. prores_ks ÷ prores_aw: CPU time, wall time, file size; PSNR and SSIM of each against the scaled source
4. prores_aw with ffmpeg's default threads, and 1, 2, 4 threads: wall and CPU time
5. scaler flags (bicubic is ffmpeg's default): CPU time of the conform, PSNR and SSIM against the 1080p original
6. DNxHR HQX with ffmpeg's default threads ÷ one thread
7. ProRes 422 HQ ÷ H.264 conform time
8. N clips conformed one after another ÷ in parallel (one ffmpeg per core)

Wall times include whatever else the machine is running (the load average is printed before and
after); CPU times (user + system of ffmpeg, and of this process where it says so) do not, which is
why both are shown. "From CPU time" = clip seconds ÷ (CPU seconds ÷ cores): the speed on idle cores
if ffmpeg kept them all busy.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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

CORES = os.cpu_count() or 1


def make_sources(d: Path, seconds: float, name: str = "src") -> tuple[Path, Path]:
    """A lossless 1080p24 original and the 720p H.264 + AAC 'generated clip' made from it."""
    original, clip = d / f"{name}-original.mkv", d / f"{name}.mp4"
    quiet = ("-hide_banner", "-loglevel", "error")
    (
        ffmpeg.input("testsrc2=size=1920x1080:rate=24", f="lavfi", t=seconds)
        .output(str(original), **{"c:v": "ffv1", "pix_fmt": "yuv420p"})
        .global_args(*quiet)
        .overwrite_output()
        .run(cmd=ffmpeg_exe())
    )
    video = ffmpeg.input(str(original)).video.filter("scale", 1280, 720, flags="lanczos")
    audio = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi", t=seconds)
    (
        ffmpeg.output(video, audio, str(clip), **{"c:v": "libx264", "pix_fmt": "yuv420p", "crf": 18, "c:a": "aac"})
        .global_args(*quiet)
        .overwrite_output()
        .run(cmd=ffmpeg_exe())
    )
    return original, clip


def measured(fn, include_self: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds of child processes — and of this one if asked) while `fn` runs."""
    who = [resource.RUSAGE_CHILDREN] + ([resource.RUSAGE_SELF] if include_self else [])
    before = [resource.getrusage(w) for w in who]
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    after = [resource.getrusage(w) for w in who]
    return wall, sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(after, before))


def best(fn, repeat: int, include_self: bool = False) -> tuple[float, float]:
    """Least wall and least CPU of `repeat` runs: other work on the machine only ever adds time."""
    runs = [measured(fn, include_self) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL).stderr


def variant(
    cmd: list[str], *, replace: tuple[str, str] | None = None, extra: tuple[str, ...] = (), output: Path
) -> list[str]:
    """The plan's own ffmpeg command with one thing changed: a string in the graph or an option, and the output."""
    changed = [a.replace(*replace) if replace else a for a in cmd[:-1]]
    return [*changed, *extra, str(output)]


def quality(encoded: Path, reference: Path, scale_reference: bool = False) -> tuple[float, float]:
    """(PSNR dB, SSIM) of `encoded` against `reference`, frame by frame (N-th against N-th)."""
    ref = "scale=1920:1080," if scale_reference else ""
    # The same labels on both: conform tags an untagged source Rec.709, and ffmpeg would otherwise convert
    # one side's colours to the other's before comparing. What is compared is the pixel values.
    same = "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv,settb=1/24,setpts=N"
    graph = (
        f"[0:v]{same},format=yuv422p10le,split[e1][e2];"
        f"[1:v]{ref}{same},format=yuv422p10le,split[r1][r2];[e1][r1]psnr;[e2][r2]ssim"
    )
    err = run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(encoded),
            "-i",
            str(reference),
            "-lavfi",
            graph,
            "-f",
            "null",
            "-",
        ]
    )
    psnr = re.search(r"PSNR.*average:(\S+)", err)
    ssim = re.search(r"SSIM.*All:(\S+)", err)
    return float(psnr.group(1)), float(ssim.group(1))


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="one run of each, not best of 3")
    args = ap.parse_args()
    repeat = 1 if args.quick else 3
    print(f"conform speed on {CORES} cores; load average (1/5/15 min) {load()}; ffmpeg {ffmpeg_exe()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        original, src = make_sources(d, args.seconds)
        info = probe(src)
        frames = info.usable_frames  # speed change 24 -> 23.976 keeps every frame
        target = Target(frames=frames, rate="24000/1001", size="1920x1080", codec="prores-hq")
        plan = plan_conform(info, target)
        seconds = float(Fraction(frames) / target.rate)
        bare_cmd = plan.command(d / "bare.mov", global_args=("-loglevel", "error"))

        def do_conform():
            conform(src, d / "conformed.mov", target, overwrite=True)

        bare = whole = (float("inf"), float("inf"))
        for _ in range(repeat):  # interleaved, so load from other work hits both alike
            bare = min(bare, measured(lambda: run(bare_cmd)))
            whole = min(whole, measured(do_conform, include_self=True))
        print(
            f"1. conform ÷ bare ffmpeg, same transcode ({frames} frames): wall {whole[0] / bare[0]:.3f} "
            f"({whole[0]:.2f} s vs {bare[0]:.2f} s); CPU, conform's own Python included, {whole[1] / bare[1]:.3f} "
            f"({whole[1]:.2f} s vs {bare[1]:.2f} s)",
            flush=True,
        )
        print(
            f"2. 720p24 H.264 -> 1080p 23.976 ProRes 422 HQ: {seconds / whole[0]:.2f}× real time by wall "
            f"({seconds:.2f} s of clip in {whole[0]:.2f} s); from CPU time on {CORES} idle cores "
            f"{seconds / (whole[1] / CORES):.2f}×",
            flush=True,
        )

        aw, ks = d / "aw.mov", d / "ks.mov"
        aw_t = best(lambda: run(variant(bare_cmd, output=aw)), repeat)
        ks_t = best(lambda: run(variant(bare_cmd, replace=("prores_aw", "prores_ks"), output=ks)), 1)
        # Against the source scaled to 1080p exactly as conform scales it: what the encoder alone loses.
        aw_q, ks_q = quality(aw, src, scale_reference=True), quality(ks, src, scale_reference=True)
        print(
            f"3. prores_ks ÷ prores_aw: CPU {ks_t[1] / aw_t[1]:.2f} ({ks_t[1]:.1f} s vs {aw_t[1]:.1f} s), wall "
            f"{ks_t[0] / aw_t[0]:.2f}, size {ks.stat().st_size / aw.stat().st_size:.2f}; PSNR/SSIM vs the scaled "
            f"source: ks {ks_q[0]:.2f} dB / {ks_q[1]:.5f}, aw {aw_q[0]:.2f} dB / {aw_q[1]:.5f}",
            flush=True,
        )

        runs: dict[str, list[tuple[float, float]]] = {"auto": [], "1": [], "2": [], "4": []}
        for _ in range(repeat):  # interleaved: the machine's load changes over a run
            for n, times in runs.items():
                extra = () if n == "auto" else ("-threads", n)
                times.append(measured(lambda extra=extra: run(variant(bare_cmd, extra=extra, output=d / "t.mov"))))
        threads = {n: (min(w for w, _ in times), min(c for _, c in times)) for n, times in runs.items()}
        print(
            "4. prores_aw threads, wall / CPU: "
            + ", ".join(f"{n} {w:.2f} s / {c:.2f} s" for n, (w, c) in threads.items()),
            flush=True,
        )

        scaled = [a for a in bare_cmd if "scale=" in a]
        if scaled:
            rows = []
            for flags in ("bicubic", "bilinear", "lanczos"):
                out = d / f"scale_{flags}.mov"
                cmd = variant(bare_cmd, replace=("scale=", f"scale=flags={flags}:"), output=out)
                _, cpu = best(lambda cmd=cmd: run(cmd), repeat)
                psnr, ssim = quality(out, original)
                rows.append(f"{flags} CPU {cpu:.2f} s, {psnr:.3f} dB / {ssim:.5f}")
            print(
                "5. scaler flags (CPU of the whole conform; PSNR/SSIM vs the 1080p original): " + "; ".join(rows),
                flush=True,
            )

        dnx = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-y",
            "-i",
            str(src),
            "-vf",
            "scale=1920:1080",
            "-c:v",
            "dnxhd",
            "-profile:v",
            "dnxhr_hqx",
            "-pix_fmt",
            "yuv422p10le",
            "-an",
        ]
        auto = best(lambda: run([*dnx, str(d / "dnx_auto.mov")]), repeat)
        one = best(lambda: run([*dnx, "-threads", "1", str(d / "dnx_one.mov")]), repeat)
        print(
            f"6. DNxHR HQX default threads ÷ one thread, wall: {auto[0] / one[0]:.3f} ({auto[0]:.2f} s vs "
            f"{one[0]:.2f} s; CPU {auto[1]:.2f} s vs {one[1]:.2f} s)",
            flush=True,
        )

        h264 = Target(frames=frames, rate="24000/1001", size="1920x1080", codec="h264", bit_depth=8)
        t264 = best(lambda: conform(src, d / "h264.mov", h264, overwrite=True), 1, include_self=True)
        print(
            f"7. ProRes 422 HQ ÷ H.264 conform, wall: {whole[0] / t264[0]:.3f} ({whole[0]:.2f} s vs "
            f"{t264[0]:.2f} s; CPU {whole[1]:.2f} s vs {t264[1]:.2f} s)",
            flush=True,
        )

        _, short = make_sources(d, 2, "short")
        small = Target(frames=probe(short).usable_frames, rate="24000/1001", size="1920x1080")
        jobs = [(short, d / f"batch{i}.mov", small, None) for i in range(args.clips)]
        for outcome in conform_many(jobs[:1], overwrite=True):  # a failure here would time nothing
            if isinstance(outcome, Exception):
                raise outcome
        serial = best(lambda: conform_many(jobs, workers=1, overwrite=True), 1)
        parallel = best(lambda: conform_many(jobs, overwrite=True), 1)
        print(
            f"8. {args.clips} × 2 s clips one after another ÷ in parallel ({CORES} workers), wall: "
            f"{serial[0] / parallel[0]:.3f} ({serial[0]:.2f} s vs {parallel[0]:.2f} s)",
            flush=True,
        )
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
