"""The `promptreel_scan` and `promptreel_fill` OTIO hooks, run as OTIO pipelines run them (`otio.hooks.run`)."""

import opentimelineio as otio
from otio_helpers import assert_frame_exact

from promptreel.core.catalog import Size
from promptreel.core.timeline.writeback import PLACEHOLDER_KEY
from tests.fakes.otio_media import pattern_filler


def _cut() -> otio.schema.Timeline:
    t = otio.schema.Timeline(name="cut", global_start_time=otio.opentime.RationalTime(86400, 24))
    track = otio.schema.Track(name="Video 1")
    track.metadata["Resolve_OTIO"] = {"Locked": False}
    track.append(
        otio.schema.Clip(
            name="GEN: a lighthouse in a storm",
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(14, 24)),
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
        )
    )
    t.tracks.append(track)
    return t


def test_the_scan_hook_answers_in_plain_data_and_changes_nothing():
    t = _cut()
    before = otio.adapters.write_to_string(t, "otio_json")
    args = {"model": "draft", "size": Size(width=320, height=180), "bit_depth": 10}
    otio.hooks.run("promptreel_scan", t, args)
    assert args["scan"] == {
        "resolve_shaped": True,
        "placeholders": [
            {
                "track": "V1 Video 1",
                "timecode": "01:00:00:00",
                "prompt": "a lighthouse in a storm",
                "frames": 14,
                "model": "draft",
                "cost": 0.0,
                "error": None,
            }
        ],
    }
    assert otio.adapters.write_to_string(t, "otio_json") == before


def test_the_fill_hook_fills_in_place_resolve_shaped(tmp_path):
    t = _cut()
    args = {
        "output_dir": str(tmp_path / "media"),
        "model": "draft",
        "size": Size(width=320, height=180),
        "codec": "h264",
        "filler": pattern_filler,
    }
    otio.hooks.run("promptreel_fill", t, args)
    assert args["report"] == {"filled": 1, "failed": [], "cost": 0.0}
    (clip,) = t.tracks[0]
    assert_frame_exact(clip, 14, 24)
    assert not clip.media_reference.target_url.startswith("file:")  # Resolve reads bare OS paths
    assert clip.name == clip.media_reference.name  # and conforms by file name
    assert clip.media_references()[PLACEHOLDER_KEY].generator_kind == "SolidColor"
