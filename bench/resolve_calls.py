"""Resolve scripting calls per filled placeholder, on a 14-item and a 500-item timeline (target <= 30 per
placeholder, the same on both). Every method call on a Resolve object is one round trip to Resolve
(external scripting, or the bridge's thread inside it); the Resolve double counts them.

    .venv/bin/python bench/resolve_calls.py [items ...]

Each timeline (tests/fakes/resolve.py `long_cut`) has 6 placeholders spread among shots on V1 and shots
on V2 before and after them, so each fill lands on V2 between shots. Clips come from the worker's own
clip maker: the `draft` model through the job engine (one batch) and conform, as the panel's Fill all
does. The per-fill reads (project settings, for the fill and for the clip maker, and the one read of the
whole timeline) are shown apart: they are what a fill of any number of placeholders costs once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promptreel.resolve_plugin.fill import fill  # noqa: E402
from promptreel.resolve_plugin.gateway import DirectGateway  # noqa: E402
from promptreel.resolve_plugin.worker import clip_maker  # noqa: E402
from tests.fakes.resolve import CallsByOp, long_cut  # noqa: E402

PLACEHOLDERS = 6
PER_FILL = ("project", "timeline")


def one(items: int) -> float:
    resolve, _ = long_cut(items, PLACEHOLDERS)
    gw = DirectGateway(resolve)
    counted = CallsByOp(gw)
    report = fill(gw, clip_maker(gw))
    assert not report.failed and len(report.edits) == PLACEHOLDERS, report.failed
    per = counted.besides(*PER_FILL) / PLACEHOLDERS
    ops = sum(n for op, n in counted.ops.items() if op not in PER_FILL) / PLACEHOLDERS
    timeline = counted.total("timeline")
    print(
        f"{items:>4} items: {counted.total()} calls; per fill: project x{counted.ops['project']} "
        f"{counted.total('project')}, timeline x{counted.ops['timeline']} {timeline} "
        f"({timeline / items:.1f} per item); "
        f"per placeholder: {per:.2f} calls in {ops:.2f} gateway ops (target <= 30)"
    )
    return per


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROMPTREEL_HOME"] = tmp
        per = [one(n) for n in sizes]
    print(f"calls per placeholder, {sizes[-1]} items / {sizes[0]} items: {per[-1] / per[0]:.2f} (target 1.00)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [14, 500])
