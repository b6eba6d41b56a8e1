"""`promptreel sandbox serve`: the providers' fakes on loopback, until Ctrl-C."""

from __future__ import annotations

import threading

import click


@click.group()
def sandbox() -> None:
    """Loopback fakes of every route's API, with real media and faults on demand."""


@sandbox.command()
@click.option("--route", "routes", multiple=True, metavar="NAME",
              help="A route to serve (openai, gemini, vertex, runway, kling, ltx, replicate, fal, comfyui); repeatable.")
@click.option("--all", "all_routes", is_flag=True, help="Serve every route (the default when no --route is given).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port of the first route, the next route one higher; 0 picks free ports.")
@click.option("--latency", type=click.FloatRange(0), default=0.0, show_default=True, metavar="S",
              help="Seconds each job takes at least.")
@click.option("--small", is_flag=True, help="Send small media (320x180, at most 1 s) instead of what the model makes.")
def serve(routes: tuple[str, ...], all_routes: bool, port: int, latency: float, small: bool) -> None:
    """Start the fakes and print the variables that point promptreel at them.

    Each line is NAME=VALUE: a PROMPTREEL_<ROUTE>_BASE_URL and the placeholder keys the fake accepts.
    Set them in the shell that runs promptreel; Ctrl-C stops the fakes. A request may ask for a fault
    with the header X-Fake-Fault (or the query parameter fake_fault): see promptreel.core.sandbox.
    """
    from ..sandbox import FAKES, SMALL, FULL
    from ..sandbox import sandbox as start

    chosen = None if all_routes or not routes else list(routes)
    for name in chosen or ():
        if name not in FAKES:
            raise click.BadParameter(f"no route {name!r}; choose from {', '.join(FAKES)}", param_hint="--route")
    with start(chosen, latency=latency, limit=SMALL if small else FULL, port=port) as env:
        for name, value in env.items():
            click.echo(f"{name}={value}")
        click.echo(f"# serving {', '.join(env.fakes)}; Ctrl-C stops", err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
