"""OTIO hook `promptreel_scan`: a timeline's placeholders, each priced on its model (nothing is changed).

    args = {"model": "draft", "size": core.catalog.Size or None, "bit_depth": 10}
    otio.hooks.run("promptreel_scan", timeline, args)   # args["scan"] holds the result

For OTIO pipelines that run hooks: the result is plain data. promptreel's own callers (the CLI,
Resolve's file mode) call core.timeline.fill directly. OTIO loads this file by path, so it imports
absolutely.
"""

from promptreel.core.timeline.fill import scan_timeline
from promptreel.core.timeline.metadata import is_resolve_shaped


def hook_function(in_timeline, argument_map=None):
    args = argument_map if argument_map is not None else {}
    estimates, _ = scan_timeline(
        in_timeline,
        model=args.get("model"),
        size=args.get("size"),
        bit_depth=args.get("bit_depth"),
        catalog=args.get("catalog"),
    )
    args["scan"] = {
        "resolve_shaped": is_resolve_shaped(in_timeline),
        "placeholders": [
            {
                "track": e.placeholder.track,
                "timecode": e.placeholder.timecode,
                "prompt": e.slot.prompt,
                "frames": e.slot.frames,
                "model": e.slot.model,
                "cost": e.cost,
                "error": e.error,
            }
            for e in estimates
        ],
    }
    return in_timeline
