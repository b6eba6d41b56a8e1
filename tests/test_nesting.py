"""json_depth, the check that keeps too-deep JSON away from OTIO's C++ reader (core/nesting.py): the
depth it gives is exact, by the pass-per-level method for real timelines and bracket by bracket for
deep or malformed input, and both agree with the plain running-sum method it replaced."""

import json
from itertools import accumulate

from hypothesis import given, strategies as st

from promptreel.core.nesting import _FAST_LEVELS, _depth_by_levels, json_depth


def running_sum_depth(data: bytes) -> int:
    """The method json_depth used before the pass-per-level one, kept here as the reference."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    syntax = data.translate(None, bytes(range(256)).translate(None, b'"[]{}')).replace(b'""', b"")
    brackets = b"".join(syntax.split(b'"')[::2])
    steps = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
    return max(accumulate(steps[b] for b in brackets), default=0)


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def test_well_formed_brackets_are_measured_a_level_a_pass():
    assert _depth_by_levels(b"") == 0
    assert _depth_by_levels(b"[]") == 1
    assert _depth_by_levels(b"[][][]") == 1  # adjacent pairs are one level
    assert _depth_by_levels(b"{[{}]}[]") == 3
    assert _depth_by_levels(b"[[][[]]][]") == 3
    assert _depth_by_levels(b"[" * _FAST_LEVELS + b"]" * _FAST_LEVELS) == _FAST_LEVELS


def test_deep_or_unpaired_brackets_are_left_to_the_running_sum():
    deeper = _FAST_LEVELS + 1
    assert _depth_by_levels(b"[" * deeper + b"]" * deeper) is None
    for unpaired in (b"[", b"]", b"][", b"[[]", b"[]]", b"]]][[[", b"[[]]]["):
        assert _depth_by_levels(unpaired) is None


def test_depth_is_exact_on_nested_adjacent_escaped_and_malformed_json():
    cases = {
        b'{"a": [1, [2, [3]]], "b": {}}': 4,
        b"[[], [], [[]], {}]": 3,
        b'{"a": "[[[{", "b": ["]]]\\"{"], "c": "\\\\"}': 2,  # brackets in strings and escapes
        b'["\\\\\\"[", [1]]': 2,  # an escaped backslash, then an escaped quote
        b'"[[[["': 0,
        b"5": 0,
        b"[[[": 3,  # unclosed: the running sum
        b"]]][": -1,  # closed before opened: the running sum never rises above the first step
        b"[" * 300 + b"]" * 300: 300,  # deeper than the fast passes
        b"[" * 300: 300,
    }
    for data, depth in cases.items():
        assert json_depth(data) == depth == running_sum_depth(data), data


@given(st.text(alphabet='[]{}"\\ab', max_size=200))
def test_any_text_measures_as_the_running_sum_does(text):
    data = text.encode()
    assert json_depth(data) == running_sum_depth(data)


@given(st.text(alphabet="[]{}", max_size=200))
def test_the_passes_agree_with_the_running_sum_whenever_they_answer(text):
    data = text.encode()
    depth = _depth_by_levels(data)
    assert depth is None or depth == running_sum_depth(data)


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ x\u00e9'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\x'), inner, max_size=4),
    max_leaves=40,
)


@given(json_values)
def test_real_json_measures_its_parsed_depth(value):
    data = json.dumps(value, ensure_ascii=False).encode()
    assert json_depth(data) == depth_of(value) == running_sum_depth(data)
