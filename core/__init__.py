"""promptreel core: catalog, planning, providers, engine, journal, conform, settings and keys.

Nothing here imports `promptreel.otio_adapters` or `promptreel.resolve_plugin`.
"""


def __getattr__(name: str) -> str:
    # The version is pyproject.toml's, read from the installed package's metadata when asked for.
    if name == "__version__":
        from importlib.metadata import version

        return version("promptreel")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
