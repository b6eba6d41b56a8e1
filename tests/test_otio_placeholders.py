"""Placeholder detection and slots, on real sample timelines and timelines built here."""

from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import SAMPLES

from promptreel.core.catalog import Size
from promptreel.core.timeline.placeholders import find_placeholders, frame_size, prompt_of
from promptreel.core.timeline.timebase import exact_rate, frames_at


def rt(v, rate=24):
    return otio.opentime.RationalTime(v, rate)


def tr(start, dur, rate=24):
    return otio.opentime.TimeRange(rt(start, rate), rt(dur, rate))


def timeline(*items, rate=24, gst=None):
    t = otio.schema.Timeline(name="t", global_start_time=gst)
    track = otio.schema.Track(name="Video 1")
    for it in items:
        track.append(it)
    t.tracks.append(track)
    return t


def test_exact_rates_from_otio_doubles():
    assert exact_rate(24000 / 1001) == Fraction(24000, 1001)
    assert exact_rate(23.976) == Fraction(24000, 1001)  # Hiero writes the literal
    assert exact_rate(29.97) == Fraction(30000, 1001)
    assert exact_rate(25.0) == 25
    assert frames_at(rt(50, 15), Fraction(30)) == 100


def test_every_placeholder_kind_and_prompt_source():
    slug = otio.schema.Clip(
        name="title",
        source_range=tr(0, 24),
        media_reference=otio.schema.GeneratorReference(generator_kind="Slug"),
        metadata={"promptreel": {"prompt": "a title card", "model": "veo-3.1", "seed": 7}},
    )
    offline = otio.schema.Clip(name="GEN: a foggy harbour", source_range=tr(100, 12))
    gap = otio.schema.Gap(source_range=tr(0, 30))
    gap.markers.append(otio.schema.Marker(name="", comment="gen: waves at night", marked_range=tr(0, 1)))
    resolve_note = otio.schema.Clip(name="A001.mov", source_range=tr(0, 10))
    resolve_note.markers.append(
        otio.schema.Marker(
            name="Marker 1",
            marked_range=tr(0, 1),
            metadata={"Resolve_OTIO": {"Keywords": [], "Note": "GEN: a crane shot"}},
        )
    )
    plain_gap = otio.schema.Gap(source_range=tr(0, 5))
    real = otio.schema.Clip(
        name="GEN: not a placeholder",
        source_range=tr(0, 8),
        media_reference=otio.schema.ExternalReference(target_url="/media/a.mov"),
    )
    t = timeline(slug, offline, gap, resolve_note, plain_gap, real)
    scan = find_placeholders(t.tracks, t.global_start_time)
    got = [(p.kind, p.prompt, p.record_frame, p.frames) for p in scan.placeholders]
    assert got == [
        ("generator:Slug", "a title card", 0, 24),
        ("missing", "a foggy harbour", 24, 12),
        ("gap", "waves at night", 36, 30),
        ("missing", "a crane shot", 66, 10),
    ]
    assert scan.placeholders[0].hints == {"model": "veo-3.1", "seed": 7}
    assert scan.skipped == []


def test_prompt_order_metadata_then_marker_then_name():
    clip = otio.schema.Clip(name="GEN: from the name", metadata={"promptreel": {"prompt": "from metadata"}})
    clip.markers.append(otio.schema.Marker(name="gen: from the marker"))
    assert prompt_of(clip)[0] == "from metadata"
    del clip.metadata["promptreel"]
    assert prompt_of(clip)[0] == "from the marker"
    clip.markers.pop()
    assert prompt_of(clip)[0] == "from the name"


def test_slot_frames_at_ntsc_rate_with_drop_frame_record_timecode():
    rate = 30000 / 1001
    gst = otio.opentime.from_timecode("01:00:00;00", rate)
    clip = otio.schema.Clip(name="GEN: city at dusk", source_range=tr(0, 45, rate))
    t = timeline(otio.schema.Gap(source_range=tr(0, 1800, rate)), clip, gst=gst)
    (ph,) = find_placeholders(t.tracks, t.global_start_time).placeholders
    slot = ph.slot(Size(width=320, height=180), 10)
    assert slot.rate == Fraction(30000, 1001) and slot.frames == 45
    assert ph.timecode == "01:01:00;02"  # 1800 frames after 01:00:00;00 at 29.97 DF


def test_transitions_next_to_a_placeholder_become_handles():
    t = otio.adapters.read_from_file(str(SAMPLES / "transition_test.otio"))
    for clip in t.find_clips():
        clip.name = f"GEN: shot {clip.name}"
    phs = find_placeholders(t.tracks).placeholders
    # t0 (10+10) before A, t1 between A and B, t3 after C: each item's media must run under them.
    assert [(p.name[-1], p.frames, p.head, p.tail, p.media_frames) for p in phs] == [
        ("A", 50, 10, 10, 70),
        ("B", 50, 10, 0, 60),
        ("C", 50, 0, 10, 60),
    ]


def test_placeholders_inside_nested_stacks_have_their_record_position():
    t = otio.adapters.read_from_file(str(SAMPLES / "nested_example.otio"))
    clips = [c for c in t.find_clips() if c.parent() is not t.tracks[0]]
    target = clips[0]
    target.markers.append(otio.schema.Marker(name="gen: a nested shot", marked_range=target.trimmed_range()))
    (ph,) = find_placeholders(t.tracks).placeholders
    expected = target.transformed_time_range(target.trimmed_range(), t.tracks).start_time
    assert ph.record_frame == frames_at(expected, Fraction(24))
    assert ph.item is target


def test_skipped_items_are_listed_with_the_reason():
    bars = otio.schema.Clip(
        name="bars", source_range=tr(0, 10), media_reference=otio.schema.GeneratorReference(generator_kind="SMPTEBars")
    )
    empty = otio.schema.Clip(name="GEN: nothing", source_range=tr(0, 0))
    warped = otio.schema.Clip(name="GEN: slow", source_range=tr(0, 10))
    warped.effects.append(otio.schema.LinearTimeWarp(time_scalar=0.5))
    t = timeline(bars, empty, warped)
    scan = find_placeholders(t.tracks)
    assert scan.placeholders == []
    assert [(s.name, s.reason.split(" ")[0]) for s in scan.skipped] == [
        ("bars", "no"),
        ("GEN: nothing", "zero"),
        ("GEN: slow", "has"),
    ]


def test_premiere_slug_generator_is_found_with_sequence_size():
    t = otio.adapters.read_from_file(str(SAMPLES / "premiere_example.xml"))
    scan = find_placeholders(t.tracks, t.global_start_time)
    assert [(s.name, s.track) for s in scan.skipped] == [("test_title", "V3")]  # a Slug without a prompt
    assert frame_size(t) == (Size(width=1280, height=720), 10)
    assert frame_size(t, Size(width=320, height=180), 8) == (Size(width=320, height=180), 8)
    assert frame_size(None) == (Size(width=1920, height=1080), 10)


def test_audio_tracks_are_not_searched():
    t = otio.schema.Timeline()
    audio = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Clip(name="GEN: a hum", source_range=tr(0, 10)))
    t.tracks.append(audio)
    assert find_placeholders(t.tracks).placeholders == []


@pytest.mark.parametrize("name", ["generator_reference_test.otio", "nested_example.otio", "transition_test.otio"])
def test_samples_without_prompts_have_no_placeholders(name):
    t = otio.adapters.read_from_file(str(SAMPLES / name))
    assert find_placeholders(t.tracks, t.global_start_time).placeholders == []
