"""`promptreel sandbox serve`: the providers' fakes on loopback, until Ctrl-C."""

from __future__ import annotations

import contextlib
import shlex
import threading

import click


# Every line sets and exports its variable on its own: a bare NAME=VALUE in bash sets a shell
# variable that promptreel never sees, or changes an exported real key and not the base URL beside
# it, and the request goes to the real vendor. Values are quoted, since paths may hold spaces.
def _fish(name: str, value: str) -> str:
    return "set -gx {} '{}'".format(name, value.replace("\\", "\\\\").replace("'", "\\'"))


def _powershell(name: str, value: str) -> str:
    # PowerShell also ends a single-quoted string at the typographic single quotes: double each.
    for q in "'\u2018\u2019\u201a\u201b":
        value = value.replace(q, q + q)
    return f"$env:{name} = '{value}'"


SHELLS = {
    "posix": lambda name, value: f"export {name}={shlex.quote(value)}",
    "fish": _fish,
    "powershell": _powershell,
}


@click.group()
def sandbox() -> None:
    """Loopback fakes of every route's API, with real media and faults on demand."""


@sandbox.command()
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="NAME",
    help="A route to serve (openai, gemini, vertex, runway, kling, ltx, replicate, fal, comfyui); repeatable.",
)
@click.option("--all", "all_routes", is_flag=True, help="Serve every route (the default when no --route is given).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the first route, the next route one higher; 0 picks free ports.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    metavar="S",
    help="Seconds each job takes at least.",
)
@click.option("--small", is_flag=True, help="Send small media (320x180, at most 1 s) instead of what the model makes.")
@click.option(
    "--env",
    "shell",
    type=click.Choice(sorted(SHELLS)),
    default="posix",
    show_default=True,
    help="The shell the printed lines are for: posix (bash, zsh, sh), fish or powershell.",
)
def serve(routes: tuple[str, ...], all_routes: bool, port: int, latency: float, small: bool, shell: str) -> None:
    """Start the fakes and print the commands that point promptreel at them.

    One line per variable, for the shell --env names (default `export NAME='VALUE'`): a
    PROMPTREEL_<ROUTE>_BASE_URL and the placeholder keys the fake accepts. Paste them into the shell
    that runs promptreel; Ctrl-C stops the fakes. A request may ask for a fault with the header
    X-Fake-Fault (or the query parameter fake_fault): see promptreel.core.sandbox.
    """
    from ..sandbox import FULL, SMALL, fake_classes, sandbox as start

    chosen = None if all_routes or not routes else list(routes)
    fakes = fake_classes()
    for name in chosen or ():
        if name not in fakes:
            raise click.BadParameter(f"no route {name!r}; choose from {', '.join(fakes)}", param_hint="--route")
    with start(chosen, latency=latency, limit=SMALL if small else FULL, port=port) as env:
        for name, value in env.items():
            click.echo(SHELLS[shell](name, value))
        click.echo(f"# serving {', '.join(env.fakes)}; Ctrl-C stops", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
