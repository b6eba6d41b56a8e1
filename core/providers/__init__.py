"""Provider wire protocols: one module per protocol, all with the shape of `base.Protocol`, each route's
described once by its module's `ROUTE` (core/routes.py) and found through the `promptreel.routes` entry points.

Modules are imported only when a route uses them. Tests may `register` their own.
"""

from __future__ import annotations

from .. import routes
from .base import LocalProtocol, Protocol


def register(name: str, cls: type[Protocol]) -> None:
    """A test's own protocol class as route `name`, its facts taken from the class."""
    keys = {key: name for key in getattr(cls, "key_names", ())}
    routes.register(
        routes.RouteDescriptor(
            name=name,
            protocol=cls,
            keys=keys,
            base_url=getattr(cls, "default_base_url", ""),
            poll_seconds=getattr(cls, "poll_interval", 5.0),
        )
    )


def protocol_class(name: str, model_id: str | None = None) -> type[Protocol] | type[LocalProtocol]:
    """The protocol for route `name` (and, where a route speaks several APIs, for its `model_id`)."""
    cls: type[Protocol] | type[LocalProtocol] = routes.load(routes.route(name).protocol_for(model_id))
    return cls
