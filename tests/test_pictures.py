"""Pictures of clips (core/pictures.py), made once with the bundled ffmpeg and cached beside the clip,
and the panel's /api/media, which serves them only for files in promptreel's media folders."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction

import httpx

from promptreel.core import pictures
from promptreel.core.conform.probe import probe
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.settings import output_dir
from promptreel.resolve_plugin.panel import Panel


def _clip(path, codec: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x180:r=24:d=1", *codec, str(path)], check=True
    )
    return path


PRORES = ["-c:v", "prores_aw", "-pix_fmt", "yuv422p10le"]
H264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]


def test_thumbnail_is_made_once_and_again_when_the_clip_changes(tmp_path):
    clip = _clip(tmp_path / "take.mov", PRORES)
    thumb = pictures.thumbnail(clip)
    assert thumb == tmp_path / "take.thumb.jpg" and thumb.read_bytes()[:2] == b"\xff\xd8"
    made = thumb.stat().st_mtime_ns
    assert pictures.thumbnail(clip).stat().st_mtime_ns == made  # cached
    os.utime(clip, ns=(made + 10**9, made + 10**9))  # the clip's media replaced in place (a draft filled)
    assert pictures.thumbnail(clip).stat().st_mtime_ns > made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mov", "take.thumb.jpg"]  # no temporary left


def test_a_prores_clip_plays_through_an_h264_proxy_and_an_h264_one_as_it_is(tmp_path):
    prores = _clip(tmp_path / "a.mov", PRORES)
    proxy = pictures.playable(prores)
    info = probe(proxy)
    assert proxy == tmp_path / "a.proxy.mp4" and info.codec == "h264" and info.frames == 24
    assert info.rate == Fraction(24)
    h264 = _clip(tmp_path / "b.mp4", H264)
    assert pictures.playable(h264) == h264 and not (tmp_path / "b.proxy.mp4").exists()
    high10 = _clip(tmp_path / "c.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le"])  # no browser decodes it
    assert (
        pictures.playable(high10) == tmp_path / "c.proxy.mp4" and probe(tmp_path / "c.proxy.mp4").pix_fmt == "yuv420p"
    )


def test_filmstrip_is_ten_frames_in_one_sprite(tmp_path):
    import av

    strip = pictures.filmstrip(_clip(tmp_path / "a.mov", PRORES))
    with av.open(str(strip)) as f:
        frame = next(f.decode(video=0))
    assert (frame.width, frame.height) == (pictures.STRIP * pictures.STRIP_WIDTH, 90)


def test_media_is_served_only_from_promptreels_media_folders(tmp_path):
    inside = _clip(output_dir() / "conformed" / "a.mov", PRORES)
    outside = _clip(tmp_path / "elsewhere" / "b.mov", PRORES)
    panel = Panel(None, None, reason="test")
    panel.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token}) as c:
            ok = c.get("/api/media", params={"path": str(inside), "kind": "thumb"})
            assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
            play = c.get("/api/media", params={"path": str(inside), "kind": "play"})
            assert play.headers["content-type"] == "video/mp4"
            for path in (outside, inside.parent / ".." / ".." / ".." / "elsewhere" / "b.mov", "a.mov"):
                refused = c.get("/api/media", params={"path": str(path), "kind": "thumb"})
                assert refused.status_code == 400 and "not one promptreel made" in refused.json()["error"]
            assert not (tmp_path / "elsewhere" / "b.thumb.jpg").exists()
            assert c.get("/api/media", params={"path": str(inside), "kind": "poster"}).status_code == 400
            signed_out = httpx.get(f"http://127.0.0.1:{panel.port}/api/media", params={"path": str(inside)})
            assert signed_out.status_code == 403
    finally:
        panel.stop()


def test_a_clip_is_served_in_byte_ranges_for_seeking(tmp_path):
    clip = _clip(output_dir() / "conformed" / "c.mp4", H264)
    data = clip.read_bytes()
    panel = Panel(None, None, reason="test")
    panel.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token}) as c:
            query = {"path": str(clip), "kind": "play"}
            part = c.get("/api/media", params=query, headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == data[100:200]
            assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
            tail = c.get("/api/media", params=query, headers={"Range": "bytes=-50"})
            assert tail.status_code == 206 and tail.content == data[-50:]
            assert c.get("/api/media", params=query, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
            assert c.get("/api/media", params=query).content == data
    finally:
        panel.stop()
