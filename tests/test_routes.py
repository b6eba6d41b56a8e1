"""One descriptor per route (core/routes.py), registered through the `promptreel.routes` entry points: the
protocols, the keys, the sandbox and the CLI all read them, so a route added as one descriptor and one
entry-point line is known everywhere."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from promptreel.core import routes
from promptreel.core.cli import main
from promptreel.core.keys import known_keys, redact
from promptreel.core.providers import protocol_class
from promptreel.core.routes import GROUP, RouteDescriptor
from promptreel.core.sandbox import fake_classes, make_fake
from promptreel.core.tomlfile import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_installed_entry_points_are_the_pyprojects_lines():
    lines = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][GROUP]
    installed = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    assert installed == lines, "reinstall (pip install -e .) after changing pyproject.toml's entry points"
    assert set(routes.routes()) >= set(lines)


@pytest.mark.parametrize("name", sorted(routes.routes()))
def test_each_protocol_and_fake_takes_its_facts_from_its_descriptor(name):
    d = routes.route(name)
    cls = protocol_class(name)
    assert (cls.name, cls.key_names) == (name, d.key_names)
    if not getattr(cls, "local", False):
        assert (cls.default_base_url, cls.poll_interval) == (d.base_url, d.poll_seconds)
        assert d.base_url.startswith(("https://", "http://127.0.0.1"))
    for prefix, path in d.by_model:
        assert protocol_class(name, prefix + "x") is routes.load(path) and routes.load(path).name == name
    if d.fake:
        fake = routes.load(d.fake)
        assert fake.route_name == name and fake_classes()[name] is fake
        with make_fake(name) as running:
            assert set(d.keys) <= set(running.env())  # the sandbox sets exactly the variables the route reads


def test_a_route_added_as_one_descriptor_is_known_to_the_protocols_keys_sandbox_and_cli(capsys):
    acme = RouteDescriptor(
        name="acme",
        protocol="promptreel.core.providers.minimax:MiniMax",
        keys={"ACME_VIDEO_KEY": "Acme Video"},
        base_url="https://api.acme.example",
        poll_seconds=3.0,
        fake="promptreel.core.sandbox.minimax:FakeMiniMax",
    )
    assert "acme" not in routes.routes() and "ACME_VIDEO_KEY" not in known_keys()
    routes.register(acme)
    try:
        assert routes.route("acme") is acme and protocol_class("acme").__name__ == "MiniMax"
        assert known_keys()["ACME_VIDEO_KEY"] == "Acme Video"
        assert "acme" in fake_classes()
        assert main(["keys", "list"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert any(line.split()[:3] == ["ACME_VIDEO_KEY", "Acme", "Video"] for line in listed)
    finally:
        routes._added.pop("acme")
        routes.routes.cache_clear()
    assert "acme" not in routes.routes()


def test_every_routes_key_is_blanked_from_text(monkeypatch):
    for name in known_keys():
        monkeypatch.setenv(name, f"{name.lower()}-0123456789-secret")
        assert redact(f"sent {name.lower()}-0123456789-secret") == "sent [redacted]"


def test_an_unknown_route_is_a_key_error():
    with pytest.raises(KeyError, match="no route named 'nope'"):
        protocol_class("nope")
