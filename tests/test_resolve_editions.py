from __future__ import annotations

import pytest

from promptreel.resolve_plugin.editions import decide


@pytest.mark.parametrize(
    "product, version, external, bridge, mode, route, says",
    [
        ("DaVinci Resolve Studio", [21, 0, 4, 7, ""], True, False, "connected", "external", "external scripting"),
        ("DaVinci Resolve Studio", [21, 1, 0, 3, ""], False, True, "connected", "bridge", "Scripts"),
        ("DaVinci Resolve Studio", [20, 3, 0, 1, ""], False, False, "file", None, "External scripting"),
        ("DaVinci Resolve", [21, 0, 4, 7, ""], False, True, "connected", "bridge", "bridge"),
        ("DaVinci Resolve", [19, 1, 3, 7, ""], False, False, "file", None, "Workspace > Scripts"),
        ("DaVinci Resolve", [21, 1, 0, 14, ""], False, False, "file", None, "runs no Python scripts"),
        ("DaVinci Resolve", ["21", "2", "0"], False, False, "file", None, "since 21.1"),
        (None, None, False, False, "file", None, "did not answer"),
    ],
)
def test_decide(product, version, external, bridge, mode, route, says):
    d = decide(product, version, external=external, bridge=bridge)
    assert (d.mode, d.route) == (mode, route)
    assert says in d.reason
