"""Routes as promptreel knows them: one descriptor per route (its name, key variables, default base URL, poll
cadence, wire protocol and sandbox fake), registered through the `promptreel.routes` entry point group, as
OpenTimelineIO registers adapters. The protocols (core/providers), the keys (core/keys.py) and the sandbox
(core/sandbox) all read these; no other list of routes is kept.

Adding a route is one descriptor and one line: its protocol module defines

    ROUTE = RouteDescriptor(name="ark", protocol="promptreel.core.providers.ark:Ark", keys={"ARK_API_KEY": "..."},
                            base_url="https://...", poll_seconds=5.0, fake="promptreel.core.sandbox.ark:FakeArk")

and pyproject.toml names it under `[project.entry-points."promptreel.routes"]`:
`ark = "promptreel.core.providers.ark:ROUTE"`.

Installed metadata is what an installed promptreel reads; running from a checkout (or from an editable install
made before a route was added), the checkout's pyproject.toml supplies the lines the metadata lacks.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

GROUP = "promptreel.routes"


@dataclass(frozen=True)
class RouteDescriptor:
    name: str  # as the catalog, the CLI and the journal spell it
    protocol: str | type  # "package.module:Class" of its wire protocol (a class only when a test registers one)
    keys: Mapping[str, str] = field(default_factory=dict)  # environment / keyring variable -> what it is for
    needs: tuple[str, ...] | None = None  # the keys every call needs; None: all of `keys` (Kling takes either scheme)
    base_url: str = ""  # the vendor's default base URL ("" for a route that renders here)
    poll_seconds: float = 5.0  # between polls when the provider gives no hint
    fake: str | None = None  # "package.module:Class" of its sandbox fake (core/sandbox)
    # One route, more than one wire API (the Gemini API serves Omni through Interactions and Veo through
    # predictLongRunning, with one key on one host): model ids starting with a prefix take that protocol.
    by_model: tuple[tuple[str, str], ...] = ()

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(self.keys) if self.needs is None else self.needs

    def protocol_for(self, model_id: str | None = None) -> str | type:
        for prefix, path in self.by_model if model_id else ():
            if model_id is not None and model_id.startswith(prefix):
                return path
        return self.protocol


def load(path: str | type) -> Any:
    """The object a "package.module:attr" path names (a class is itself)."""
    if not isinstance(path, str):
        return path
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


_added: dict[str, RouteDescriptor] = {}


def register(descriptor: RouteDescriptor) -> None:
    """Add (or replace) a route at run time: tests' own protocols."""
    _added[descriptor.name] = descriptor
    routes.cache_clear()


def _checkout_lines() -> dict[str, str]:
    """The entry point lines of the checkout this package runs from, if it runs from one."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    from .tomlfile import loads

    data = loads(pyproject.read_text("utf-8"))
    if data.get("project", {}).get("name") != "promptreel":
        return {}
    return dict(data["project"].get("entry-points", {}).get(GROUP, {}))


@functools.cache
def routes() -> dict[str, RouteDescriptor]:
    """Every route by name, in registration order."""
    lines = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    for name, value in _checkout_lines().items():
        lines.setdefault(name, value)
    found = {}
    for name, value in lines.items():
        descriptor = load(value)
        if not isinstance(descriptor, RouteDescriptor) or descriptor.name != name:
            raise TypeError(f"entry point {name} = {value!r} in {GROUP} is not the RouteDescriptor of route {name}")
        found[name] = descriptor
    return {**found, **_added}


def route(name: str) -> RouteDescriptor:
    """The descriptor of route `name`; KeyError when there is none."""
    found = routes().get(name)
    if found is None:
        raise KeyError(f"no route named {name!r}")
    return found
