"""Where one seat's CPU goes, per job (issue 16): one seat process runs the studio benchmark's workload
(25 jobs, a loopback job server taking 2.0 s per job, a throwaway PostgreSQL), timed stage by stage.

Each stage's CPU is the CPU of the thread doing it (`time.thread_time`): a synchronous stage (a journal
statement, a probe, hashing, reading credentials) around its call; an asynchronous one (create, poll,
download) summed over each step the event loop gives it, so the seat's other jobs are not counted in.
"rest" is what the seat spent outside every named stage (the event loop, the engine between stages).
Beside the seat: its children (subprocesses launched, and their CPU), the job server's CPU (this
process), PostgreSQL's (the postmaster and its backends), and the statements the seat sent PostgreSQL.

`python bench/seat_cpu.py [jobs] [--profile]` (seconds; `--profile` adds cProfile's top functions, by CPU,
for the seat's main thread, on stderr).
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
from studio_postgres import postgres_cpu  # noqa: E402

from promptreel.core.journal import Journal  # noqa: E402
from tests.engine_env import PLANTED_KEY, make_clip, write_settings  # noqa: E402
from tests.fakes.testproto import FakeJobAPI  # noqa: E402
from tests.postgres_env import Cluster, _bin_dir  # noqa: E402

JOB_SECONDS = 2.0
SEAT = r"""
import asyncio, collections, functools, json, resource, subprocess, sys, threading, time
from promptreel.core import engine as engine_module, provenance, store
from promptreel.core.catalog import load_catalog
from promptreel.core.engine import Engine
from promptreel.core.journal import Journal
from promptreel.core.plan import PlannedRequest
from promptreel.core.request import GenerationRequest
from promptreel.core.settings import load_settings
import tests.fakes.testproto as testproto

cpu = collections.Counter()
calls = collections.Counter()
longest = collections.Counter()  # the longest single call: a first call's one-off costs (an import) show here
depth = threading.local()

def timed(name, fn, nested=True):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        outer = nested or getattr(depth, "n", 0) == 0  # a journal method calling another counts once
        depth.n = getattr(depth, "n", 0) + (not nested)
        t = time.thread_time()
        try:
            return fn(*a, **kw)
        finally:
            depth.n -= not nested
            if outer:
                spent = time.thread_time() - t
                cpu[name] += spent
                calls[name] += 1
                longest[name] = max(longest[name], spent)
    return wrapper

class Steps:
    # An awaitable that drives a coroutine, counting the CPU of each step it runs (not the waits between).
    def __init__(self, name, coro):
        self.name, self.coro = name, coro
    def __await__(self):
        value, error = None, None
        calls[self.name] += 1
        while True:
            t = time.thread_time()
            try:
                out = self.coro.throw(error) if error is not None else self.coro.send(value)
            except StopIteration as done:
                cpu[self.name] += time.thread_time() - t
                return done.value
            except BaseException:
                cpu[self.name] += time.thread_time() - t
                raise
            cpu[self.name] += time.thread_time() - t
            try:
                value, error = (yield out), None
            except BaseException as e:
                value, error = None, e

def timed_async(name, fn):
    @functools.wraps(fn)
    async def wrapper(*a, **kw):
        return await Steps(name, fn(*a, **kw))
    return wrapper

for method in ("add_job", "update", "set_state", "set_submitting", "set_submitted", "set_error", "get", "job",
               "claim", "claim_holder", "renew", "release", "charge", "reserve", "cache_get", "cache_put",
               "record_c2pa", "transaction", "charged_to_sandbox"):
    setattr(Journal, method, timed("journal." + method, getattr(Journal, method), nested=False))
statements = collections.Counter()  # what reached PostgreSQL: each a round trip (a transaction adds two)
_execute, _transaction = store.Postgres.execute, store.Postgres.transaction
def execute(self, sql, args=()):
    statements[" ".join(sql.split()[:3])] += 1
    return _execute(self, sql, args)
def transaction(self):
    if getattr(self._local, "conn", None) is None:
        statements["BEGIN + COMMIT"] += 1
    return _transaction(self)
store.Postgres.execute, store.Postgres.transaction = execute, transaction
engine_module.probe = timed("probe", engine_module.probe)
engine_module.fetch = timed_async("download (HTTP)", engine_module.fetch)
testproto.TestProto.submit = timed_async("create (HTTP)", testproto.TestProto.submit)
testproto.TestProto.poll = timed_async("poll (HTTP)", testproto.TestProto.poll)
provenance.file_sha256 = timed("provenance: sha256", provenance.file_sha256)
provenance.read_credentials = timed("provenance: read C2PA", provenance.read_credentials)
provenance._write_json = timed("provenance: sidecar", provenance._write_json)
Engine._record_provenance = timed("provenance (all)", Engine._record_provenance)
launched = collections.Counter()
_init = subprocess.Popen.__init__
def counting(self, args, *a, **kw):
    launched[str(args[0] if isinstance(args, (list, tuple)) else args).rsplit("/", 1)[-1]] += 1
    return _init(self, args, *a, **kw)
subprocess.Popen.__init__ = counting

settings = load_settings()
journal = Journal.open_default()
engine = Engine(load_catalog(settings.catalog_file), journal, settings)
planned = [PlannedRequest(GenerationRequest(prompt=p, model="test-model", seconds=4, size="1280x720"))
           for p in json.loads(sys.argv[1])]
def usage(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime
before = {"self": usage(resource.RUSAGE_SELF), "children": usage(resource.RUSAGE_CHILDREN),
          "main": time.thread_time(), "modules": set(sys.modules)}
start = time.time()
if "--profile" in sys.argv:
    import cProfile, io, pstats
    profile = cProfile.Profile(time.thread_time)
    results = profile.runcall(asyncio.run, engine.run(planned))
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(40)
    print(text.getvalue(), file=sys.stderr)
else:
    results = asyncio.run(engine.run(planned))
print(json.dumps({"ok": sum(r.ok for r in results), "wall": time.time() - start,
                  "process": usage(resource.RUSAGE_SELF) - before["self"],
                  "children": usage(resource.RUSAGE_CHILDREN) - before["children"],
                  "main thread": time.thread_time() - before["main"],
                  "cpu": dict(cpu), "calls": dict(calls), "statements": dict(statements),
                  "longest": dict(longest), "launched": dict(launched),
                  "imported": sorted({m.split(".")[0] for m in set(sys.modules) - before["modules"]})}))
journal.close()
"""


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    bins = _bin_dir()
    if bins is None:
        sys.exit("PostgreSQL's initdb / pg_ctl not found: apt-get install postgresql")
    cluster = Cluster(bins).start()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            FakeJobAPI(make_clip(Path(tmp) / "clip.mp4"), job_seconds=JOB_SECONDS, key=PLANTED_KEY) as api,
        ):
            home = Path(tmp) / "home"
            env = {
                **os.environ,
                "PROMPTREEL_HOME": str(home),
                "TESTPROTO_API_KEY": PLANTED_KEY,
                "PYTHONPATH": str(REPO),
                "PROMPTREEL_DATABASE_URL": cluster.new_database(),
            }
            os.environ.update(PROMPTREEL_HOME=str(home))
            write_settings(home, api.url)
            with (home / "settings.toml").open("a") as f:
                f.write('[route_limits."testproto"]\nconcurrency = 30\n')
            Journal(env["PROMPTREEL_DATABASE_URL"]).close()  # the schema, outside the measure
            pg, server = postgres_cpu(cluster), time.process_time()
            out = subprocess.run(
                [sys.executable, "-c", SEAT, json.dumps([f"shot {i}" for i in range(jobs)]), *sys.argv[2:]],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                check=True,
            ).stdout
            pg, server = postgres_cpu(cluster) - pg, time.process_time() - server
    finally:
        cluster.stop()
    seat = json.loads(out)
    named = sum(v for k, v in seat["cpu"].items() if k != "provenance (all)")
    print(
        f"one seat, {jobs} jobs ({seat['ok']} done) in {seat['wall']:.2f} s; load average "
        f"{os.getloadavg()[0]:.1f}; CPU ms per job:"
    )
    rows = sorted(seat["cpu"].items(), key=lambda kv: -kv[1])
    for name, seconds in rows:
        longest = seat["longest"].get(name)
        print(
            f"  {name:34s} {1000 * seconds / jobs:7.2f}   ({seat['calls'][name]} calls"
            + (f", longest {1000 * longest:.2f} ms)" if longest else ")")
        )
    print(f"  {'rest (event loop, engine, threads)':34s} {1000 * (seat['process'] - named) / jobs:7.2f}")
    print(
        f"  {'seat process in all':34s} {1000 * seat['process'] / jobs:7.2f}   "
        f"(main thread {1000 * seat['main thread'] / jobs:.2f})"
    )
    print(f"  {'seat children':34s} {1000 * seat['children'] / jobs:7.2f}   (launched: {seat['launched'] or 'none'})")
    print(f"  {'job server (this process)':34s} {1000 * server / jobs:7.2f}")
    print(f"  {'PostgreSQL':34s} {1000 * pg / jobs:7.2f}")
    print(f"  first imported during the run: {', '.join(seat['imported'])}")
    trips = seat["statements"]
    print(f"round trips to PostgreSQL per job: {(sum(trips.values()) + trips.get('BEGIN + COMMIT', 0)) / jobs:.1f}")
    for what, n in sorted(trips.items(), key=lambda kv: -kv[1]):
        print(f"  {what:34s} {n / jobs:5.2f}")


if __name__ == "__main__":
    main()
