"""`promptreel --help` cold start, as a ratio to a bare `python -c pass` (median of several runs)."""

import statistics
import subprocess
import sys
import time

RUNS = 10


def median_seconds(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = median_seconds([sys.executable, "-c", "pass"])
    helped = median_seconds([sys.executable, "-m", "promptreel.core.cli", "--help"])
    print(f"python -c pass:     {bare * 1000:.0f} ms (median of {RUNS})")
    print(f"promptreel --help:  {helped * 1000:.0f} ms (median of {RUNS})")
    print(f"startup ratio help/bare: {helped / bare:.2f}")


if __name__ == "__main__":
    main()
