"""`promptreel edit --split` on OTIO, end to end through xAI's sandbox fake with the model's edit limit set to
1.5 s by a user catalog: a 61-frame clip with 8-frame handles is edited in consecutive pieces (equal ones, or
at the cuts the editor allows), each one job sent exactly its frames, and the pieces lie one after another on
the takes track: one take of exactly the clip's 61 frames at its record frames. A piece still too long is
refused, naming it, before any spend."""

import base64
import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact
from test_otio_edit import cut  # noqa: F401 - the fixture: B (8 frames), then A (source 20..80, 61 frames)
from test_otio_extend import _luma

from promptreel.core.cli import main
from promptreel.core.conform.probe import probe
from promptreel.core.sandbox import Limit
from promptreel.core.sandbox.run import sandbox

RATE = 24
START = 3600 * RATE
pytestmark = pytest.mark.usefixtures("no_poll_waits")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def xai(isolated_home):
    """xAI's fake, with grok-imagine-video editing at most 1.5 s (36 frames at 24 fps) by the user's catalog."""
    from promptreel.core.catalog import default_catalog

    (isolated_home / "catalog.toml").write_text("[models.grok-imagine-video]\nedit_max_seconds = 1.5\n")
    (isolated_home / "settings.toml").write_text(f'catalog_file = "{isolated_home / "catalog.toml"}"\n')
    default_catalog.cache_clear()
    with sandbox(routes=["xai"], limit=Limit(seconds=None), export=True) as env:
        yield env.fakes["xai"]


def _sent(fake, tmp_path):
    """Each edit's source as sent, in order: (frames, first frame's luma, last frame's luma)."""
    out = []
    for i, call in enumerate(fake.calls_to("POST", r"/v1/videos/edits")):
        path = tmp_path / f"sent-{i}.mp4"
        path.write_bytes(base64.b64decode(call.json()["video"]["url"].split(",", 1)[1]))
        n = probe(path).frames
        out.append((n, _luma(path, 0), _luma(path, n - 1)))
    return out


@pytest.mark.parametrize(
    "split, pieces",
    [
        ("", [(0, 21), (21, 20), (41, 20)]),  # equal pieces: 21 + 8 head, 20, 20 + 8 tail, each at most 36
        ("20,01:00:01:20", [(0, 20), (20, 16), (36, 25)]),  # at a frame offset and a record timecode (A is at +8)
    ],
)
def test_a_split_edit_is_one_take_of_exactly_the_clip(tmp_path, cut, xai, capsys, split, pieces):  # noqa: F811
    path, ramp = cut
    out = tmp_path / "edited.otio"
    args = ["--split", split] if split else ["--split"]
    code, text, err = run(
        capsys,
        "edit",
        path,
        "-o",
        out,
        "--clip",
        "A",
        "--instruction",
        "make it dusk",
        "--model",
        "grok-imagine-video",
        "--handles",
        8,
        *args,
        "--codec",
        "h264",
    )
    assert code == 0, err
    assert f"in {len(pieces)} pieces" in text

    # One job a piece (the jobs run at once: in any order), sent exactly its frames of A's source (20..80), the
    # outer pieces with their handles.
    sent = _sent(xai, tmp_path)
    handles = [(8 if i == 0 else 0, 8 if i == len(pieces) - 1 else 0) for i in range(len(pieces))]
    assert len(sent) == len(pieces)
    for (offset, n), (h, t) in zip(pieces, handles):
        first, last = _luma(ramp, 20 + offset - h), _luma(ramp, 20 + offset + n + t - 1)
        assert any(f == h + n + t and abs(a - first) <= 1 and abs(b - last) <= 1 for f, a, b in sent), (offset, n)

    before, after = otio.adapters.read_from_file(str(path)), otio.adapters.read_from_file(str(out))
    assert as_json(after.tracks[1]) == as_json(before.tracks[0])  # the cut is untouched
    takes = after.tracks[0]
    assert takes.name == "promptreel takes" and not takes.enabled
    clips = [c for c in takes if isinstance(c, otio.schema.Clip)]
    assert [type(i).__name__ for i in takes] == ["Gap"] + ["Clip"] * len(pieces)  # back to back after A's start
    assert [(round(c.range_in_parent().start_time.value), round(c.duration().value)) for c in clips] == [
        (8 + offset, n) for offset, n in pieces
    ]
    assert sum(round(c.duration().value) for c in clips) == 61  # exactly A's frames, from A's record frame
    for c, (_offset, n), (h, t) in zip(clips, pieces, handles):
        assert_frame_exact(c, n, Fraction(RATE), media_frames=h + n + t)
        ns = c.metadata["promptreel"]
        assert (ns["edit_of"], list(ns["handles"])) == ("A", [h, t])

    # Each piece is a take of A, listed as an edit.
    code, listed, _ = run(capsys, "takes", "--json")
    edits = [t for t in json.loads(listed) if t["kind"] == "edit"]
    assert len(edits) == len(pieces) and {t["clip"] for t in edits} == {"A"}

    code, _, err = run(capsys, "revert", out, "-o", tmp_path / "back.otio")
    assert code == 0, err
    assert as_json(otio.adapters.read_from_file(str(tmp_path / "back.otio"))) == as_json(before)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "edits at most 1.5 s (36 frames at 24 fps)"),  # too long, and no --split
        (["--split", "20,01:00:01:16"], "piece 3 of 3 (frames 32-60 of the clip, 37 frames with its handles"),
        (["--split", "70"], "a cut at frame 70 of it is not inside it"),
        (["--split", "soon"], "--split 'soon' is neither a frame offset nor a timecode"),
    ],
)
def test_split_refusals_come_before_any_spend(tmp_path, cut, xai, capsys, args, message):  # noqa: F811
    path, _ = cut
    code, _, err = run(
        capsys,
        "edit",
        path,
        "-o",
        tmp_path / "e.otio",
        "--clip",
        "A",
        "--instruction",
        "dusk",
        "--model",
        "grok-imagine-video",
        "--handles",
        8,
        *args,
    )
    assert code == 2, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert not (tmp_path / "e.otio").exists() and not (tmp_path / "e_media").exists()
    assert xai.creates == 0


def test_fill_extend_and_edit_share_their_options():
    """One decorator writes the options of every command that makes media into a timeline file."""
    from promptreel.otio_adapters.cli import edit, extend, fill

    shared = {
        "out",
        "fps_mode",
        "fit",
        "codec",
        "budget",
        "media_dir",
        "project",
        "no_cache",
        "force",
        "size",
        "bit_depth",
        "rate",
        "ignore_timecode_mismatch",
    }
    for command in (fill, extend, edit):
        options = {p.name: p for p in command.params}
        assert shared <= set(options), command.name
        assert [options[n].help for n in sorted(shared)] == [
            {p.name: p for p in fill.params}[n].help for n in sorted(shared)
        ]
