"""probe: counted frames, exact rates, the last frame examined, colour, rotation, timecode, audio, bad files."""

from fractions import Fraction

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import MediaError
from tests.conform import media


def test_plain_clip(clips):
    info = probe(clips["24"])
    assert (info.width, info.height, info.rate, info.frames) == (320, 180, Fraction(24), 48)
    assert (info.pix_fmt, info.bit_depth, info.chroma, info.has_alpha) == ("yuv420p", 8, "4:2:0", False)
    assert not info.variable_rate and not info.last_frame_partial and not info.last_frame_duplicate
    assert info.usable_frames == 48 and info.duration == 2 and info.display_aspect == Fraction(16, 9)
    assert info.has_audio and info.audio[0].rate == 44100 and info.audio[0].channels == 1
    assert info.seconds == 2 and info.rotation == 0 and info.timecode is None


def test_variable_rate_is_flagged(clips):
    info = probe(clips["vfr"])
    assert info.variable_rate
    assert info.frames == 24


def test_partial_last_frame_is_not_usable(clips):
    info = probe(clips["short"])
    assert info.frames == 24 and info.last_frame_partial and info.usable_frames == 23


def test_duplicated_last_frame_is_not_usable(clips):
    info = probe(clips["dup"])
    assert info.frames == 25 and info.last_frame_duplicate and info.usable_frames == 24
    assert not probe(clips["24"]).last_frame_duplicate
    with_b_frames = probe(clips["dup_b"])  # the last frame is coded after B-frames that display before it
    assert with_b_frames.last_frame_duplicate and with_b_frames.usable_frames == 24


def test_rotation_and_display_size(clips):
    info = probe(clips["rotated"])
    assert (info.width, info.height, info.rotation) == (320, 180, 90)
    assert info.display_size == (180, 320)


def test_full_range(clips):
    assert probe(clips["full"]).color_range == "pc"


@pytest.mark.parametrize("kind", ["text", "truncated", "truncated-faststart", "audio-only", "missing", "empty"])
def test_bad_files_get_a_clear_error(clips, tmp_path, kind):
    path = tmp_path / "bad.mp4"
    if kind == "text":
        path.write_text("not a video\n" * 100)
    elif kind == "truncated":
        data = clips["24"].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-faststart":  # index first, so the file opens; the frames' data is cut off
        whole = media.clip(tmp_path / "fast.mp4", "24", 1, audio=False, out={"movflags": "+faststart"})
        data = whole.read_bytes()
        path.write_bytes(data[: len(data) * 6 // 10])
    elif kind == "audio-only":
        path = tmp_path / "bad.wav"
        media._run(media.ffmpeg.output(media.ffmpeg.input("sine", f="lavfi", t=0.2), str(path)))
    elif kind == "empty":
        path.write_bytes(b"")
    with pytest.raises(MediaError) as err:
        probe(path)
    assert str(path) in str(err.value)
    assert any(word in str(err.value) for word in ("video", "exist", "truncated"))
