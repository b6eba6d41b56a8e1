"""promptreel core: catalog, planning, providers, engine, journal, conform, settings and keys.

Nothing here imports `promptreel.otio_adapters` or `promptreel.resolve_plugin`.
"""

__version__ = "0.1.0"
