"""Cache hit: an identical request again makes no provider call. Prints calls and the time ratio hit/miss."""

import asyncio
import time

from _setup import bench_env, planned


def timed(engine, **kw):
    start = time.perf_counter()
    results = asyncio.run(engine.run([planned("a lighthouse at dusk", seed=42, variants=4)], **kw))
    return time.perf_counter() - start, results


def main() -> None:
    with bench_env(job_seconds=0.5) as (api, engine):
        miss, first = timed(engine)
        calls = len(api.server.calls)
        hit, second = timed(engine)
        hit_calls = len(api.server.calls) - calls
        assert all(r.ok for r in first) and all(r.cached for r in second)
        print(f"miss (4 takes generated): {miss:.3f} s, {calls} provider calls")
        print(f"hit  (4 takes cached):    {hit:.3f} s, {hit_calls} provider calls (must be 0)")
        print(f"time ratio hit/miss: {hit / miss:.3f}")


if __name__ == "__main__":
    main()
