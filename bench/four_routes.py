"""Four routes at once: 20 jobs spread over the Runway, Kling, Replicate and fal sandbox fakes, each job
taking LATENCY seconds on its fake, through the real engine and the real clients (polling at each
route's own cadence: Runway 6 s, Kling 5 s, Replicate and fal 2 s). OpenAI's Sora API, measured here
until it shut down on 2026-09-24, gave way to Runway.

Prints the makespan ratio, 20 jobs ÷ 1 job (target <= 1.5), with the 1-job figure taken on the
slowest route (a batch cannot end before its slowest route's one job would), and the status reads
each route needed per job.

    python bench/four_routes.py [--latency 1.5] [--jobs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from promptreel.core.catalog import load_catalog  # noqa: E402
from promptreel.core.engine import Engine  # noqa: E402
from promptreel.core.journal import Journal  # noqa: E402
from promptreel.core.plan import PlannedRequest, check_request  # noqa: E402
from promptreel.core.request import GenerationRequest  # noqa: E402
from promptreel.core.sandbox import SMALL, sandbox  # noqa: E402
from promptreel.core.sandbox.run import exported  # noqa: E402
from promptreel.core.settings import load_settings  # noqa: E402

# route -> (model, its route's model id, a request the model takes). Concurrency is opened up so the
# routes' own limits are not what is measured.
ROUTES = {
    "runway": ("veo-3.1-fast", "veo3.1_fast", dict(seconds=8, size="1280x720")),
    "kling": ("kling-v2.6", "kling-v2-6", dict(seconds=5, size="1280x720")),
    "replicate": ("gen-4.5", "runwayml/gen-4.5", dict(seconds=5, size="1280x720")),
    "fal": ("veo-3.1", "fal-ai/veo3.1", dict(seconds=8, size="1280x720")),
}
STATUS_READS = {  # each fake's status path (downloads and fal's one result read are not polls)
    "runway": ("GET", r"/v1/tasks/[^/]+"),
    "kling": ("GET", r"/v1/videos/[^/]+/[^/]+"),
    "replicate": ("GET", r"/v1/predictions/[^/]+"),
    "fal": ("GET", r"/.+/requests/[^/]+/status"),
}


def catalog_text() -> str:
    return "".join(
        f'[models."{model}"]\nroutes = [{{ protocol = "{route}", model_id = "{mid}", concurrency = 20, rpm = 0 }}]\n'
        for route, (model, mid, _) in ROUTES.items()
    )


def run(requests: list[GenerationRequest]) -> float:
    """Wall time of one engine run of `requests` (a fresh engine and journal, as a new command would)."""
    settings = load_settings()
    journal = Journal(Path(os.environ["PROMPTREEL_HOME"]) / "journal.sqlite")
    try:
        engine = Engine(load_catalog(settings.catalog_file), journal, settings)
        planned = []
        for req in requests:
            check_request(req, engine.catalog.get(req.model))
            planned.append(PlannedRequest(req))
        start = time.perf_counter()
        results = asyncio.run(engine.run(planned, no_cache=True))
        elapsed = time.perf_counter() - start
    finally:
        journal.close()
    bad = [r.error for r in results if not r.ok]
    assert not bad, bad
    return elapsed


def request(route: str, tag: str) -> GenerationRequest:
    model, _, extra = ROUTES[route]
    return GenerationRequest(prompt=f"{tag} on {route}", model=model, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.5, help="seconds each job takes on its fake")
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, sandbox(routes=list(ROUTES), latency=args.latency, limit=SMALL) as env:
        home = Path(tmp)
        (home / "catalog.toml").write_text(catalog_text())
        (home / "settings.toml").write_text(
            f'catalog_file = "{home / "catalog.toml"}"\noutput_dir = "{home / "media"}"\n'
        )
        with exported({**env, "PROMPTREEL_HOME": str(home)}):
            run([request(r, "warm-up") for r in ROUTES])  # imports, first connections, first renders

            singles = {}
            for route in ROUTES:
                singles[route] = run([request(route, "single")])
            for fake in env.fakes.values():
                fake.reset()

            names = list(ROUTES)
            batch = [request(names[i % len(names)], f"batch shot {i}") for i in range(args.jobs)]
            many = run(batch)

            per_route = {r: sum(1 for q in batch if q.model == ROUTES[r][0]) for r in ROUTES}
            slowest = max(singles, key=singles.get)
            print(
                f"latency per job on each fake: {args.latency:.1f} s; {args.jobs} jobs over {len(ROUTES)} routes, "
                f"route concurrency 20"
            )
            for route in ROUTES:
                fake = env.fakes[route]
                reads = len(fake.calls_to(*STATUS_READS[route]))
                print(
                    f"  {route:<9} 1 job alone {singles[route]:5.2f} s   jobs in batch {per_route[route]:2d}   "
                    f"creates {fake.creates:2d}   status reads per job {reads / per_route[route]:.2f}"
                )
            print(f"1 job (slowest route, {slowest}): {singles[slowest]:.2f} s")
            print(f"{args.jobs} jobs: {many:.2f} s")
            print(f"makespan ratio {args.jobs}/1: {many / singles[slowest]:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
