"""The folders promptreel's media lives in: the only ones the bridge may read and write, and the only ones
the panel serves pictures from."""

from __future__ import annotations

from promptreel.core.settings import output_dir

from . import panel_settings


def media_folders() -> list[str]:
    """The only folders the bridge may read files from or write them to: promptreel's media (conformed
    clips and drafts) and the panel's export folder. Not the data folder: it holds the journal and settings."""
    return [str(output_dir().expanduser().resolve()), str(panel_settings.load().watch_dir.resolve())]
