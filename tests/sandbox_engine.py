"""The real engine, journal and clients against the sandbox's vendor fakes (not the engine's test protocol)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from promptreel.core.catalog import load_catalog
from promptreel.core.engine import Engine, JobResult
from promptreel.core.journal import Job, Journal
from promptreel.core.plan import PlannedRequest, check_request
from promptreel.core.request import GenerationRequest
from promptreel.core.settings import load_settings


def point_at(fakes, monkeypatch, home: Path, catalog: str = "") -> None:
    """Environment and settings for the engine to use the running `fakes` (a sandbox(...) mapping)."""
    for fake in fakes.fakes.values():
        fake.reset()
    for name, value in fakes.items():
        monkeypatch.setenv(name, value)
    lines = [f'output_dir = "{home / "media"}"']
    if catalog:
        (home / "catalog.toml").write_text(catalog)
        lines.append(f'catalog_file = "{home / "catalog.toml"}"')
    (home / "settings.toml").write_text("\n".join(lines) + "\n")


def run(home: Path, *requests: GenerationRequest) -> tuple[list[JobResult], list[Job]]:
    """One engine run of `requests` (checked by the planner first); no real waiting between polls."""
    settings = load_settings()
    journal = Journal(home / "journal.sqlite")
    try:
        engine = Engine(load_catalog(settings.catalog_file), journal, settings)

        async def no_wait(seconds: float) -> None:
            await asyncio.sleep(0)

        engine.sleep = no_wait
        for req in requests:
            check_request(req, engine.catalog.get(req.model))
        results = asyncio.run(engine.run([PlannedRequest(r) for r in requests]))
        return results, [journal.get(r.job_id) for r in results]
    finally:
        journal.close()


def two_slots(first: str, second: str) -> list:
    """A 23.976 fps landscape slot on model `first` and a 25 fps portrait one on `second`."""
    from fractions import Fraction

    from promptreel.core.request import Slot

    return [
        Slot(
            frames=20, rate=Fraction(24000, 1001), size="320x180", prompt="a kite over dunes", model=first, name="SH010"
        ),
        Slot(
            frames=17, rate=Fraction(25), size="180x320", prompt="a paper boat on a canal", model=second, name="SH020"
        ),
    ]


def fill_exact(home: Path, slots: list) -> list:
    """Fill `slots` through the real engine and conform, no real waiting between polls; each clip must be
    exactly its slot (frames, rate, size). Returns the clips."""
    from promptreel.core.conform.probe import probe
    from promptreel.core.slots import FillSettings, fill_slots

    settings = load_settings()
    journal = Journal(home / "journal.sqlite")
    try:
        engine = Engine(load_catalog(settings.catalog_file), journal, settings)

        async def no_wait(seconds: float) -> None:
            await asyncio.sleep(0)

        engine.sleep = no_wait
        clips = asyncio.run(fill_slots(slots, FillSettings(output_dir=home / "conformed"), engine=engine))
    finally:
        journal.close()
    for clip, slot in zip(clips, slots):
        assert clip.ok, clip.error
        info = probe(clip.path)
        assert (info.frames, info.rate, f"{info.width}x{info.height}") == (slot.frames, slot.rate, str(slot.size))
    return clips
