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
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_FAST_LEVELS = 64  # real timelines nest a dozen or two levels; deeper ones are measured bracket by bracket


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
    depth = _depth_by_levels(brackets)
    return depth if depth is not None else _depth_by_steps(brackets)


def _depth_by_levels(brackets: bytes) -> int | None:
    """The depth as the number of passes that each remove every innermost pair (one level a pass, at C
    speed); None when the brackets do not pair up, or pair up deeper than _FAST_LEVELS."""
    # An opener counts as +1 and a closer as -1 whatever their kind (as _depth_by_steps counts them).
    brackets = brackets.translate(_ONE_KIND)
    for level in range(_FAST_LEVELS + 1):
        if not brackets:
            return level
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            return None  # only "]...][...[" is left: unpaired brackets
        brackets = inner
    return None


def _depth_by_steps(brackets: bytes) -> int:
    """The highest running sum of +1 per opener and -1 per closer: exact for any input, a step per bracket."""
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
