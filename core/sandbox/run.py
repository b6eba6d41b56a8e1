"""Several fakes at once, and the environment that points promptreel's routes at them.

with sandbox(routes=["openai", "runway"], latency=2.0) as env:
    subprocess.run(["promptreel", "generate", ...], env={**os.environ, **env})
    env.fakes["runway"].creates
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .fake import Fake
from .kling import SANDBOX_ACCESS as KLING_ACCESS, SANDBOX_SECRET as KLING_SECRET  # noqa: F401  (tests sign with them)
from .media import FULL, Limit


class Sandbox(dict[str, Any]):
    """The environment mapping (str -> str), with the running fakes by route in `fakes`."""

    fakes: dict[str, Fake]


def fake_classes() -> dict[str, type[Fake]]:
    """Route name -> its fake, in the catalog's spelling, as the routes' descriptors name them (core/routes.py)."""
    from ..routes import load, routes

    return {name: load(d.fake) for name, d in routes().items() if d.fake}


def make_fake(route: str, *, latency: float = 0.0, limit: Limit = FULL, port: int = 0) -> Fake:
    fakes = fake_classes()
    cls = fakes.get(route)
    if cls is None:
        raise BadInput(f"There is no sandbox route called {route!r}.", f"Choose from: {', '.join(fakes)}.")
    return cls.sandboxed(latency=latency, limit=limit, port=port)


@contextmanager
def sandbox(
    routes: Iterable[str] | None = None, latency: float = 0.0, limit: Limit = FULL, port: int = 0, export: bool = False
) -> Iterator[Sandbox]:
    """Start the fakes for `routes` (all when None) on loopback; yield their environment.

    `port` 0 picks free ports; another number gives the first route that port, the next one port+1,
    and so on. `export` also sets the variables in os.environ until the block ends.
    """
    from .vertex import FakeVertexVeo

    names = list(dict.fromkeys(routes or fake_classes()))
    env = Sandbox()
    env.fakes = {}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="promptreel-sandbox-")))
        for i, name in enumerate(names):
            fake = stack.enter_context(make_fake(name, latency=latency, limit=limit, port=port + i if port else 0))
            env.fakes[name] = fake
            env.update(fake.env())
            if name == "vertex" and isinstance(fake, FakeVertexVeo):
                adc = workdir / "vertex-adc.json"
                adc.write_text(json.dumps(fake.adc_info()))
                env["GOOGLE_APPLICATION_CREDENTIALS"] = str(adc)
        if export:
            stack.enter_context(exported(env))
        yield env


@contextmanager
def exported(variables: Mapping[str, str]) -> Iterator[None]:
    """Set `variables` in os.environ for the block; then put back what was there (or nothing)."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
