"""The `promptreel` media linker, found by OTIO through the entry point and plugin_manifest.json."""

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact

from promptreel.core.errors import BadInput
from promptreel.core.timeline.filler import FillIncomplete
from promptreel.core.timeline.writeback import PLACEHOLDER_KEY
from tests.fakes.otio_media import pattern_filler


def _board(path):
    t = otio.schema.Timeline(name="board", global_start_time=otio.opentime.RationalTime(86400, 24))
    track = otio.schema.Track(name="Video 1")
    track.append(
        otio.schema.Clip(
            name="GEN: a lighthouse in a storm",
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(14, 24)),
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
        )
    )
    gap = otio.schema.Gap(
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(9, 24))
    )
    gap.metadata["promptreel"] = {"prompt": "gulls over the waves"}
    track.append(gap)
    track.append(
        otio.schema.Clip(
            name="real.mov",
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(5, 24)),
            media_reference=otio.schema.ExternalReference(target_url="/media/real.mov"),
        )
    )
    t.tracks.append(track)
    otio.adapters.write_to_file(t, str(path))
    return t


def test_manifest_is_discovered():
    assert "promptreel" in otio.media_linker.available_media_linker_names()
    assert "promptreel_storyboard" in otio.adapters.available_adapter_names()
    assert any(p.endswith("otio_adapters/plugin_manifest.json") for p in otio.plugins.ActiveManifest().source_files)


def test_read_from_file_links_each_placeholder_clip_it_is_handed(tmp_path):
    src = tmp_path / "board.otio"
    original = _board(src)
    t = otio.adapters.read_from_file(
        str(src),
        media_linker_name="promptreel",
        media_linker_argument_map={"output_dir": str(tmp_path / "media"), "size": "320x180", "codec": "h264"},
    )
    a, b, real = t.tracks[0]
    assert_frame_exact(a, 14, 24)
    assert a.media_references()[PLACEHOLDER_KEY].generator_kind == "SolidColor"
    assert a.metadata["promptreel"]["model"] == "draft"
    # A gap is no clip: OTIO hands it to no linker, so it stays as it was (`promptreel fill` fills it).
    assert as_json(b) == as_json(original.tracks[0][1])
    assert as_json(real) == as_json(original.tracks[0][2])


def test_the_linker_returns_the_reference_of_the_clip_it_is_handed_and_none_for_others(tmp_path):
    t = _board(tmp_path / "board.otio")
    placeholder, _, real = t.tracks[0]
    args = {"output_dir": str(tmp_path / "media"), "size": "320x180", "codec": "h264", "filler": pattern_filler}
    assert otio.media_linker.linked_media_reference(real, "promptreel", args) is None
    ref = otio.media_linker.linked_media_reference(placeholder, "promptreel", args)
    assert isinstance(ref, otio.schema.ExternalReference)
    assert as_json(ref) == as_json(placeholder.media_reference)  # what OTIO would set is what the clip plays
    assert_frame_exact(placeholder, 14, 24)


def test_a_read_is_refused_before_anything_is_made_when_a_later_clip_cannot_be(tmp_path):
    src = tmp_path / "board.otio"
    t = _board(src)
    late = otio.schema.Clip(
        name="GEN: a second storm",
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(7, 24)),
        media_reference=otio.schema.MissingReference(),
    )
    late.metadata["promptreel"] = {"model": "no-such-model"}
    t.tracks[0].append(late)
    otio.adapters.write_to_file(t, str(src))
    with pytest.raises(FillIncomplete, match="1 placeholder"):
        otio.adapters.read_from_file(
            str(src),
            media_linker_name="promptreel",
            media_linker_argument_map={
                "output_dir": str(tmp_path / "media"),
                "size": "320x180",
                "filler": pattern_filler,
            },
        )
    assert not (tmp_path / "media").exists()  # the first clip was not made either


def test_unknown_argument_is_refused(tmp_path):
    src = tmp_path / "board.otio"
    _board(src)
    with pytest.raises(BadInput, match="output_folder"):
        otio.adapters.read_from_file(
            str(src), media_linker_name="promptreel", media_linker_argument_map={"output_folder": str(tmp_path)}
        )


def test_a_gap_the_linker_is_never_handed_does_not_refuse_the_read(tmp_path):
    src = tmp_path / "board.otio"
    t = _board(src)
    t.tracks[0][1].metadata["promptreel"] = {"prompt": "gulls over the waves", "model": "no-such-model"}
    otio.adapters.write_to_file(t, str(src))
    read = otio.adapters.read_from_file(
        str(src),
        media_linker_name="promptreel",
        media_linker_argument_map={"output_dir": str(tmp_path / "media"), "size": "320x180", "filler": pattern_filler},
    )
    assert_frame_exact(read.tracks[0][0], 14, 24)
    assert isinstance(read.tracks[0][1], otio.schema.Gap)
