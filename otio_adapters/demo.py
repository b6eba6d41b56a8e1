"""The OTIO half of `promptreel demo`: storyboard -> drafts -> fill -> a filled .otio and conformed media.

Offline, with the draft model. The `demo` command (otio_adapters/cli.py) calls `run_demo(folder)` and
prints `summary_rows()`; for `--sandbox`, pass a Filler that runs the engine on its sandbox routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.timeline.fill import FillReport, fill_timeline
from ..core.timeline.filler import Filler, FillOptions, engine_filler
from .storyboard import read_shot_list
from .timeline_io import Document, write_timeline

SHOTS = """shot,duration,prompt,seed,notes
SH010,1s,"a paper boat on a rain-soaked street, low angle",11,opening
SH020,00:00:01:12,"the boat tips over a kerb into a gutter stream",12,
SH030,60,"the boat sails out of a drain into the sea at dawn",13,closing
"""

# The same shots on three paid models, for `demo --sandbox`: served by the loopback fakes.
SANDBOX_SHOTS = """shot,duration,prompt,model,seed,notes
SH010,1s,"a paper boat on a rain-soaked street, low angle",gemini-omni-1.2-flash,,opening
SH020,00:00:01:12,"the boat tips over a kerb into a gutter stream",kling-v3,12,
SH030,60,"the boat sails out of a drain into the sea at dawn",gen-4.5,13,closing
"""


@dataclass
class DemoResult:
    shots: Path
    board: Path  # placeholders with playable drafts
    filled: Path  # the filled timeline
    media: Path  # folder of conformed media
    report: FillReport

    def summary_rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """(shot, record TC, frames, model, cost, media file) per filled shot."""
        return [
            (ph.name, ph.timecode, str(ph.frames), str(f.provenance.model), f"{f.provenance.cost:.2f}", f.media.name)
            for ph, f in self.report.filled
        ]


def run_demo(
    folder: Path,
    *,
    filler: Filler = engine_filler,
    model: str | None = "draft",
    rate: str = "24",
    size: str = "320x180",
    on_event=None,
    shots_csv: str = SHOTS,
) -> DemoResult:
    """`model` None fills each shot with its own model from the shot list."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shots = folder / "shots.csv"
    shots.write_text(shots_csv, "utf-8")
    media = folder / "media"
    board = read_shot_list(shots, rate=rate, size=size)
    # The slates are the board, not jobs an editor follows or pays for: `on_event` hears only the fill, one
    # job per shot.
    fill_timeline(board, filler, FillOptions(output_dir=media / "drafts", model="draft", codec="h264"))
    board_path, _ = write_timeline(Document(folder / "board.otio", "otio_json", board, board), folder / "board.otio")
    # The board's drafts are placeholders in their own right: fill them for real.
    options = FillOptions(output_dir=media, model=model, codec="prores-hq", on_event=on_event)
    report = fill_timeline(board, filler, options)
    filled, _ = write_timeline(Document(folder / "filled.otio", "otio_json", board, board), folder / "filled.otio")
    return DemoResult(shots, board_path, filled, media, report)
