"""The `promptreel` media linker, found by OTIO through the entry point and plugin_manifest.json."""

import opentimelineio as otio
import pytest

from otio_helpers import as_json, assert_frame_exact
from promptreel.core.errors import BadInput
from promptreel.core.timeline.writeback import PLACEHOLDER_KEY


def _board(path):
    t = otio.schema.Timeline(name="board", global_start_time=otio.opentime.RationalTime(86400, 24))
    track = otio.schema.Track(name="Video 1")
    track.append(otio.schema.Clip(name="GEN: a lighthouse in a storm", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(14, 24)),
        media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor")))
    gap = otio.schema.Gap(source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24),
                                                                otio.opentime.RationalTime(9, 24)))
    gap.metadata["promptreel"] = {"prompt": "gulls over the waves"}
    track.append(gap)
    track.append(otio.schema.Clip(name="real.mov", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(5, 24)),
        media_reference=otio.schema.ExternalReference(target_url="/media/real.mov")))
    t.tracks.append(track)
    otio.adapters.write_to_file(t, str(path))
    return t


def test_manifest_is_discovered():
    assert "promptreel" in otio.media_linker.available_media_linker_names()
    assert "promptreel_storyboard" in otio.adapters.available_adapter_names()
    assert any(p.endswith("otio_adapters/plugin_manifest.json") for p in otio.plugins.ActiveManifest().source_files)


def test_read_from_file_fills_clips_and_gaps(tmp_path):
    src = tmp_path / "board.otio"
    original = _board(src)
    t = otio.adapters.read_from_file(str(src), media_linker_name="promptreel", media_linker_argument_map={
        "output_dir": str(tmp_path / "media"), "size": "320x180", "codec": "h264"})
    a, b, real = t.tracks[0]
    assert isinstance(b, otio.schema.Clip)  # the gap became a clip
    assert_frame_exact(a, 14, 24)
    assert_frame_exact(b, 9, 24)
    assert a.media_references()[PLACEHOLDER_KEY].generator_kind == "SolidColor"
    assert as_json(real) == as_json(original.tracks[0][2])


def test_unknown_argument_is_refused(tmp_path):
    src = tmp_path / "board.otio"
    _board(src)
    with pytest.raises(BadInput, match="output_folder"):
        otio.adapters.read_from_file(str(src), media_linker_name="promptreel",
                                     media_linker_argument_map={"output_folder": str(tmp_path)})
