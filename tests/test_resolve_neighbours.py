"""Frames from neighbours in a Resolve fill (connected), through both gateways, against the double: the model
gets the last frame the shot before the placeholder shows and the first frame the shot after it shows, read
from their media at the source frames they play there (their in points, their media's rate), pixel for pixel;
a model that takes no frames gets none; and `promptreel resolve fill --frames-from-neighbours` offers it."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from promptreel.core.cli import main
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.fill import fill
from tests.fakes.clips import TestPatternMaker
from tests.fakes.resolve import FakeResolve, MediaPoolItem
from tests.test_otio_extend import _gray, _luma, _ramp
from tests.test_resolve_extend import connect, home  # noqa: F401 - fixtures


def _ramp_at(path, rate: int, frames: int = 48):
    """_ramp's media (frame N has luma 4*N + 16) at `rate`."""
    import ffmpeg

    from promptreel.core.ffmpeg import ffmpeg_exe

    src = ffmpeg.input(f"nullsrc=s=320x180:r={rate}", f="lavfi").filter("geq", lum="mod(N*4,220)+16", cb=128, cr=128)
    ffmpeg.run(
        ffmpeg.output(src, str(path), vframes=frames, vcodec="libx264", qp=0, pix_fmt="yuv444p", r=rate),
        cmd=ffmpeg_exe(),
        quiet=True,
        overwrite_output=True,
    )
    return path


def _cut(tmp_path, rate="24", media_rate=Fraction(24)):
    """V1: A (ramp source 10.., 12 frames), a `GEN:` title of 30 frames, B (ramp source 30.., 12 frames)."""
    ramp = _ramp(tmp_path / "ramp.mov") if media_rate == 24 else _ramp_at(tmp_path / "ramp.mov", int(media_rate))
    resolve = FakeResolve()
    project = resolve._new_project(rate=rate, width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Cut 1")
    mpi = MediaPoolItem(ramp, media_rate, 320, 180, 48)
    mpi._folder = pool.GetRootFolder()
    mpi._folder._clips.append(mpi)
    start = timeline.GetStartFrame()
    timeline._add(1, start, 12, "A", mpi, left=10)
    slot = timeline._add(1, start + 12, 30, "GEN: the storm breaks", kind="title")
    timeline._add(1, start + 42, 12, "B", mpi, left=30)
    return resolve, ramp, slot


def _same_picture(still, media, n) -> bool:
    """The still is frame n of media: every pixel within 2 grey levels (PNG's RGB round trip), and nearer to it
    than to the frames beside it."""
    got, want = _gray(still), _gray(media, n)
    return max(abs(a - b) for a, b in zip(got, want)) <= 2 and all(
        _luma(still) != _luma(media, m) for m in (n - 1, n + 1)
    )


def test_the_model_gets_the_neighbours_edge_frames_from_their_media(connect, tmp_path):  # noqa: F811
    resolve, ramp, slot = _cut(tmp_path)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="kling-v3")
    report = fill(gw, maker, item_ids=[slot.GetUniqueId()], stills_dir=tmp_path / "stills", model="kling-v3")
    assert report.failed == []
    (sent,) = maker.slots
    assert _same_picture(sent.first_frame, ramp, 21)  # A's last shown frame: source 10 + 11
    assert _same_picture(sent.last_frame, ramp, 30)  # B's first shown frame: its in point


def test_a_clip_of_another_rate_is_read_at_the_frame_it_shows(connect, tmp_path):  # noqa: F811
    """A 48 fps clip in a 24 fps timeline plays in real time: its last shown frame is source 10 + 11 x 2."""
    resolve, ramp, slot = _cut(tmp_path, media_rate=Fraction(48))
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="kling-v3")
    fill(gw, maker, item_ids=[slot.GetUniqueId()], stills_dir=tmp_path / "stills", model="kling-v3")
    (sent,) = maker.slots
    assert _same_picture(sent.first_frame, ramp, 32) and _same_picture(sent.last_frame, ramp, 30)


def test_a_model_that_takes_no_frames_gets_none(connect, tmp_path):  # noqa: F811
    resolve, ramp, slot = _cut(tmp_path)
    gw = connect(resolve)
    maker = TestPatternMaker(tmp_path / "made", model="ltx-video-local")
    fill(gw, maker, item_ids=[slot.GetUniqueId()], stills_dir=tmp_path / "stills", model="ltx-video-local")
    (sent,) = maker.slots
    assert (sent.first_frame, sent.last_frame) == (None, None)


@pytest.mark.usefixtures("no_poll_waits")
def test_resolve_fill_offers_frames_from_neighbours(tmp_path, capsys, monkeypatch):
    """The command line, through the bridge and the real engine: Kling's sandbox fake receives A's last frame as
    the image and B's first as the image tail."""
    import base64

    from promptreel.core.sandbox import Limit
    from promptreel.core.sandbox.run import sandbox

    resolve, ramp, slot = _cut(tmp_path)
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    try:
        host, port = bridge.address
        monkeypatch.setenv("PROMPTREEL_BRIDGE", f"{host}:{port}")
        monkeypatch.setenv("PROMPTREEL_BRIDGE_TOKEN", bridge.token)
        with sandbox(routes=["kling"], limit=Limit(seconds=None), export=True) as env:
            code = main(
                ["resolve", "fill", "--item", slot.GetUniqueId(), "--model", "kling-v3", "--frames-from-neighbours"]
            )
            out = capsys.readouterr()
            assert code == 0, out.err
            (call,) = env.fakes["kling"].calls_to("POST", r"/v1/videos/image2video")
    finally:
        bridge.stop()
        thread.join(10)
    body = call.json()
    for key, n in (("image", 21), ("image_tail", 30)):
        still = tmp_path / f"{key}.png"
        still.write_bytes(base64.b64decode(body[key]))
        assert _same_picture(still, ramp, n)
    assert "Filled 'GEN: the storm breaks'" in out.out
