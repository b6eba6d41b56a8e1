"""The local `draft` model: real ffmpeg renders at 320x180, probed and decoded with PyAV."""

from __future__ import annotations

import asyncio
import hashlib
from fractions import Fraction
from pathlib import Path

import av
import ffmpeg
import pytest

from promptreel.core.catalog import Route
from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.providers import protocol_class
from promptreel.core.providers.draft import (
    FONT,
    DraftProtocol,
    build_command,
    literal_text,
    plan_draft,
    render_draft,
)
from promptreel.core.request import GenerationRequest

NASTY = 'It\'s 100% "real": C:\\clips\\a.mov; [x], y=z\n%{n} %{pts:hms} \\n {braces}\ttab\r\nend'


def request(**kw) -> GenerationRequest:
    kw.setdefault("prompt", "A lighthouse at dusk, waves breaking")
    kw.setdefault("size", "320x180")
    return GenerationRequest(**kw)


def frame_hashes(path: Path) -> list[str]:
    """One digest per decoded frame, over the visible pixels of every plane."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            digest = hashlib.sha256()
            for i, plane in enumerate(frame.planes):
                data = bytes(plane)
                rows = frame.height if i == 0 else frame.height // 2
                width = frame.width if i == 0 else frame.width // 2
                for row in range(rows):
                    digest.update(data[row * plane.line_size : row * plane.line_size + width])
            out.append(digest.hexdigest())
    return out


def luma_rows(path: Path) -> list[tuple[bytes, ...]]:
    """The luma plane of each frame, as rows."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            plane = frame.planes[0]
            data = bytes(plane)
            frames.append(
                tuple(data[r * plane.line_size : r * plane.line_size + frame.width] for r in range(frame.height))
            )
    return frames


@pytest.mark.parametrize(
    "fps, kw, frames",
    [
        ("24", {"seconds": 1}, 24),
        ("25", {"frames": 13}, 13),
        ("24000/1001", {"seconds": 1}, 24),  # 23.976 frames cover one second: rounded up
        ("30000/1001", {"frames": 31}, 31),
    ],
)
def test_exact_frame_count_and_rate(tmp_path, fps, kw, frames):
    out = render_draft(request(fps=fps, **kw), tmp_path / "draft.mp4")
    info = probe(out)
    assert info.frames == frames
    assert info.rate == Fraction(fps)
    assert (info.width, info.height) == (320, 180)
    assert info.pix_fmt == "yuv420p"
    assert len(frame_hashes(out)) == frames  # decoded, not only declared
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_scope_size_honoured_and_no_audio_unless_asked(tmp_path):
    out = render_draft(request(size="320x134", frames=6, fps="24"), tmp_path / "scope.mp4")
    info = probe(out)
    assert (info.width, info.height, info.frames) == (320, 134, 6)
    assert not info.has_audio


def test_tone_when_audio_is_asked(tmp_path):
    out = render_draft(request(frames=12, fps="24", audio=True), tmp_path / "tone.mp4")
    assert probe(out).has_audio
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == 48000
        samples = sum(f.samples for f in container.decode(stream))
    # AAC codes in 1024-sample blocks: at least half a second of tone for 12 frames at 24 fps.
    assert samples >= 24000


def test_same_request_same_frames_and_bytes_other_prompt_or_seed_differs(tmp_path):
    req = request(frames=8, fps="24000/1001", seed=7, tags={"shot": "010", "for_model": "veo-3.1"})
    a = render_draft(req, tmp_path / "a.mp4")
    b = render_draft(req, tmp_path / "b.mp4")
    assert frame_hashes(a) == frame_hashes(b)
    assert a.read_bytes() == b.read_bytes()
    other_prompt = render_draft(req.model_copy(update={"prompt": "A desert road at noon"}), tmp_path / "c.mp4")
    other_seed = render_draft(req.model_copy(update={"seed": 8}), tmp_path / "d.mp4")
    for other in (other_prompt, other_seed):
        assert all(x != y for x, y in zip(frame_hashes(a), frame_hashes(other)))


def test_it_moves_and_the_progress_bar_fills(tmp_path):
    out = render_draft(request(frames=10, fps="25"), tmp_path / "m.mp4")
    frames = luma_rows(out)
    assert len(set(frame_hashes(out))) == 10  # every frame differs: it plays like footage
    # The bar along the bottom row is 1/10 of the width on the first frame, all of it on the last.
    lit = [sum(1 for v in rows[-1] if v > 200) for rows in frames]
    assert lit == [32 * (i + 1) for i in range(10)]


def test_nasty_prompt_and_names_render(tmp_path):
    req = request(prompt=NASTY, frames=4, fps="24", tags={"shot": "SC 1: 'a' %{n} \\", "for_model": "kling;v3"})
    out = render_draft(req, tmp_path / "nasty.mp4")
    assert probe(out).frames == 4
    plain = render_draft(req.model_copy(update={"prompt": "x"}), tmp_path / "plain.mp4")
    assert frame_hashes(out) != frame_hashes(plain)


@pytest.mark.parametrize("text", [NASTY.replace("\r\n", "\n").replace("\t", " "), "50%", "a\\\\b", "'; [in] ,"])
def test_literal_text_draws_exactly_what_a_file_holds(tmp_path, text):
    """Text through the escaped `text=` option draws the same pixels as the same bytes via `textfile=`."""
    textfile = tmp_path / "prompt.txt"
    textfile.write_text(text, encoding="utf-8")

    def draw(use_file: bool) -> bytes:
        canvas = ffmpeg.input("color=c=black:s=480x120:r=1", f="lavfi")
        if use_file:
            canvas = canvas.drawtext(
                textfile=str(textfile), fontfile=str(FONT), fontcolor="white", expansion="none", fontsize=14
            )
        else:
            canvas = literal_text(canvas, text, fontsize=14)
        cmd = canvas.output("pipe:", format="rawvideo", pix_fmt="gray", frames=1).global_args("-v", "error")
        return cmd.run(cmd=ffmpeg_exe(), capture_stdout=True)[0]

    escaped = draw(False)
    assert escaped == draw(True)
    assert any(escaped)  # something was drawn


def test_renders_without_any_fontconfig(tmp_path, monkeypatch):
    # A fresh machine: no fonts installed, no fontconfig set-up. The bundled font file is used directly.
    monkeypatch.setenv("FONTCONFIG_FILE", str(tmp_path / "missing.conf"))
    monkeypatch.setenv("FONTCONFIG_PATH", str(tmp_path))
    out = render_draft(request(frames=3, fps="24"), tmp_path / "nofc.mp4")
    assert probe(out).frames == 3


def test_odd_size_is_refused_before_rendering(tmp_path):
    with pytest.raises(UnsupportedRequest) as err:
        render_draft(request(size="321x181", frames=3), tmp_path / "odd.mp4")
    assert "322x182" in str(err.value)
    assert not (tmp_path / "odd.mp4").exists()


def test_protocol_renders_with_progress_to_a_temporary_name(tmp_path):
    assert protocol_class("draft") is DraftProtocol
    assert DraftProtocol.local and DraftProtocol.name == "draft" and DraftProtocol.key_names == ()
    seen: list[float] = []
    dest = tmp_path / "job.mp4.part"  # the engine's temporary name: no .mp4 suffix to guess from
    protocol = DraftProtocol(Route(protocol="draft", model_id="draft"))
    asyncio.run(protocol.render(request(frames=20, fps="24"), dest, seen.append))
    assert probe(dest).frames == 20
    assert seen and seen[-1] == 1.0
    assert seen == sorted(seen) and all(0 < f <= 1 for f in seen)


# Planning is pure: no ffmpeg needed.


def test_plan_defaults_and_seconds_at_ntsc_rates():
    plan = plan_draft(GenerationRequest(prompt="p"))
    assert (plan.frames, plan.rate, str(plan.size), plan.audio) == (120, 24, "1920x1080", False)
    assert plan.for_model == "draft" and plan.shot == ""
    # 5 s at 23.976 is 119.88 frames: the draft covers it.
    assert plan_draft(GenerationRequest(prompt="p", seconds=5, fps="24000/1001")).frames == 120
    assert plan_draft(GenerationRequest(prompt="p", seconds=2, fps="30000/1001")).frames == 60
    assert plan_draft(GenerationRequest(prompt="p", frames=7, seconds=5, fps="25")).frames == 7


def test_plan_audio_samples_are_exact():
    plan = plan_draft(GenerationRequest(prompt="p", frames=1001, fps="24000/1001", audio=True))
    assert plan.samples == 2002 * 1001  # 1001 frames at 23.976 is exactly 41.7083 s of 48 kHz


def test_long_prompt_is_wrapped_to_fit_and_truncated_with_ellipsis():
    words = " ".join(f"word{i}" for i in range(2000))
    plan = plan_draft(GenerationRequest(prompt=words, size="320x180"))
    columns = max(len(line) for line in plan.prompt_lines)
    assert columns * plan.prompt_font * 1233 / 2048 <= 320  # no line runs off the frame
    assert plan.prompt_lines[-1].endswith("…")
    short = plan_draft(GenerationRequest(prompt="one\n\ntwo", size="320x180"))
    assert short.prompt_lines == ("one", "", "two")  # the editor's own line breaks are kept


def test_timecode_is_drop_frame_only_at_2997_and_5994(tmp_path):
    def graph(fps):
        cmd = build_command(plan_draft(GenerationRequest(prompt="p", frames=2, fps=fps)), tmp_path / "x.mp4")
        return cmd[cmd.index("-filter_complex") + 1]

    assert r"timecode=00\\:00\\:00\;00:timecode_rate=30000/1001" in graph("30000/1001")
    assert r"timecode_rate=60000/1001" in graph("60000/1001") and r"\;00:" in graph("60000/1001")
    assert r"timecode=00\\:00\\:00\\:00:timecode_rate=24000/1001" in graph("24000/1001")
    assert r"timecode=00\\:00\\:00\\:00:timecode_rate=25" in graph("25")


def test_command_is_deterministic_and_bitexact(tmp_path):
    req = GenerationRequest(prompt="p", frames=2)
    cmd = build_command(plan_draft(req), tmp_path / "x.mp4")
    assert cmd == build_command(plan_draft(req), tmp_path / "x.mp4")
    joined = " ".join(cmd)
    for flag in ("-fflags +bitexact", "-flags:v +bitexact", "-map_metadata -1", "-threads 4", "-f mp4"):
        assert flag in joined


def test_ffmpeg_failures_a_user_can_fix_are_named(tmp_path):
    from promptreel.core.errors import UserError
    from promptreel.core.providers.draft import _check

    partial = tmp_path / "half.mp4"
    partial.write_bytes(b"\0" * 10)
    with pytest.raises(UserError, match="lacks the 'drawtext' filter.*PROMPTREEL_FFMPEG"):
        _check(1, "[AVFilterGraph @ 0x1] No such filter: 'drawtext'\nError : Filter not found", partial)
    assert not partial.exists()
    with pytest.raises(UserError, match="disk is full"):
        _check(1, "av_interleaved_write_frame(): No space left on device", partial)
    with pytest.raises(RuntimeError, match="exit 1"):
        _check(1, "something else", partial)
