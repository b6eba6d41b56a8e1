"""`promptreel extend --head` on OTIO, end to end through Luma's sandbox fake: the clip's first shown frame is
the model's last frame (a keyframe at the take's end), the take's own copy of it is left out, the extension
lands exactly before the clip (into the gap there, else on a track above over the clip before) with exactly
the frames asked for, the take is listed by `promptreel takes`, and `revert` gives the cut back."""

import base64
import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact, media_path, write_cut
from test_otio_extend import _gray, _luma, _ramp, rng

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


def read(path):
    return otio.adapters.read_from_file(str(path))


@pytest.fixture
def cut(tmp_path):
    """V1 at 01:00:00:00: a 50-frame gap, B (ramp source 30..41) at 50, A (ramp source 10..21) at 62."""
    ramp = _ramp(tmp_path / "ramp.mov")
    ref = lambda: otio.schema.ExternalReference(target_url=ramp.as_uri(), available_range=rng(0, 48))  # noqa: E731
    b = otio.schema.Clip(name="B", media_reference=ref(), source_range=rng(30, 12))
    a = otio.schema.Clip(name="A", media_reference=ref(), source_range=rng(10, 12))
    return write_cut(tmp_path / "cut.otio", [otio.schema.Gap(source_range=rng(0, 50)), b, a], RATE), ramp


@pytest.fixture
def luma():
    with sandbox(routes=["luma"], limit=Limit(seconds=None), export=True) as env:
        yield env.fakes["luma"]


@pytest.mark.parametrize(
    "name, frames, clip_start, where",
    [
        ("B", 12, 50, "gap"),  # into the gap before B: its last 12 frames
        ("A", 12, 62, "above"),  # B is right before A: on a new track above, over B
        ("A", 60, 62, "above"),  # over B and the gap before it
    ],
)
def test_a_head_extension_leads_into_the_clip_lands_before_it_and_reverts(
    tmp_path, cut, luma, capsys, name, frames, clip_start, where
):
    path, ramp = cut
    out = tmp_path / "ext.otio"
    code, text, err = run(
        capsys,
        "extend",
        path,
        "-o",
        out,
        "--clip",
        name,
        "--head",
        frames,
        "--model",
        "ray-3.2",
        "--codec",
        "h264",
        "--prompt",
        "the light comes up",
    )
    assert code == 0, err

    # The model was given the clip's first shown frame as its last frame: one keyframe, at the take's end.
    (call,) = luma.calls_to("POST", r"/v1/generations$")
    video = call.json()["video"]
    assert video["keyframe_indexes"] == [int(video["duration"][:-1]) * 24] and "start_frame" not in video
    still = tmp_path / "sent.png"
    still.write_bytes(base64.b64decode(video["keyframes"][0]["data"]))
    first = {"B": 30, "A": 10}[name]
    assert _luma(still) == _luma(ramp, first) != _luma(ramp, first + 1)

    before, after = read(path), read(out)
    if where == "gap":  # the gap before B gives its last 12 frames; nothing else moves
        v1 = after.tracks[0]
        assert [(type(i).__name__, i.duration().value) for i in v1] == [
            ("Gap", 38),
            ("Clip", 12),
            ("Clip", 12),
            ("Clip", 12),
        ]
        ext = v1[1]
        assert as_json(v1[2]) == as_json(before.tracks[0][1]) and as_json(v1[3]) == as_json(before.tracks[0][2])
    else:  # a new track above V1, nothing on V1 changes
        assert as_json(after.tracks[0]) == as_json(before.tracks[0])
        v2 = after.tracks[1]
        assert [(type(i).__name__, i.duration().value) for i in v2] == [("Gap", clip_start - frames), ("Clip", frames)]
        ext = v2[1]
    assert START + round(ext.range_in_parent().start_time.value) == START + clip_start - frames
    assert_frame_exact(ext, frames, Fraction(RATE))
    info = probe(media_path(ext))
    assert (info.frames, info.rate) == (frames, Fraction(RATE))
    ns = ext.metadata["promptreel"]
    assert (ns["model"], ns["extends"], ns["extension_edge"], ns["extension_frames"]) == (
        "ray-3.2",
        name,
        "head",
        frames,
    )

    # The take's last frame (the model's copy of the clip's first) is left out: the placed clip ends on the one
    # before it, so its last frame leads into the clip's first.
    original = ns["original"]
    take_frames = probe(original).frames
    placed = _gray(media_path(ext), frames - 1)
    diffs = {
        n: sum(abs(x - y) for x, y in zip(_gray(original, n), placed)) for n in range(take_frames - 4, take_frames)
    }
    assert min(diffs, key=diffs.__getitem__) == take_frames - 2

    # The take is listed, with its kind and the clip it was made for.
    code, listed, err = run(capsys, "takes", "--json")
    assert code == 0, err
    (take,) = [t for t in json.loads(listed) if t["id"] == ns["take_id"]]
    assert (take["kind"], take["clip"], take["edge"], take["frames"]) == ("extend", name, "head", frames)
    code, listed, _ = run(capsys, "takes")
    assert f"extend head of '{name}'" in listed

    code, _, err = run(capsys, "revert", out, "-o", tmp_path / "back.otio")
    assert code == 0, err
    assert as_json(read(tmp_path / "back.otio")) == as_json(before)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clip", "A", "--head", "12", "--model", "kling-v3"], "takes no last frame on its own"),
        (["--clip", "A", "--head", "12", "--model", "kling-v3"], "a model that does: ray-3.2"),
        (["--clip", "A", "--head", "12"], "the draft model takes no last frame on its own"),
        (["--clip", "A", "--head", "300", "--model", "ray-3.2"], "at most 239 frames"),
        (["--clip", "B", "--head", "51", "--model", "ray-3.2"], "would start before the timeline does"),
    ],
)
def test_head_refusals_come_before_any_spend(tmp_path, cut, luma, capsys, args, message):
    path, _ = cut
    out = tmp_path / "ext.otio"
    code, _, err = run(capsys, "extend", path, "-o", out, *args, "--codec", "h264")
    assert code == 2, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert not out.exists() and not (tmp_path / "ext_media").exists()
    assert luma.creates == 0
