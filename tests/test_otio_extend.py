"""`promptreel extend` on OTIO, end to end through Kling's sandbox fake: the clip's last shown frame is the
model's first frame, the take's copy of it is skipped, the extension lands exactly after the clip (into the
gap there, else on a track above) with exactly the frames asked for, and `revert` gives the cut back."""

import base64
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact, media_path, write_cut

from promptreel.core.cli import main
from promptreel.core.conform.probe import probe
from promptreel.core.sandbox import Limit
from promptreel.core.sandbox.run import sandbox

RATE = 24
START = 3600 * RATE  # write_cut's 01:00:00:00
pytestmark = pytest.mark.usefixtures("no_poll_waits")  # conftest: the CLI's engine without poll waits


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def rng(start, dur):
    return otio.opentime.TimeRange(otio.opentime.RationalTime(start, RATE), otio.opentime.RationalTime(dur, RATE))


def _ramp(path, frames=48):
    """Media whose frame N has luma 4*N + 16 (wrapping at 236), so a still tells which frame it is."""
    import ffmpeg

    from promptreel.core.ffmpeg import ffmpeg_exe

    src = ffmpeg.input(f"nullsrc=s=320x180:r={RATE}", f="lavfi").filter("geq", lum="mod(N*4,220)+16", cb=128, cr=128)
    ffmpeg.run(
        ffmpeg.output(src, str(path), vframes=frames, vcodec="libx264", qp=0, pix_fmt="yuv444p"),
        cmd=ffmpeg_exe(),
        quiet=True,
        overwrite_output=True,
    )
    return path


def _gray(path, n=0) -> bytes:
    """Frame n of an image or video as grey levels, row after row."""
    from itertools import islice

    import av

    with av.open(str(path)) as c:
        frame = next(islice(c.decode(video=0), n, None))
    frame = frame.reformat(format="gray")
    plane, w = frame.planes[0], frame.width
    data = bytes(plane)
    return b"".join(data[y * plane.line_size : y * plane.line_size + w] for y in range(frame.height))


def _luma(path, n=0) -> int:
    """Mean grey level of frame n."""
    g = _gray(path, n)
    return round(sum(g) / len(g))


@pytest.fixture
def cut(tmp_path):
    """A (source 10..21 of a ramp, 12 frames), a 30-frame gap, B (12 frames) on V1 at 01:00:00:00."""
    ramp = _ramp(tmp_path / "ramp.mov")
    ref = lambda: otio.schema.ExternalReference(target_url=ramp.as_uri(), available_range=rng(0, 48))  # noqa: E731
    a = otio.schema.Clip(name="A", media_reference=ref(), source_range=rng(10, 12))
    b = otio.schema.Clip(name="B", media_reference=ref(), source_range=rng(30, 12))
    return write_cut(tmp_path / "cut.otio", [a, otio.schema.Gap(source_range=rng(0, 30)), b], RATE), ramp


@pytest.fixture
def kling():
    with sandbox(routes=["kling"], limit=Limit(seconds=None), export=True) as env:
        yield env.fakes["kling"]


def read(path):
    return otio.adapters.read_from_file(str(path))


def _sent_still(fake) -> bytes:
    (call,) = fake.calls_to("POST", r"/v1/videos/image2video")
    return base64.b64decode(call.json()["image"])


def _record_start(clip, timeline) -> int:
    return START + round(clip.range_in_parent().start_time.value)


@pytest.mark.parametrize("frames", [12, 60])
def test_a_tail_extension_continues_the_clip_lands_after_it_and_reverts(tmp_path, cut, kling, capsys, frames):
    path, ramp = cut
    out = tmp_path / "ext.otio"
    code, text, err = run(
        capsys,
        "extend",
        path,
        "-o",
        out,
        "--clip",
        "A",
        "--tail",
        frames,
        "--model",
        "kling-v3",
        "--codec",
        "h264",
        "--prompt",
        "the light keeps rising",
    )
    assert code == 0, err
    assert "picture only" in err

    # The model was given A's last shown frame (source frame 21) as its first frame.
    still = tmp_path / "sent.png"
    still.write_bytes(_sent_still(kling))
    assert _luma(still) == _luma(ramp, 21) != _luma(ramp, 20)

    before, after = read(path), read(out)
    a_end = START + 12  # A plays record frames 0..11 after the start
    if frames == 12:  # into the gap after A: 12 frames of it, the other 18 stay a gap; B does not move
        v1 = after.tracks[0]
        assert [type(i).__name__ for i in v1] == ["Clip", "Clip", "Gap", "Clip"]
        ext = v1[1]
        assert v1[2].duration().value == 18
        assert (
            as_json(v1[3]) == as_json(before.tracks[0][2])
            and v1[3].range_in_parent() == before.tracks[0][2].range_in_parent()
        )
    else:  # 60 frames do not fit before B: onto a new track above V1, nothing on V1 changes
        assert as_json(after.tracks[0]) == as_json(before.tracks[0])
        v2 = after.tracks[1]
        assert [type(i).__name__ for i in v2] == ["Gap", "Clip"] and v2[0].duration().value == 12
        ext = v2[1]
    assert _record_start(ext, after) == a_end
    assert_frame_exact(ext, frames, Fraction(RATE))  # and real ffmpeg counts exactly `frames` frames
    info = probe(media_path(ext))
    assert (info.frames, info.rate, info.width, info.height) == (frames, Fraction(RATE), 320, 180)
    ns = ext.metadata["promptreel"]
    assert (ns["model"], ns["extends"], ns["extension_frames"]) == ("kling-v3", "A", frames)

    # The take's first frame (the model's copy of the still) is skipped: the placed clip starts at its frame 1.
    placed = _gray(media_path(ext), 0)
    original = ns["original"]  # the generated take, kept beside the clip
    diffs = [sum(abs(x - y) for x, y in zip(_gray(original, n), placed)) for n in range(4)]
    assert min(range(4), key=diffs.__getitem__) == 1

    code, _, err = run(capsys, "revert", out, "-o", tmp_path / "back.otio")
    assert code == 0, err
    assert as_json(read(tmp_path / "back.otio")) == as_json(before)


def test_the_track_above_takes_it_when_the_next_clip_follows_and_the_end_of_a_track_takes_it_too(
    tmp_path, cut, kling, capsys
):
    path, ramp = cut
    timeline = read(path)
    above = otio.schema.Track(name="graphics", kind=otio.schema.TrackKind.Video)
    above.append(otio.schema.Gap(source_range=rng(0, 60)))  # room over A's end and the gap
    above.append(
        otio.schema.Clip(
            name="title",
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
            source_range=rng(0, 24),
        )
    )
    timeline.tracks.append(above)
    otio.adapters.write_to_file(timeline, str(path))
    before = read(path)
    # B is followed by nothing: 12 frames go right after it on V1.
    assert (
        run(
            capsys,
            "extend",
            path,
            "-o",
            tmp_path / "b.otio",
            "--clip",
            "B",
            "--tail",
            12,
            "--model",
            "kling-v3",
            "--codec",
            "h264",
        )[0]
        == 0
    )
    v1 = read(tmp_path / "b.otio").tracks[0]
    assert [i.name for i in v1][-2:] == ["B", "B +12"] and _record_start(v1[-1], None) == START + 54
    # A's tail by 36: the gap after it is 30, so V2 above takes it, splitting its gap 12 | 36; the title stays put.
    assert (
        run(
            capsys,
            "extend",
            path,
            "-o",
            tmp_path / "a.otio",
            "--clip",
            "A",
            "--tail",
            36,
            "--model",
            "kling-v3",
            "--codec",
            "h264",
        )[0]
        == 0
    )
    after = read(tmp_path / "a.otio")
    assert len(after.tracks) == 2 and as_json(after.tracks[0]) == as_json(before.tracks[0])
    v2 = after.tracks[1]
    assert [(type(i).__name__, i.duration().value) for i in v2] == [
        ("Gap", 12),
        ("Clip", 36),
        ("Gap", 12),
        ("Clip", 24),
    ]
    assert _record_start(v2[1], None) == START + 12
    assert_frame_exact(v2[1], 36, Fraction(RATE))
    for name in ("a", "b"):
        assert run(capsys, "revert", tmp_path / f"{name}.otio", "-o", tmp_path / f"{name}-back.otio")[0] == 0
        assert as_json(read(tmp_path / f"{name}-back.otio")) == as_json(before)


@pytest.mark.parametrize(
    "case, args, message",
    [
        ("offline", ["--clip", "A", "--tail", "12", "--model", "kling-v3"], "its media is offline"),
        ("generator", ["--clip", "title", "--tail", "12", "--model", "kling-v3"], "is a generator clip"),
        ("too long", ["--clip", "A", "--tail", "400", "--model", "kling-v3"], "at most 359 frames"),
        ("no first frame", ["--clip", "A", "--tail", "12", "--model", "ltx-video-local"], "takes no first frame"),
        ("draft", ["--clip", "A", "--tail", "12"], "the draft model takes no first frame"),
        ("no clip", ["--clip", "nobody", "--tail", "12", "--model", "kling-v3"], "No clip named 'nobody'"),
        ("head", ["--clip", "A", "--head", "12", "--model", "kling-v3"], "takes no last frame on its own"),
        ("neither", ["--clip", "A", "--model", "kling-v3"], "Give one of --tail FRAMES or --head FRAMES"),
    ],
)
def test_refusals_come_before_any_spend_in_one_line_and_change_nothing(
    tmp_path, cut, kling, capsys, case, args, message
):
    path, ramp = cut
    timeline = read(path)
    v1 = timeline.tracks[0]
    if case == "offline":
        v1[0].media_reference = otio.schema.ExternalReference(target_url=(tmp_path / "gone.mov").as_uri())
    v1.append(
        otio.schema.Clip(
            name="title",
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
            source_range=rng(0, 24),
        )
    )
    otio.adapters.write_to_file(timeline, str(path))
    out = tmp_path / "ext.otio"
    code, text, err = run(capsys, "extend", path, "-o", out, *args, "--codec", "h264")
    assert code == 2, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert not out.exists() and not (tmp_path / "ext_media").exists()
    assert kling.creates == 0


def test_a_resolve_export_extended_by_timecode_comes_back_resolve_shaped(tmp_path, kling, capsys):
    """File mode's round trip: a timeline exported from Resolve, extended, imported back (bare paths, clips named
    after their media, media starting at 01:00:00:00, a new track Resolve reads), and reverted exactly."""
    ramp = _ramp(tmp_path / "ramp.mov")
    t = otio.schema.Timeline(
        name="Timeline 1",
        global_start_time=otio.opentime.RationalTime(START, RATE),
        metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
    )
    track = otio.schema.Track(name="Video 1", metadata={"Resolve_OTIO": {"Locked": False}})
    clip = otio.schema.Clip(
        name="ramp.mov",
        source_range=rng(10, 12),
        metadata={"Resolve_OTIO": {}},
        media_reference=otio.schema.ExternalReference(target_url=str(ramp), available_range=rng(0, 48)),
    )
    track.extend(
        [
            clip,
            otio.schema.Clip(
                name="ramp.mov",
                source_range=rng(30, 12),
                metadata={"Resolve_OTIO": {}},
                media_reference=otio.schema.ExternalReference(target_url=str(ramp), available_range=rng(0, 48)),
            ),
        ]
    )
    t.tracks.append(track)
    src, out = tmp_path / "Timeline 1.otio", tmp_path / "Timeline 1 promptreel.otio"
    otio.adapters.write_to_file(t, str(src))
    code, text, err = run(
        capsys,
        "extend",
        src,
        "-o",
        out,
        "--at",
        "01:00:00:05",
        "--track",
        1,
        "--tail",
        24,
        "--model",
        "kling-v3",
        "--codec",
        "h264",
    )
    assert code == 0, err
    assert "V2 promptreel extensions (a new track) 01:00:00:12" in text
    after = read(out)
    v2 = after.tracks[1]
    assert v2.metadata["Resolve_OTIO"] == {"Locked": False}
    ext = v2[1]
    assert _record_start(ext, after) == START + 12
    ref = ext.media_reference
    assert not ref.target_url.startswith("file:") and ext.name == media_path(ext).name
    assert ref.available_range.start_time.value == START and ext.source_range.start_time.value == START
    assert_frame_exact(ext, 24, Fraction(RATE))
    assert run(capsys, "revert", out, "-o", tmp_path / "back.otio")[0] == 0
    assert as_json(read(tmp_path / "back.otio")) == as_json(read(src))


def test_a_placeholder_gap_after_the_clip_is_left_whole_for_its_fill(tmp_path, cut, kling, capsys):
    path, _ = cut
    timeline = read(path)
    timeline.tracks[0][1].name = "GEN: the storm breaks"
    otio.adapters.write_to_file(timeline, str(path))
    before = read(path)
    assert (
        run(
            capsys,
            "extend",
            path,
            "-o",
            tmp_path / "ext.otio",
            "--clip",
            "A",
            "--tail",
            12,
            "--model",
            "kling-v3",
            "--codec",
            "h264",
        )[0]
        == 0
    )
    after = read(tmp_path / "ext.otio")
    assert as_json(after.tracks[0]) == as_json(before.tracks[0])  # the placeholder is still one 30-frame gap
    assert _record_start(after.tracks[1][1], after) == START + 12
