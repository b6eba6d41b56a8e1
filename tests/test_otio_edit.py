"""`promptreel edit` on OTIO, end to end through xAI's sandbox fake: the clip's used range plus handles is cut
frame-exact from its media and sent as the video to edit; the result comes back as a take of exactly the
clip's frames at its record frames on a takes track under the cut; the original is untouched; revert."""

import base64
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact, write_cut
from test_otio_extend import _luma, _ramp, rng

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
def cut(tmp_path):
    """B (8 frames), then A: source 20..80 (61 frames) of a 240-frame ramp, on V1 at 01:00:00:00."""
    ramp = _ramp(tmp_path / "ramp.mov", frames=240)
    ref = lambda: otio.schema.ExternalReference(target_url=ramp.as_uri(), available_range=rng(0, 240))  # noqa: E731
    b = otio.schema.Clip(name="B", media_reference=ref(), source_range=rng(0, 8))
    a = otio.schema.Clip(name="A", media_reference=ref(), source_range=rng(20, 61))
    return write_cut(tmp_path / "cut.otio", [b, a], RATE), ramp


@pytest.fixture
def xai():
    with sandbox(routes=["xai"], limit=Limit(seconds=None), export=True) as env:
        yield env.fakes["xai"]


def test_an_edit_of_61_frames_with_8_frame_handles_is_a_take_aligned_to_the_clip(tmp_path, cut, xai, capsys):
    path, ramp = cut
    out = tmp_path / "edited.otio"
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
        "--codec",
        "h264",
    )
    assert code == 0, err

    # The model was sent A's used range with 8 frames each side: source 12..88, 77 frames, exactly.
    (call,) = xai.calls_to("POST", r"/v1/videos/edits")
    body = call.json()
    assert body["prompt"] == "make it dusk"
    sent = tmp_path / "sent.mp4"
    sent.write_bytes(base64.b64decode(body["video"]["url"].split(",", 1)[1]))
    info = probe(sent)
    assert (info.frames, info.rate) == (77, Fraction(RATE))
    # Each ramp frame is about 3.4 grey levels from the next; the H.264 cut is within 1 of its own.
    assert abs(_luma(sent, 0) - _luma(ramp, 12)) <= 1 and abs(_luma(sent, 76) - _luma(ramp, 88)) <= 1

    before, after = otio.adapters.read_from_file(str(path)), otio.adapters.read_from_file(str(out))
    assert as_json(after.tracks[1]) == as_json(before.tracks[0])  # the cut is untouched, now above the takes
    takes = after.tracks[0]
    assert takes.name == "promptreel takes" and not takes.enabled
    (take,) = [c for c in takes if isinstance(c, otio.schema.Clip)]
    assert START + round(take.range_in_parent().start_time.value) == START + 8  # A's record frame
    assert_frame_exact(take, 61, Fraction(RATE), media_frames=77)
    assert take.source_range.start_time.value - take.media_reference.available_range.start_time.value == 8
    ns = take.metadata["promptreel"]
    assert (ns["edit_of"], ns["instruction"], ns["model"], list(ns["handles"])) == (
        "A",
        "make it dusk",
        "grok-imagine-video",
        [8, 8],
    )

    code, _, err = run(capsys, "revert", out, "-o", tmp_path / "back.otio")
    assert code == 0, err
    assert as_json(otio.adapters.read_from_file(str(tmp_path / "back.otio"))) == as_json(before)


def test_handles_stop_where_the_media_does(tmp_path, cut, xai, capsys):
    path, _ = cut
    code, _, err = run(
        capsys,
        "edit",
        path,
        "-o",
        tmp_path / "e.otio",
        "--clip",
        "B",
        "--instruction",
        "rain",
        "--model",
        "grok-imagine-video",
        "--handles",
        8,
        "--codec",
        "h264",
    )
    assert code == 0, err
    edited = otio.adapters.read_from_file(str(tmp_path / "e.otio"))
    take = next(c for c in edited.tracks[0] if isinstance(c, otio.schema.Clip))
    assert list(take.metadata["promptreel"]["handles"]) == [0, 8]
    assert_frame_exact(take, 8, Fraction(RATE), media_frames=16)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clip", "A", "--instruction", "dusk", "--model", "kling-v3"], "does not edit video"),
        (["--clip", "offline", "--instruction", "dusk", "--model", "grok-imagine-video"], "its media is offline"),
        (["--clip", "title", "--instruction", "dusk", "--model", "grok-imagine-video"], "is a generator clip"),
        (["--clip", "A", "--instruction", "dusk"], "No model to edit with"),
        (
            ["--clip", "A", "--instruction", "dusk", "--model", "grok-imagine-video", "--handles", "200"],
            "edits at most 8.7 s (208 frames at 24 fps)",
        ),
        (["--clip", "gone", "--instruction", "dusk", "--model", "grok-imagine-video"], "No clip named 'gone'"),
    ],
)
def test_refusals_come_before_any_spend(tmp_path, cut, xai, capsys, args, message):
    path, _ = cut
    timeline = otio.adapters.read_from_file(str(path))
    timeline.tracks[0].extend(
        [
            otio.schema.Clip(
                name="offline",
                source_range=rng(0, 12),
                media_reference=otio.schema.ExternalReference(target_url=(tmp_path / "gone.mov").as_uri()),
            ),
            otio.schema.Clip(
                name="title",
                source_range=rng(0, 12),
                media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
            ),
        ]
    )
    otio.adapters.write_to_file(timeline, str(path))
    code, _, err = run(capsys, "edit", path, "-o", tmp_path / "e.otio", *args)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "e.otio").exists() and not (tmp_path / "e_media").exists()
    assert xai.creates == 0


def test_an_edit_longer_than_the_models_longest_generation_is_planned_when_the_model_edits_that_long(tmp_path):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.plan import plan_slot
    from promptreel.core.request import Slot

    source = tmp_path / "source.mp4"
    source.write_bytes(b"")
    ray = default_catalog().get("ray-3.2")  # makes 5 or 10 s, edits up to 18 s
    slot = Slot(frames=288, rate=24, size="1280x720", prompt="dusk", remix_of=str(source))
    assert plan_slot(slot, ray).request.remix_of == str(source)
    with pytest.raises(Exception, match="makes at most 10 s"):
        plan_slot(slot.model_copy(update={"remix_of": None}), ray)
