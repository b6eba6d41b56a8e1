"""A studio on one PostgreSQL (issue 16): four seats (processes) × 25 jobs against one database and a
loopback job server that takes a fixed time per job, against one seat × 25.

Three runs, each on a fresh database of a throwaway cluster (Debian's postgresql, as the tests use):
1. makespan: 1 seat × 25 distinct requests, then 4 seats × 25 distinct (100 in all); target ratio ≤ 1.2;
   creates exactly 100, one per distinct request.
2. shared requests: 4 seats × 25 where the seats share half their requests; creates = distinct requests,
   0 duplicates (every shared request made once, the other seats attach to it).
3. a cap: 4 seats × 25 distinct ($10.00 each) against a $25.00 daily cap: spend never passes it.

`python bench/studio_postgres.py` (about a minute). Makespans run from the seats' common start (each
seat starts Python and opens the database first) to the last seat's end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import REPO

from promptreel.core.journal import Journal  # noqa: E402
from tests.engine_env import PLANTED_KEY, make_clip, write_settings  # noqa: E402
from tests.fakes.testproto import FakeJobAPI  # noqa: E402
from tests.postgres_env import Cluster, _bin_dir  # noqa: E402

JOB_SECONDS = 2.0
SEAT = """
import asyncio, json, sys
from promptreel.core.catalog import load_catalog
from promptreel.core.engine import Engine
from promptreel.core.errors import BudgetExceeded
from promptreel.core.journal import Journal
from promptreel.core.plan import PlannedRequest
from promptreel.core.request import GenerationRequest
from promptreel.core.settings import load_settings
import tests.fakes.testproto
settings = load_settings()
journal = Journal.open_default()
engine = Engine(load_catalog(settings.catalog_file), journal, settings)
planned = [PlannedRequest(GenerationRequest(prompt=p, model="test-model", seconds=4, size="1280x720"))
           for p in json.loads(sys.argv[1])]
import time
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # every seat starts its run at once
try:
    results = asyncio.run(engine.run(planned))
    print(json.dumps({"ok": sum(r.ok for r in results), "paid": round(sum(r.cost for r in results), 2),
                      "end": time.time()}))
except BudgetExceeded:
    print(json.dumps({"refused": True, "end": time.time()}))
journal.close()
"""
START_AFTER = 8.0  # seconds for every seat to start Python and open the database before the common start


def seats(prompts: list[list[str]], env: dict) -> tuple[float, list[dict]]:
    """Makespan from the seats' common start to the last seat's end (starting Python is not measured:
    on a loaded 2-core machine four interpreters starting at once would swamp the figure)."""
    start = time.time() + START_AFTER
    procs = [subprocess.Popen([sys.executable, "-c", SEAT, json.dumps(p), str(start)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE) for p in prompts]
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    return max(o["end"] for o in outs) - start, outs


def main() -> None:
    bins = _bin_dir()
    if bins is None:
        sys.exit("PostgreSQL's initdb / pg_ctl not found: apt-get install postgresql")
    cluster = Cluster(bins).start()
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                FakeJobAPI(make_clip(Path(tmp) / "clip.mp4"), job_seconds=JOB_SECONDS, key=PLANTED_KEY) as api:
            home = Path(tmp) / "home"
            env = {**os.environ, "PROMPTREEL_HOME": str(home), "TESTPROTO_API_KEY": PLANTED_KEY,
                   "PYTHONPATH": str(REPO)}
            os.environ.update(PROMPTREEL_HOME=str(home))
            write_settings(home, api.url)
            settings = (home / "settings.toml").read_text()
            (home / "settings.toml").write_text(settings + '[route_limits."testproto"]\nconcurrency = 30\n')

            def fresh(cap: float | None = None) -> str:
                url = cluster.new_database()
                env["PROMPTREEL_DATABASE_URL"] = url
                if cap is not None:
                    (home / "settings.toml").write_text(f"daily_cap_usd = {cap}\n" + settings)
                Journal(url).close()  # the schema, outside the timed runs
                api.creates.clear()
                return url

            fresh()
            seats([["warm-up"]], env)  # imports and first connections
            fresh()
            one, _ = seats([[f"solo {i}" for i in range(25)]], env)
            url = fresh()
            four, _ = seats([[f"seat {s} shot {i}" for i in range(25)] for s in range(4)], env)
            made = _made(url, api)
            print(f"server time per job: {JOB_SECONDS:.1f} s; route concurrency 30 per seat")
            print(f"1 seat x 25 jobs:  {one:.2f} s")
            print(f"4 seats x 25 jobs: {four:.2f} s   ratio {four / one:.2f} (target <= 1.2)")
            print(f"  creates {made[0]}, distinct requests made {made[1]} (target 100 and 100)")
            del env["PROMPTREEL_DATABASE_URL"]  # the same on one machine's SQLite journal, for reference
            api.creates.clear()
            one_here, _ = seats([[f"here solo {i}" for i in range(25)]], env)
            four_here, _ = seats([[f"here seat {s} shot {i}" for i in range(25)] for s in range(4)], env)
            print(f"  the same on SQLite: {one_here:.2f} s and {four_here:.2f} s, ratio {four_here / one_here:.2f}")

            url = fresh()
            shared = [[f"shared shot {i}" for i in range(13)] + [f"seat {s} own {i}" for i in range(12)]
                      for s in range(4)]
            _, outs = seats(shared, env)
            made = _made(url, api)
            print(f"4 seats x 25 sharing 13 requests: creates {made[0]}, distinct requests {made[1]}, "
                  f"duplicates {made[0] - made[1]} (target {13 + 4 * 12}, {13 + 4 * 12}, 0); "
                  f"paid per seat {[o['paid'] for o in outs]}")

            url = fresh(cap=25.0)
            _, outs = seats([[f"capped {s} shot {i}" for i in range(25)] for s in range(4)], env)
            journal = Journal(url)
            spent = journal.spent_on()
            journal.close()
            print(f"4 seats x $10.00 against a $25.00 cap: {sum('refused' in o for o in outs)} refused, "
                  f"spent ${spent:.2f} (target <= $25.00), creates {sum(api.creates.values())}")
    finally:
        cluster.stop()


def _made(url: str, api) -> tuple[int, int]:
    """(creates at the provider, distinct requests among the jobs created)."""
    journal = Journal(url)
    keys = {journal.get(job_id).cache_key for job_id in api.creates}
    journal.close()
    return sum(api.creates.values()), len(keys)


if __name__ == "__main__":
    main()
