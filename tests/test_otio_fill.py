"""Fill, write back and revert on real timelines, with real ffmpeg renders.

Every fill is checked frame-exact (the media is probed), every other part of the timeline is
compared before and after (structural diff), and revert must give back the input exactly.
"""

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from otio_helpers import SAMPLES, as_json, assert_frame_exact, changed_outside, item_path, media_path

from promptreel.core.catalog import Size
from promptreel.core.errors import BudgetExceeded
from promptreel.core.made import MadeClip
from promptreel.core.timeline.fill import fill_timeline
from promptreel.core.timeline.filler import FillIncomplete, FillOptions, engine_filler
from promptreel.core.timeline.placeholders import find_placeholders
from promptreel.core.timeline.revert import revert_tracks
from promptreel.core.timeline.writeback import PLACEHOLDER_KEY
from promptreel.otio_adapters.timeline_io import read_timeline, write_timeline
from tests.fakes.otio_media import pattern_filler, render_pattern

SMALL = Size(width=320, height=180)


@pytest.fixture
def options(tmp_path):
    return FillOptions(output_dir=tmp_path / "media", codec="h264")


def reread(path):
    return otio.adapters.read_from_file(str(path))


def fill_and_check(doc, options, out, size=SMALL, baseline=None):
    """Fill `doc`, write `out`, read it back; check frame-exactness and that nothing else changed."""
    before = as_json(doc.timeline)
    phs = find_placeholders(doc.timeline.tracks, doc.timeline.global_start_time).placeholders
    paths = [item_path(p.item) for p in phs]
    expected = [(p.frames, p.media_frames, p.rate, p.record_frame) for p in phs]
    report = fill_timeline(doc.timeline, engine_filler, options, size=size)
    assert len(report.filled) == len(phs) > 0 and not report.failed
    written, note = write_timeline(doc, out)
    assert written == out and note is None
    after = otio.adapters.read_from_file(str(out), **({"rate": doc.read_args["rate"]} if doc.read_args else {}))
    assert changed_outside(before if baseline is None else baseline, after, paths) == []
    for path, (frames, media_frames, rate, record) in zip(paths, expected):
        clip = _at(after, path)
        assert isinstance(clip, otio.schema.Clip)
        assert_frame_exact(clip, frames, rate, media_frames)
        gst = after.global_start_time
        assert round(record_start(clip).value) + (round(gst.value) if gst is not None else 0) == record
    return after


def record_start(item):
    """Where the item starts in its top-level track, by OTIO's range_in_parent at each level."""
    t = item.range_in_parent().start_time
    node = item.parent()
    while node.parent() is not None and node.parent().parent() is not None:
        t = node.range_in_parent().start_time + (t - node.trimmed_range().start_time)
        node = node.parent()
    return t


def _at(timeline, path):
    node = timeline.tracks
    for part in path.split("/")[2:]:
        node = node[int(part[len("children[") : -1])]
    return node


def test_generator_sample_fill_revert_exact(tmp_path, options):
    src = tmp_path / "bars.otio"
    t = otio.adapters.read_from_file(str(SAMPLES / "generator_reference_test.otio"))
    t.find_clips()[0].metadata["promptreel"] = {"prompt": "colour bars melting into a sunset", "seed": 3}
    otio.adapters.write_to_file(t, str(src))
    doc = read_timeline(src)
    after = fill_and_check(doc, options, tmp_path / "filled.otio")
    clip = after.find_clips()[0]
    refs = clip.media_references()
    assert clip.active_media_reference_key == "DEFAULT_MEDIA"
    assert isinstance(refs["DEFAULT_MEDIA"], otio.schema.ExternalReference)
    assert isinstance(refs[PLACEHOLDER_KEY], otio.schema.GeneratorReference)
    assert refs[PLACEHOLDER_KEY].generator_kind == "SMPTEBars"
    meta = clip.metadata["promptreel"]
    assert (meta["prompt"], meta["model"], meta["seed"], meta["cost"]) == (
        "colour bars melting into a sunset",
        "draft",
        3,
        0,
    )
    assert {"route", "job_id", "created", "ai_generated"} <= set(meta)
    # A draft slate says it is not AI-generated footage, and names the original kept beside its media.
    assert meta["ai_generated"] is False and "not AI-generated" in meta["disclosure"]
    assert Path(meta["original"]).is_file() and len(meta["original_sha256"]) == len(meta["prompt_sha256"]) == 64

    assert revert_tracks(after.tracks) == 1
    assert as_json(after) == as_json(reread(src))


def test_transitions_get_handles_in_the_media(tmp_path, options):
    src = tmp_path / "transitions.otio"
    t = otio.adapters.read_from_file(str(SAMPLES / "transition_test.otio"))
    for clip in t.find_clips():
        clip.name = f"GEN: {clip.name} a slow dolly"
    otio.adapters.write_to_file(t, str(src))
    after = fill_and_check(read_timeline(src), options, tmp_path / "filled.otio")
    a, b, c = after.find_clips()
    # A sits after a 10+10 dissolve: its media starts 10 frames before what the cut shows.
    assert a.source_range.start_time.value == 10 and a.media_reference.available_range.duration.value == 70
    assert c.source_range.start_time.value == 0 and c.media_reference.available_range.duration.value == 60
    revert_tracks(after.tracks)
    assert as_json(after) == as_json(reread(src))


def test_placeholder_in_nested_stack(tmp_path, options):
    src = tmp_path / "nested.otio"
    t = otio.adapters.read_from_file(str(SAMPLES / "nested_example.otio"))
    inner = [c for c in t.find_clips() if c.parent() is not t.tracks[0]][0]
    inner.markers.append(otio.schema.Marker(name="gen: a nested insert", marked_range=inner.trimmed_range()))
    otio.adapters.write_to_file(t, str(src))
    after = fill_and_check(read_timeline(src), options, tmp_path / "filled.otio")
    revert_tracks(after.tracks)
    assert as_json(after) == as_json(reread(src))


def test_gap_becomes_a_clip_and_reverts_to_the_gap(tmp_path, options):
    t = otio.schema.Timeline(name="gaps", global_start_time=otio.opentime.RationalTime(86400, 24000 / 1001))
    track = otio.schema.Track(name="V")
    rate = 24000 / 1001
    track.append(
        otio.schema.Clip(
            name="A",
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(12, rate)
            ),
            media_reference=otio.schema.ExternalReference(target_url="/media/A.mov"),
        )
    )
    gap = otio.schema.Gap(
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(37, rate))
    )
    gap.metadata["promptreel"] = {"prompt": "rain on a window", "negative_prompt": "people"}
    gap.metadata["studio"] = {"keep": "me"}
    gap.markers.append(
        otio.schema.Marker(
            name="note",
            marked_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(5, rate), otio.opentime.RationalTime(1, rate)
            ),
        )
    )
    track.append(gap)
    t.tracks.append(track)
    src = tmp_path / "gap.otio"
    otio.adapters.write_to_file(t, str(src))
    after = fill_and_check(read_timeline(src), options, tmp_path / "filled.otio")
    clip = after.tracks[0][1]
    assert isinstance(clip, otio.schema.Clip)
    assert Fraction(clip.duration().rate).limit_denominator(1001) == Fraction(24000, 1001)
    assert clip.metadata["studio"]["keep"] == "me" and clip.markers[0].name == "note"
    assert clip.metadata["promptreel"]["placeholder"]["previous"]["negative_prompt"] == "people"
    revert_tracks(after.tracks)
    assert as_json(after) == as_json(reread(src))


def test_premiere_xml_round_trip_keeps_everything_else(tmp_path, options):
    src = tmp_path / "premiere.xml"
    text = (SAMPLES / "premiere_example.xml").read_text("utf-8")
    src.write_text(text.replace("<name>test_title</name>", "<name>GEN: a hand-lettered title</name>", 1), "utf-8")
    doc = read_timeline(src)
    # The adapter itself is not lossless: compare against the input put through it unfilled.
    plain = tmp_path / "plain.xml"
    write_timeline(read_timeline(src), plain)
    fill_and_check(doc, options, tmp_path / "filled.xml", size=Size(width=64, height=36), baseline=reread(plain))


def test_edl_marker_prompt_round_trip(tmp_path, options):
    src = tmp_path / "screening.edl"
    text = (SAMPLES / "screening_example_markers.edl").read_text("utf-8")
    src.write_text(text.replace("* LOC: 01:00:15:13 GREEN", "* LOC: 01:00:15:13 GREEN gen: a crowd cheers"), "utf-8")
    doc = read_timeline(src, rate=Fraction(24))
    plain = tmp_path / "plain.edl"
    write_timeline(read_timeline(src, rate=Fraction(24)), plain)
    before_marker = doc.timeline.find_clips()[6].markers[0]
    offset = before_marker.marked_range.start_time - doc.timeline.find_clips()[6].source_range.start_time
    after = fill_and_check(
        doc, options, tmp_path / "filled.edl", baseline=otio.adapters.read_from_file(str(plain), rate=24)
    )
    clip = after.find_clips()[6]
    # The marker keeps its place in the cut although the clip's source start moved.
    assert clip.markers[0].marked_range.start_time - clip.source_range.start_time == offset


def test_resolve_shaped_output(tmp_path, options):
    import av

    sample = otio.adapters.read_from_file(
        str(SAMPLES / "resolve_clip_qt_embedded_tc_mixed_rate.json"), adapter_name="otio_json"
    )
    t = otio.schema.Timeline(
        name="Timeline 1",
        global_start_time=otio.opentime.RationalTime(90000, 25),
        metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
    )
    track = otio.schema.Track(name="Video 1", metadata={"Resolve_OTIO": {"Locked": False}})
    track.append(sample)
    offline = otio.schema.Clip(
        name="B002.mov",
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(90100, 25), otio.opentime.RationalTime(30, 25)),
        metadata={"Resolve_OTIO": {}},
    )
    offline.media_reference = otio.schema.MissingReference(metadata={"Resolve_OTIO": {"Media Url": "D:/B002.mov"}})
    offline.markers.append(
        otio.schema.Marker(
            name="Marker 2",
            color="BLUE",
            marked_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(90110, 25), otio.opentime.RationalTime(1, 25)
            ),
            metadata={"Resolve_OTIO": {"Keywords": [], "Note": "gen: a drone over a glacier"}},
        )
    )
    track.append(offline)
    t.tracks.append(track)
    src = tmp_path / "resolve.otio"
    otio.adapters.write_to_file(t, str(src))
    after = fill_and_check(read_timeline(src), options, tmp_path / "filled.otio")
    clip = after.tracks[0][1]
    raw = as_json(after)["tracks"]["children"][0]["children"][1]
    assert raw["OTIO_SCHEMA"] == "Clip.2" and raw["active_media_reference_key"] == "DEFAULT_MEDIA"
    assert raw["media_references"]["DEFAULT_MEDIA"]["available_range"]["duration"]["value"] == 30
    assert raw["media_references"][PLACEHOLDER_KEY]["OTIO_SCHEMA"] == "MissingReference.1"
    ref = clip.media_reference
    assert not ref.target_url.startswith("file:") and ref.target_url == str(media_path(clip))
    # Source range against the media's own start timecode, 01:00:00:00 at 25 fps; written into the media too.
    assert ref.available_range.start_time.value == 90000 and clip.source_range.start_time.value == 90000
    with av.open(str(media_path(clip))) as c:
        tags = {**c.metadata, **c.streams.video[0].metadata}
        assert "01:00:00:00" in tags.values()
    assert clip.name == media_path(clip).name  # Resolve conforms by file name
    assert clip.markers[0].metadata["Resolve_OTIO"]["Note"].startswith("gen:")
    assert clip.media_references()[PLACEHOLDER_KEY].metadata["Resolve_OTIO"]["Media Url"] == "D:/B002.mov"
    revert_tracks(after.tracks)
    assert as_json(after) == as_json(reread(src))


def _two_placeholders():
    t = otio.schema.Timeline(name="two")
    track = otio.schema.Track()
    for name in ("GEN: one", "GEN: two"):
        track.append(
            otio.schema.Clip(
                name=name,
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(6, 24)
                ),
            )
        )
    t.tracks.append(track)
    return t


def test_a_failed_slot_changes_nothing_unless_partial(options):
    def half(slots, opts):
        return [render_pattern(slots[0], opts), MadeClip.failed(slots[1], "provider refused the prompt")]

    t = _two_placeholders()
    before = as_json(t)
    with pytest.raises(FillIncomplete, match="provider refused"):
        fill_timeline(t, half, options, size=SMALL)
    assert as_json(t) == before

    partial = FillOptions(**{**options.__dict__, "partial": True})
    report = fill_timeline(t, half, partial, size=SMALL)
    assert [p.prompt for p, _ in report.filled] == ["one"] and [p.prompt for p, _ in report.failed] == ["two"]
    assert "placeholder" in t.find_clips()[0].metadata["promptreel"] and "promptreel" not in t.find_clips()[1].metadata


def test_media_that_is_not_frame_exact_is_refused(options):
    def short_by_one(slots, opts):
        return [render_pattern(s.model_copy(update={"frames": s.frames - 1}), opts) for s in slots]

    t = _two_placeholders()
    with pytest.raises(FillIncomplete, match="5 frames"):
        fill_timeline(t, short_by_one, options, size=SMALL)
    assert all("promptreel" not in c.metadata for c in t.find_clips())


def test_budget_is_checked_before_anything_is_made(options):
    calls = []
    t = _two_placeholders()
    over = FillOptions(**{**options.__dict__, "model": "veo-3.1-fast", "budget": 0.5})
    with pytest.raises(BudgetExceeded, match=r"\$1\.20"):  # two 4 s takes at $0.15/s
        fill_timeline(t, lambda s, o: calls.append(s) or [], over, size=Size(width=1280, height=720))
    assert calls == []


def test_refilling_a_draft_keeps_the_original_placeholder(tmp_path, options):
    t = _two_placeholders()
    fill_timeline(t, pattern_filler, options, size=SMALL)
    original_kinds = {type(c.media_references()[PLACEHOLDER_KEY]).__name__ for c in t.find_clips()}

    def generated(slots, opts):  # stands in for the engine: real media, a real model's provenance
        out = []
        for s in slots:
            d = render_pattern(s.model_copy(update={"seed": 99}), opts)
            real = replace(d.provenance, model="veo-3.1", ai_generated=True, cost=0.4)
            out.append(replace(d, slot=s, provenance=real))
        return out

    phs = find_placeholders(t.tracks).placeholders
    assert [p.kind for p in phs] == ["draft", "draft"]
    report = fill_timeline(t, generated, FillOptions(**{**options.__dict__, "model": "veo-3.1"}), size=SMALL)
    assert report.cost == pytest.approx(0.8)
    for clip in t.find_clips():
        assert clip.metadata["promptreel"]["model"] == "veo-3.1" and clip.metadata["promptreel"]["ai_generated"]
        assert set(clip.media_references()) == {"DEFAULT_MEDIA", PLACEHOLDER_KEY}
    assert {type(c.media_references()[PLACEHOLDER_KEY]).__name__ for c in t.find_clips()} == original_kinds
    assert find_placeholders(t.tracks).placeholders == []  # a real fill is no longer a placeholder
    revert_tracks(t.tracks)
    assert as_json(t) == as_json(_two_placeholders())


def test_otioz_bundle_carries_the_filled_media(tmp_path, options):
    src = tmp_path / "board.otioz"
    otio.adapters.write_to_file(_two_placeholders(), str(src))
    doc = read_timeline(src)
    fill_timeline(doc.timeline, pattern_filler, options, size=SMALL)
    written, note = write_timeline(doc, tmp_path / "filled.otioz")
    assert note is None
    (tmp_path / "x").mkdir()
    t = otio.adapters.read_from_file(str(written), extract_to_directory=str(tmp_path / "x"))
    for clip in t.find_clips():
        url = clip.media_reference.target_url
        assert url.startswith("media/promptreel-")  # inside the bundle, relative to it
        clip.media_reference.target_url = str(tmp_path / "x" / url)
        assert_frame_exact(clip, 6, Fraction(24))


def _ramp(path, frames=24):
    """Media whose frame N has luma 8*N, so a still tells which frame it is."""
    import ffmpeg

    from promptreel.core.ffmpeg import ffmpeg_exe

    src = ffmpeg.input("nullsrc=s=320x180:r=24", f="lavfi").filter("geq", lum="N*8", cb=128, cr=128)
    ffmpeg.run(
        ffmpeg.output(src, str(path), vframes=frames, vcodec="libx264", qp=0, pix_fmt="yuv444p"),
        cmd=ffmpeg_exe(),
        quiet=True,
        overwrite_output=True,
    )
    return path


def _luma(path, n=0):
    """Mean grey level of frame n of an image or video."""
    from itertools import islice

    import av

    with av.open(str(path)) as c:
        frame = next(islice(c.decode(video=0), n, None))
        frame = frame.reformat(format="gray")
        plane, w = frame.planes[0], frame.width
        data = bytes(plane)
        rows = [data[y * plane.line_size : y * plane.line_size + w] for y in range(frame.height)]
        return round(sum(sum(r) for r in rows) / (w * frame.height))


def test_frames_from_neighbours_reach_models_that_take_them(tmp_path, options):
    a, b = _ramp(tmp_path / "a shot.mov"), _ramp(tmp_path / "b.mov")
    rng = lambda s, d: otio.opentime.TimeRange(otio.opentime.RationalTime(s, 24), otio.opentime.RationalTime(d, 24))  # noqa: E731
    t = otio.schema.Timeline()
    track = otio.schema.Track()
    track.append(
        otio.schema.Clip(
            name="A",
            source_range=rng(10, 8),
            media_reference=otio.schema.ExternalReference(target_url=a.as_uri(), available_range=rng(0, 24)),
        )
    )
    track.append(otio.schema.Gap(name="GEN: the kite falls", source_range=rng(0, 6)))
    track.append(
        otio.schema.Clip(
            name="B",
            source_range=rng(5, 6),
            media_reference=otio.schema.ExternalReference(target_url=str(b), available_range=rng(0, 24)),
        )
    )
    t.tracks.append(track)
    seen = []

    def recording(slots, opts):
        seen.extend(slots)
        return [render_pattern(s.model_copy(update={"first_frame": None, "last_frame": None}), opts) for s in slots]

    with_stills = FillOptions(**{**options.__dict__, "model": "veo-3.1", "frames_from_neighbours": True})
    fill_timeline(t, recording, with_stills, size=SMALL)
    (slot,) = seen
    ramp = [_luma(a, n) for n in range(24)]
    assert len(set(ramp[3:])) == 21  # every frame tells itself apart (the darkest three clip to black)
    assert _luma(slot.first_frame) == ramp[17]  # A's last shown frame: source 10 + 8 - 1
    assert _luma(slot.last_frame) == ramp[5]  # B's first shown frame
    assert isinstance(t.tracks[0][1], otio.schema.Clip)

    seen.clear()  # the draft model takes no image inputs: none are made or sent
    t2 = _two_placeholders()
    fill_timeline(t2, recording, FillOptions(**{**options.__dict__, "frames_from_neighbours": True}), size=SMALL)
    assert all(s.first_frame is None and s.last_frame is None for s in seen)


def test_speed_effects_edl_fills_plain_shots_and_lists_the_retimed_one(tmp_path, options):
    src = tmp_path / "speed.edl"
    text = (SAMPLES / "speed_effects_small.edl").read_text("utf-8")
    text = text.replace("* FROM CLIP NAME:  Z677_4C (ANIM10)", "* FROM CLIP NAME:  GEN: a paper plane loops")
    text = text.replace("* FROM CLIP NAME:  Z682_156 (LAY3) FF", "* FROM CLIP NAME:  GEN: a frozen moment")
    src.write_text(text, "utf-8")
    doc = read_timeline(src, rate=Fraction(24))
    scan = find_placeholders(doc.timeline.tracks)
    assert [s.name for s in scan.skipped] == ["GEN: a frozen moment"] and "freeze" in scan.skipped[0].reason
    plain = tmp_path / "plain.edl"
    write_timeline(read_timeline(src, rate=Fraction(24)), plain)
    fill_and_check(
        doc,
        options,
        tmp_path / "filled.edl",
        size=Size(width=64, height=36),
        baseline=otio.adapters.read_from_file(str(plain), rate=24),
    )


def test_no_api_key_reaches_the_timeline(tmp_path, options, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)

    def leaky(slots, opts):  # an engine that echoed a request URL with the key in it
        out = []
        for s in slots:
            d = render_pattern(s, opts)
            out.append(replace(d, provenance=replace(d.provenance, route=f"https://api.example/v1?key={secret}")))
        return out

    t = _two_placeholders()
    fill_timeline(t, leaky, options, size=SMALL)
    path = tmp_path / "t.otio"
    otio.adapters.write_to_file(t, str(path))
    text = path.read_text("utf-8")
    assert secret not in text and "[redacted]" in text
