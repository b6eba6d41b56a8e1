"""How deeply a JSON document nests, measured without parsing it.

OpenTimelineIO's JSON reader and writer recurse in C++ once per level: a file of 60,000 nested
Stacks (120 KB) kills the process with a segfault, which no `except` can catch. So every
timeline file is measured here before OTIO sees it. A real timeline nests about a dozen levels
(timeline, stack, track, clip, media reference, range, time) plus nested sequences and metadata:
MAX_JSON_DEPTH leaves room for about a hundred nested sequences and stays far below the depth
that exhausts even a 512 KB thread stack (macOS's default for threads other than the main one).
"""

from __future__ import annotations

from itertools import accumulate

MAX_JSON_DEPTH = 256
MAX_NESTED_COMPOSITIONS = 100  # Stacks and Tracks inside one another (our tree walks recurse once per level)

_NOT_SYNTAX = bytes(range(256)).translate(None, b'"[]{}')  # every byte but quotes and brackets
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """The deepest nesting of `data`'s arrays and objects (0 for a bare value): linear, no recursion, a
    fraction of OTIO's own read time. Malformed JSON gives some number; the parser then refuses it."""
    # Brackets inside strings do not nest. A backslash only ever starts an escape, inside a string:
    # without escaped backslashes and escaped quotes, every other quote-delimited run is a string.
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Keep quotes and brackets only. Dropping two adjacent quotes keeps every bracket's side of
    # every string (the parity of the quotes before it), and leaves few strings to split on.
    syntax = data.translate(None, _NOT_SYNTAX).replace(b'""', b"")
    brackets = b"".join(syntax.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
