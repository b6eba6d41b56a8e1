"""Batch makespan: 20 jobs vs 1 job against a server that takes a fixed time per job.

With the route allowing 20 at once, 20 jobs should take about as long as one. Target: ratio <= 1.5.
"""

import asyncio
import time

from _setup import bench_env, planned

JOB_SECONDS = 2.0


def makespan(engine, n: int, tag: str) -> float:
    start = time.perf_counter()
    results = asyncio.run(engine.run([planned(f"{tag} shot {i}") for i in range(n)]))
    elapsed = time.perf_counter() - start
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return elapsed


def main() -> None:
    with bench_env(JOB_SECONDS) as (api, engine):
        makespan(engine, 1, "warm-up")  # imports and first connections, so neither figure carries them
        one = makespan(engine, 1, "single")
        twenty = makespan(engine, 20, "batch")
        print(
            f"server time per job: {JOB_SECONDS:.1f} s; route concurrency 20; max jobs in flight seen: {api.max_active}"
        )
        print(f"1 job:   {one:.2f} s")
        print(f"20 jobs: {twenty:.2f} s")
        print(f"makespan ratio 20/1: {twenty / one:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
