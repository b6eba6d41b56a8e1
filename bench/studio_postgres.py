"""A studio on one PostgreSQL (issue 16): four seats (processes) × 25 jobs against one database and a
loopback job server that takes a fixed time per job, against one seat × 25.

Three runs, each on a fresh database of a throwaway cluster (Debian's postgresql, as the tests use):
1. makespan: 1 seat × 25 distinct requests, then 4 seats × 25 distinct (100 in all); target ratio ≤ 1.2;
   creates exactly 100, one per distinct request.
2. shared requests: 4 seats × 25 where the seats share half their requests; creates = distinct requests,
   0 duplicates (every shared request made once, the other seats attach to it).
3. a cap: 4 seats × 25 distinct ($10.00 each) against a $25.00 daily cap: spend never passes it.

`python bench/studio_postgres.py [--poll-ms MS]` (about a minute and a half). The job server asks for a poll
every 20 ms by default, far more often than any vendor (1-10 s), which makes polling most of a seat's CPU;
`--poll-ms 500` gives a cadence still faster than any real route's. Makespans run from the seats' common start
(each seat starts Python and opens the database first) to the last seat's end.

Beside each makespan, from the same run: each seat's CPU seconds (process + children), the job server's
and PostgreSQL's, the machine's load average, and the contention floor: all that CPU work divided by the
cores, a makespan no run on this machine can beat. Real seats are separate machines; here they share
its cores, so the run also gives one seat a core, then two seats a core each (pinned), and compares.
`bench/seat_cpu.py` says where one seat's CPU goes, stage by stage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from _setup import REPO

from promptreel.core.journal import Journal  # noqa: E402
from tests.engine_env import PLANTED_KEY, make_clip, write_settings  # noqa: E402
from tests.fakes.testproto import FakeJobAPI  # noqa: E402
from tests.postgres_env import Cluster, _bin_dir  # noqa: E402

JOB_SECONDS = 2.0
POLL_MS = int(sys.argv[sys.argv.index("--poll-ms") + 1]) if "--poll-ms" in sys.argv else 20
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
import resource, time
def cpu():  # this seat's CPU seconds so far, its own and its subprocesses'
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                         resource.RUSAGE_CHILDREN)))
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # every seat starts its run at once
before = cpu()
try:
    results = asyncio.run(engine.run(planned))
    print(json.dumps({"ok": sum(r.ok for r in results), "paid": round(sum(r.cost for r in results), 2),
                      "end": time.time(), "cpu": cpu() - before}))
except BudgetExceeded:
    print(json.dumps({"refused": True, "end": time.time(), "cpu": cpu() - before}))
journal.close()
"""
START_AFTER = 8.0  # seconds for every seat to start Python and open the database before the common start


@dataclass
class Run:
    makespan: float
    outs: list[dict]
    seat_cpu: list[float]  # each seat's CPU seconds in the run (process + children)
    other_cpu: dict[str, float]  # the job server's and PostgreSQL's, in the same window
    load: tuple[float, float]  # the machine's 1-minute load average at the start and at the end

    @property
    def cpu(self) -> float:
        return sum(self.seat_cpu) + sum(self.other_cpu.values())

    def floor(self, cores: int) -> float:
        """The shortest makespan the CPU work of this run allows on `cores` cores, all of them ours."""
        return self.cpu / cores

    def cpu_line(self, cores: int) -> str:
        seats = ", ".join(f"{c:.2f}" for c in self.seat_cpu)
        others = "; ".join(f"{k} {v:.2f} s" for k, v in self.other_cpu.items())
        return (
            f"CPU in the run: seats {seats} s (process + children); {others}; {self.cpu:.2f} s in all, "
            f"{self.floor(cores):.2f} s on {cores} cores (contention floor); load average "
            f"{self.load[0]:.1f} -> {self.load[1]:.1f}"
        )


def seats(
    prompts: list[list[str]], env: dict, cluster: Cluster | None = None, cores: list[set[int]] | None = None
) -> Run:
    """Makespan from the seats' common start to the last seat's end (starting Python is not measured:
    on a loaded 2-core machine four interpreters starting at once would swamp the figure). `cores`: the
    CPUs each seat may run on."""
    start = time.time() + START_AFTER
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SEAT, json.dumps(p), str(start)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            preexec_fn=(lambda c=cores[i]: os.sched_setaffinity(0, c)) if cores else None,
        )
        for i, p in enumerate(prompts)
    ]
    time.sleep(max(0.0, start - time.time()))
    load, server, pg = os.getloadavg()[0], time.process_time(), postgres_cpu(cluster)
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    others = {"job server": time.process_time() - server}  # this process serves the jobs, in threads
    if cluster is not None:
        others["PostgreSQL"] = postgres_cpu(cluster) - pg
    return Run(max(o["end"] for o in outs) - start, outs, [o["cpu"] for o in outs], others, (load, os.getloadavg()[0]))


def _cpu_of(pid: int) -> float:
    """A process's CPU seconds, with its reaped children's (a postmaster's ended backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(cluster: Cluster | None) -> float:
    """The cluster's CPU seconds so far: the postmaster, its live backends, and those it has reaped."""
    if cluster is None:
        return 0.0
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    total = _cpu_of(postmaster)
    for pid in children:
        with suppress(OSError):  # a backend that ended since
            total += _cpu_of(int(pid))
    return total


def main() -> None:
    bins = _bin_dir()
    if bins is None:
        sys.exit("PostgreSQL's initdb / pg_ctl not found: apt-get install postgresql")
    cluster = Cluster(bins).start()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            FakeJobAPI(make_clip(Path(tmp) / "clip.mp4"), job_seconds=JOB_SECONDS, key=PLANTED_KEY) as api,
        ):
            api.poll_after_ms = POLL_MS
            home = Path(tmp) / "home"
            env = {
                **os.environ,
                "PROMPTREEL_HOME": str(home),
                "TESTPROTO_API_KEY": PLANTED_KEY,
                "PYTHONPATH": str(REPO),
            }
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
            one = seats([[f"solo {i}" for i in range(25)]], env, cluster)
            url = fresh()
            four = seats([[f"seat {s} shot {i}" for i in range(25)] for s in range(4)], env, cluster)
            made = _made(url, api)
            pinning = hasattr(os, "sched_setaffinity")  # Linux
            cores = len(os.sched_getaffinity(0)) if pinning else os.cpu_count() or 1
            print(
                f"server time per job: {JOB_SECONDS:.1f} s, poll asked every {POLL_MS} ms; "
                f"route concurrency 30 per seat; "
                f"{cores} cores"
            )
            print(f"1 seat x 25 jobs:  {one.makespan:.2f} s")
            print(f"  {one.cpu_line(cores)}")
            ratio = four.makespan / one.makespan
            print(f"4 seats x 25 jobs: {four.makespan:.2f} s   ratio {ratio:.2f} (target <= 1.2)")
            print(f"  {four.cpu_line(cores)}")
            print(f"  creates {made[0]}, distinct requests made {made[1]} (target 100 and 100)")
            # Seats are separate machines: what one seat does with a core of its own, against two seats with a
            # core each, is what the shared database adds; four seats need four cores this machine lacks.
            if pinning and cores >= 2:
                fresh()
                pinned_one = seats([[f"pinned solo {i}" for i in range(25)]], env, cluster, cores=[{0}])
                fresh()
                pinned_two = seats(
                    [[f"pinned seat {s} shot {i}" for i in range(25)] for s in range(2)], env, cluster, cores=[{0}, {1}]
                )
                print(
                    f"a core per seat: 1 seat on core 0 {pinned_one.makespan:.2f} s, 2 seats on cores 0 and 1 "
                    f"{pinned_two.makespan:.2f} s, ratio {pinned_two.makespan / pinned_one.makespan:.2f} "
                    "(the job server and PostgreSQL share those cores)"
                )
                print(f"  {pinned_two.cpu_line(cores)}")
            del env["PROMPTREEL_DATABASE_URL"]  # the same on one machine's SQLite journal, for reference
            api.creates.clear()
            one_here = seats([[f"here solo {i}" for i in range(25)]], env).makespan
            four_here = seats([[f"here seat {s} shot {i}" for i in range(25)] for s in range(4)], env).makespan
            print(f"  the same on SQLite: {one_here:.2f} s and {four_here:.2f} s, ratio {four_here / one_here:.2f}")

            url = fresh()
            shared = [
                [f"shared shot {i}" for i in range(13)] + [f"seat {s} own {i}" for i in range(12)] for s in range(4)
            ]
            outs = seats(shared, env).outs
            made = _made(url, api)
            print(
                f"4 seats x 25 sharing 13 requests: creates {made[0]}, distinct requests {made[1]}, "
                f"duplicates {made[0] - made[1]} (target {13 + 4 * 12}, {13 + 4 * 12}, 0); "
                f"paid per seat {[o['paid'] for o in outs]}"
            )

            url = fresh(cap=25.0)
            outs = seats([[f"capped {s} shot {i}" for i in range(25)] for s in range(4)], env).outs
            journal = Journal(url)
            spent = journal.spent_on()
            journal.close()
            print(
                f"4 seats x $10.00 against a $25.00 cap: {sum('refused' in o for o in outs)} refused, "
                f"spent ${spent:.2f} (target <= $25.00), creates {sum(api.creates.values())}"
            )
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
