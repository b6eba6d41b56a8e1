"""The Resolve double behaves as docs/resolve-quirks.md says, and matches fusionscript-stubs' signatures."""

from __future__ import annotations

import ast
import inspect
from fractions import Fraction
from importlib.metadata import files
from pathlib import Path

import pytest

from promptreel.core.request import Slot
from tests.fakes import resolve as fake
from tests.fakes.clips import TestPatternMaker


@pytest.fixture
def clip_path(tmp_path):
    slot = Slot(frames=24, rate=24, size="320x180", prompt="p")
    return TestPatternMaker(tmp_path)(slot).path


def _stub_classes() -> dict[str, dict[str, ast.FunctionDef]]:
    pyi = next(Path(f.locate()) for f in files("fusionscript-stubs") if f.name == "fusionscript.pyi")
    tree = ast.parse(pyi.read_text(encoding="utf-8"))
    out: dict[str, dict[str, ast.FunctionDef]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
    return out


@pytest.mark.parametrize(
    "cls",
    [
        fake.FakeResolve,
        fake.ProjectManager,
        fake.Project,
        fake.MediaPool,
        fake.Folder,
        fake.MediaPoolItem,
        fake.Timeline,
        fake.TimelineItem,
    ],
)
def test_double_matches_stub_signatures(cls):
    stub_name = "Resolve" if cls is fake.FakeResolve else cls.__name__
    stubs = _stub_classes()[stub_name]
    api = [n for n in cls.__dict__ if n[:1].isupper() and callable(cls.__dict__[n])]
    assert api, stub_name
    for name in api:
        assert name in stubs, f"{stub_name}.{name} is not in the documented API"
        documented = [a.arg for a in stubs[name].args.args[1:]]
        ours = inspect.signature(getattr(cls, name))
        # Every documented positional parameter can be passed to the double, in order.
        ours.bind(None, *documented)


def test_hasattr_is_always_true_and_missing_methods_return_none():
    r = fake.FakeResolve()
    assert hasattr(r, "NoSuchMethod")
    assert r.NoSuchMethod() is None
    assert "NoSuchMethod" not in dir(r) and "GetProductName" in dir(r)


def test_import_lands_in_current_folder_only(clip_path):
    r = fake.FakeResolve()
    pool = r._new_project().GetMediaPool()
    target = pool.AddSubFolder(pool.GetRootFolder(), "promptreel")
    (clip,) = pool.ImportMedia([str(clip_path)])
    assert clip in pool.GetRootFolder().GetClipList() and target.GetClipList() == []
    assert pool.ImportMedia([str(clip_path.with_suffix(".missing"))]) == []


def test_append_drops_overlap_silently_and_returns_a_ghost(clip_path):
    r = fake.FakeResolve()
    project = r._new_project()
    pool = project.GetMediaPool()
    tl = pool.CreateEmptyTimeline("t")
    (clip,) = pool.ImportMedia([{"FilePath": str(clip_path)}])
    start = tl.GetStartFrame()
    assert start == 86400
    first = pool.AppendToTimeline(
        [{"mediaPoolItem": clip, "startFrame": 0, "endFrame": 10, "trackIndex": 1, "recordFrame": start}]
    )
    assert first[0].GetUniqueId() and first[0].GetDuration() == 10  # endFrame exclusive
    second = pool.AppendToTimeline(
        [{"mediaPoolItem": clip, "startFrame": 0, "endFrame": 10, "trackIndex": 1, "recordFrame": start + 5}]
    )
    assert len(second) == 1 and second[0].GetUniqueId() == ""  # returned, never placed
    assert len(tl.GetItemListInTrack("video", 1)) == 1
    (trimmed,) = pool.AppendToTimeline(
        [{"mediaPoolItem": clip, "startFrame": 4, "endFrame": 9, "trackIndex": 1, "recordFrame": start + 20}]
    )
    assert trimmed.GetLeftOffset() == 4 and trimmed.GetSourceStartFrame() == 5


def test_mixed_rate_lands_a_frame_short(tmp_path):
    r = fake.FakeResolve()
    pool = r._new_project(rate="24").GetMediaPool()
    pool.CreateEmptyTimeline("t")
    made = TestPatternMaker(tmp_path, rate=25)(Slot(frames=25, rate=25, size="320x180", prompt="p"))
    (clip,) = pool.ImportMedia([str(made.path)])
    (item,) = pool.AppendToTimeline(
        [{"mediaPoolItem": clip, "startFrame": 0, "endFrame": 25, "trackIndex": 1, "recordFrame": 86400}]
    )
    assert item.GetDuration() == 23  # 25 frames at 25 fps are 24 at 24 fps; Resolve lands 23


def test_delete_needs_edit_page_and_generator_colour_does_not_stick():
    r, tl = fake.cut_with_placeholders()
    solid = tl.GetItemListInTrack("video", 1)[0]
    assert solid.GetMediaPoolItem() is None
    assert solid.SetClipColor("Orange") is True and solid.GetClipColor() == ""
    assert solid.SetClipColor("Red") is False  # a marker colour, not a clip colour
    assert r.GetCurrentPage() == "media" and tl.DeleteClips([solid]) is False
    assert r.OpenPage("edit") and tl.DeleteClips([solid]) is True


def test_replace_clip_wipes_metadata(clip_path):
    r = fake.FakeResolve()
    pool = r._new_project().GetMediaPool()
    (clip,) = pool.ImportMedia([str(clip_path)])
    assert clip.SetMetadata("Description", "x") and clip.SetThirdPartyMetadata({"k": "v"})
    assert clip.ReplaceClip(str(clip_path))
    assert clip.GetMetadata() == {} and clip.GetThirdPartyMetadata() == {}


def test_settings_strings_and_refusals():
    r = fake.FakeResolve()
    project = r._new_project(rate="29.97 DF")
    assert project.GetSetting("timelineFrameRate") == "29.97 DF"
    assert project.GetSetting("noSuchKey") == ""
    assert project.SetSetting("timelinePlaybackFrameRate", "24") is False
    tl = project.GetMediaPool().CreateEmptyTimeline("t")
    assert project.SetSetting("timelineFrameRate", "25") is False  # timelines exist
    assert tl.SetSetting("useCustomSettings", "1") and tl.SetSetting("timelineResolutionWidth", "1280")
    assert tl.GetSetting("timelineResolutionWidth") == "1280"
    assert project.GetSetting("timelineResolutionWidth") == "1920"
    assert r.GetProjectManager().SaveProject() is True
    r._new_project(name="Untitled Project")
    assert r.GetProjectManager().SaveProject() is False


def test_export_refuses_string_constants(tmp_path):
    r, tl = fake.cut_with_placeholders()
    assert tl.Export(str(tmp_path / "a.otio"), "EXPORT_OTIO", "EXPORT_NONE") is False
    assert tl.Export(str(tmp_path / "a.otio"), r.EXPORT_OTIO, r.EXPORT_NONE) is True
    assert (tmp_path / "a.otio").stat().st_size > 0


def test_take_selector_is_one_based_and_shows_the_selected_take(tmp_path, clip_path):
    r = fake.FakeResolve()
    project = r._new_project(rate="23.976")
    pool = project.GetMediaPool()
    tl = pool.CreateEmptyTimeline("t")
    slot = Slot(frames=24, rate=Fraction(24000, 1001), size="320x180", prompt="p")
    a, b = pool.ImportMedia([str(TestPatternMaker(tmp_path / n)(slot).path) for n in "ab"])
    (other_rate,) = pool.ImportMedia([str(clip_path)])  # 24 fps on a 23.976 timeline
    item = tl._add(1, 86400, 20, "a", a, left=2)
    assert item.GetTakesCount() == 0 and item.GetSelectedTakeIndex() == 0 and item.GetTakeByIndex(1) is None
    assert item.AddTake(b, 0, 20) and item.AddTake(b)  # full extent by default
    assert item.GetTakesCount() == 3 and item.GetSelectedTakeIndex() == 1  # take 1 is the item as it was
    assert item.GetTakeByIndex(1) == {"startFrame": 2, "endFrame": 22, "mediaPoolItem": a}
    assert item.SelectTakeByIndex(3) and (item.GetMediaPoolItem(), item.GetDuration()) == (b, 24)
    assert not item.SelectTakeByIndex(0) and not item.SelectTakeByIndex(4) and not item.AddTake(b, 0, 99)
    assert item.AddTake(other_rate, 0, 24) and item.GetTakeByIndex(4)["endFrame"] == 23  # quirk 5: a frame short
    assert item.DeleteTakeByIndex(4) and item.DeleteTakeByIndex(2) and item.GetSelectedTakeIndex() == 2
    assert item.SelectTakeByIndex(1) and item.FinalizeTake()
    assert item.GetTakesCount() == 0
    assert (item.GetMediaPoolItem(), item.GetLeftOffset(), item.GetDuration()) == (a, 2, 20)
    assert not item.FinalizeTake() and not item.DeleteTakeByIndex(1)
