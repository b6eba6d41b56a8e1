"""Bridge cost: round trips per filled placeholder (target <= 8), for a plain fill and one with two takes
(imported together in one op), the bridge's own overhead per call, and a 50-placeholder fill through the
bridge against the Resolve double.

    .venv/bin/python bench/resolve_bridge.py [placeholders]

Clips come from the worker's own clip maker: the `draft` model through the job engine (one batch for
the whole fill) and conform, as the panel's Fill all does.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from promptreel.resolve_plugin.bridge.server import Bridge  # noqa: E402
from promptreel.resolve_plugin.fill import fill  # noqa: E402
from promptreel.resolve_plugin.gateway import BridgeGateway, DirectGateway  # noqa: E402
from promptreel.resolve_plugin.worker import clip_maker  # noqa: E402
from tests.fakes.resolve import FakeResolve  # noqa: E402


def scene(n: int):
    resolve = FakeResolve()
    project = resolve._new_project(rate="24", width=320, height=180)
    timeline = project.GetMediaPool().CreateEmptyTimeline("Bench")
    for i in range(n):
        timeline._add(1, 86400 + 12 * i, 12, f"GEN: shot {i}", kind="generator")
    return resolve


def main(n: int = 50) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROMPTREEL_HOME"] = tmp
        resolve = scene(n)
        bridge = Bridge(resolve)
        thread = threading.Thread(target=bridge.serve_forever)
        thread.start()
        gw = BridgeGateway(*bridge.address, token=bridge.token)
        try:
            maker = clip_maker(gw)
            t0 = time.perf_counter()
            report = fill(gw, maker)
            elapsed = time.perf_counter() - t0
            assert not report.failed, report.failed
            trips = gw.round_trips
            # Per batch, not per placeholder: project + timeline for the fill, project for the clip maker.
            print(
                f"fill of {n} placeholders through the bridge (draft model): {elapsed:.2f} s, {trips} round trips, "
                f"{(trips - 3) / n:.2f} per placeholder (target <= 8)"
            )

            # Two takes per placeholder, imported together in one op; the second added to the placed item's
            # Take Selector.
            takes_bridge = Bridge(scene(n))
            takes_thread = threading.Thread(target=takes_bridge.serve_forever)
            takes_thread.start()
            takes_gw = BridgeGateway(*takes_bridge.address, token=takes_bridge.token)
            try:
                report = fill(takes_gw, clip_maker(takes_gw), model="draft", variants=2)
                assert not report.failed and all(t.selector for t in report.takes), report.failed
                print(
                    f"fill with 2 variants as takes: {(takes_gw.round_trips - 3) / n:.2f} round trips per placeholder"
                )
            finally:
                takes_bridge.stop()
                takes_thread.join(10)

            calls = 300
            direct = DirectGateway(resolve)
            t0 = time.perf_counter()
            for _ in range(calls):
                direct.hello()
            d = (time.perf_counter() - t0) / calls
            t0 = time.perf_counter()
            for _ in range(calls):
                gw.hello()
            b = (time.perf_counter() - t0) / calls
            print(
                f"per call: direct {d * 1e6:.0f} us, bridge {b * 1e6:.0f} us, bridge overhead {(b - d) * 1e6:.0f} us "
                f"(x{b / d:.1f})"
            )
        finally:
            bridge.stop()
            thread.join(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
