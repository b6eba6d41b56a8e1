"""OTIO hook `promptreel_fill`: fill a timeline's placeholders in place, Resolve-shaped (plain OS paths,
clips named after their media, media starting at 01:00:00:00), each slot kept as an alternate.

    args = {"output_dir": "...", "model": "draft", "fit": "fit", "codec": "prores-hq", "budget": None,
            "size": core.catalog.Size, "bit_depth": 10, "progress": callable(i, slot, state),
            "filler": None (the engine) or a Filler, "catalog": None, "project": "" (the cost ledger's)}
    otio.hooks.run("promptreel_fill", timeline, args)   # args["report"] holds the outcome

For OTIO pipelines that run hooks; promptreel's own callers (the CLI, Resolve's file mode) call
core.timeline.fill directly. Refusals (over budget, a slot the model cannot make) raise the core
UserError before anything is spent. OTIO loads this file by path, so it imports absolutely.
"""

from pathlib import Path

from promptreel.core.timeline.fill import fill_tracks
from promptreel.core.timeline.filler import FillOptions, engine_filler


def hook_function(in_timeline, argument_map=None):
    args = argument_map if argument_map is not None else {}
    options = FillOptions(
        output_dir=Path(args["output_dir"]),
        model=args.get("model"),
        fit=args.get("fit", "fit"),
        codec=args.get("codec", "prores-hq"),
        budget=args.get("budget"),
        progress=args.get("progress"),
        on_event=args.get("on_event"),
        project=args.get("project", ""),
    )
    report = fill_tracks(
        in_timeline.tracks,
        args.get("filler") or engine_filler,
        options,
        size=args["size"],
        bit_depth=args.get("bit_depth") or 10,
        global_start=in_timeline.global_start_time,
        resolve=True,
        catalog=args.get("catalog"),
    )
    args["report"] = {
        "filled": len(report.filled),
        "failed": [f"{ph.track} {ph.timecode}: {why}" for ph, why in report.failed],
        "cost": round(report.cost, 4),
    }
    return in_timeline
