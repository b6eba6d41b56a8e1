"""`promptreel models discover` and `models add`."""

from __future__ import annotations

import click


@click.command()
def discover() -> None:
    """List fal's or Replicate's video models from their published schemas."""


@click.command()
def add() -> None:
    """Write a discovered model to your catalog file."""
