"""File mode: a Resolve-shaped OTIO export is seen in the watched folder, filled with real ffmpeg
renders, and written back beside it as `<name> promptreel.otio`, Resolve-shaped; over real HTTP
through the panel too."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import httpx
import opentimelineio as otio
import pytest
from otio_helpers import SAMPLES, assert_frame_exact, media_path

from promptreel.core.journal import Journal
from promptreel.core.timeline.filler import engine_filler
from promptreel.resolve_plugin import filemode, panel_settings
from promptreel.resolve_plugin.panel import Panel
from tests.fakes.otio_media import pattern_filler

# Every schema an OTIO 0.18 export from Resolve may hold: anything else makes Resolve's import fatal.
STOCK = {
    "Timeline.1",
    "Stack.1",
    "Track.1",
    "Clip.2",
    "Gap.1",
    "Transition.1",
    "Marker.2",
    "Effect.1",
    "LinearTimeWarp.1",
    "FreezeFrame.1",
    "ExternalReference.1",
    "MissingReference.1",
    "GeneratorReference.1",
    "ImageSequenceReference.1",
    "RationalTime.1",
    "TimeRange.1",
}
RATE = 25


def _rt(v):
    return otio.opentime.RationalTime(v, RATE)


def resolve_export(path: Path, name: str = "Timeline 1") -> Path:
    """A timeline as Resolve's File > Export > Timeline writes it (docs/resolve-quirks.md #15): Resolve_OTIO
    metadata on timeline, tracks and clips, 01:00:00:00 start, plain OS paths, offline media as a
    MissingReference with its Media Url, marker notes in Resolve_OTIO.Note. One real clip exported by
    Resolve (tests/samples), two placeholders, an audio track."""
    t = otio.schema.Timeline(
        name=name, global_start_time=_rt(90000), metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}}
    )
    video = otio.schema.Track(name="Video 1", metadata={"Resolve_OTIO": {"Locked": False}})
    video.append(
        otio.adapters.read_from_file(
            str(SAMPLES / "resolve_clip_qt_embedded_tc_mixed_rate.json"), adapter_name="otio_json"
        )
    )
    offline = otio.schema.Clip(
        name="B002.mov", source_range=otio.opentime.TimeRange(_rt(90100), _rt(30)), metadata={"Resolve_OTIO": {}}
    )
    offline.media_reference = otio.schema.MissingReference(metadata={"Resolve_OTIO": {"Media Url": "D:/B002.mov"}})
    offline.markers.append(
        otio.schema.Marker(
            name="Marker 2",
            color="BLUE",
            marked_range=otio.opentime.TimeRange(_rt(90110), _rt(1)),
            metadata={"Resolve_OTIO": {"Keywords": [], "Note": "gen: a drone over a glacier"}},
        )
    )
    video.append(offline)
    video.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(_rt(0), _rt(10))))
    title = otio.schema.Clip(
        name="GEN: storm over the sea",
        source_range=otio.opentime.TimeRange(_rt(0), _rt(17)),
        metadata={"Resolve_OTIO": {}},
    )
    title.media_reference = otio.schema.MissingReference(metadata={"Resolve_OTIO": {"Media Url": ""}})
    video.append(title)
    audio = otio.schema.Track(
        name="Audio 1",
        kind=otio.schema.TrackKind.Audio,
        metadata={"Resolve_OTIO": {"Audio Type": "Stereo", "Locked": False, "SoloOn": False}},
    )
    t.tracks.extend([video, audio])
    otio.adapters.write_to_file(t, str(path))
    return path


def _schemas(node) -> set[str]:
    if isinstance(node, dict):
        own = {node["OTIO_SCHEMA"]} if "OTIO_SCHEMA" in node else set()
        return own.union(*(_schemas(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_schemas(v) for v in node))
    return set()


@pytest.fixture
def folder(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    panel_settings.update({"export_dir": str(exports), "frame_size": "320x180"})
    return exports


def test_fill_writes_a_resolve_shaped_timeline_beside_the_export(folder):
    export = resolve_export(folder / "Timeline 1.otio")
    original = export.read_bytes()
    run = filemode.fill_export(export, panel_settings.load(), engine_filler)
    out = folder / "Timeline 1 promptreel.otio"
    assert run.state == "done" and run.output == out.name and run.filled == 2 and run.failed == []
    assert str(out) in run.next_step and "File > Import > Timeline" in run.next_step
    assert export.read_bytes() == original  # the export is never touched
    raw = json.loads(out.read_text())
    assert _schemas(raw) <= STOCK
    assert raw["name"] == "Timeline 1 promptreel"  # comes in beside the original, not over it
    assert raw["metadata"]["Resolve_OTIO"] == {"Resolve OTIO Meta Version": "1.0"}
    assert [t["metadata"]["Resolve_OTIO"] for t in raw["tracks"]["children"]][0] == {"Locked": False}
    filled = otio.adapters.read_from_file(str(out))
    clips = filled.tracks[0].find_clips()
    for clip, frames in ((clips[1], 30), (clips[2], 17)):
        ref = clip.media_reference
        assert clip.active_media_reference_key == "DEFAULT_MEDIA"
        assert not ref.target_url.startswith("file:") and Path(ref.target_url).is_absolute()
        assert media_path(clip).parent == folder / "promptreel media"
        assert clip.name == media_path(clip).name  # Resolve conforms by file name
        assert ref.available_range.start_time.value == 90000  # media start timecode 01:00:00:00
        assert_frame_exact(clip, frames, Fraction(RATE))
    assert clips[1].markers[0].metadata["Resolve_OTIO"]["Note"] == "gen: a drone over a glacier"
    assert (
        clips[0].media_reference.target_url
        == otio.adapters.read_from_file(str(export)).find_clips()[0].media_reference.target_url
    )  # the editor's own clip is as it was
    # A second fill of the same export never replaces the first one's file.
    first = out.read_bytes()
    again = filemode.fill_export(export, panel_settings.load(), pattern_filler)
    assert again.output == "Timeline 1 promptreel 2.otio" and out.read_bytes() == first


def test_file_mode_spend_goes_under_the_project_named_in_the_settings(folder):
    # Resolve's export does not name its project: the panel's setting does, for the cost ledger.
    panel_settings.update({"project": "Feature X"})
    run = filemode.fill_export(resolve_export(folder / "Timeline 1.otio"), panel_settings.load(), engine_filler)
    assert run.filled == 2
    journal = Journal.open_default()
    try:
        assert [(p, n) for p, _, n in journal.spend("project")] == [("Feature X", 2)]
    finally:
        journal.close()


def test_watcher_offers_a_new_export_at_once_and_not_a_half_written_one(folder):
    resolve_export(folder / "Earlier.otio")
    watcher = filemode.ExportWatcher(folder)
    (earlier,) = watcher.poll()
    assert earlier.name == "Earlier.otio" and not earlier.new and watcher.offer([earlier]) is None
    whole = resolve_export(folder / "Cut 2.otio").read_bytes()
    (folder / "Cut 3.otio").write_bytes(whole[: len(whole) // 2])  # Resolve still writing
    listed = {e.name: e for e in watcher.poll()}
    assert listed["Cut 2.otio"].new and listed["Cut 2.otio"].ready and listed["Cut 2.otio"].placeholders == 2
    assert listed["Cut 2.otio"].resolve_shaped
    assert not listed["Cut 3.otio"].ready and listed["Cut 3.otio"].problem
    assert watcher.offer(list(listed.values())).name == "Cut 2.otio"
    filemode.fill_export(folder / "Cut 2.otio", panel_settings.load(), pattern_filler)
    listed = {e.name: e for e in watcher.poll()}
    assert "Cut 2 promptreel.otio" not in listed  # our own output is not offered for filling
    assert listed["Cut 2.otio"].filled_as == "Cut 2 promptreel.otio"
    (folder / "Cut 3.otio").write_bytes(whole)  # finished writing
    assert watcher.offer(watcher.poll()).name == "Cut 3.otio"


def test_an_export_without_placeholders_is_refused_and_writes_nothing(folder):
    t = otio.schema.Timeline(name="Plain", metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}})
    t.tracks.append(otio.schema.Track(name="Video 1"))
    otio.adapters.write_to_file(t, str(folder / "Plain.otio"))
    with pytest.raises(Exception, match="no placeholders"):
        filemode.fill_export(folder / "Plain.otio", panel_settings.load(), pattern_filler)
    assert sorted(p.name for p in folder.iterdir()) == ["Plain.otio"]
    assert filemode.all_runs()[0].state == "failed"


@pytest.fixture
def file_panel(folder):
    panel = Panel(None, None, filler=pattern_filler, reason="Resolve did not answer.")
    panel.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token})
    yield panel, client
    panel.wait_for_runs(120)
    client.close()
    panel.stop()


def test_panel_walks_the_editor_through_file_mode(file_panel, folder):
    panel, client = file_panel
    state = client.get("/api/state").json()
    assert state["mode"] == "file" and state["export_dir"] == str(folder)
    assert "File > Export > Timeline" in state["steps"][0] and "File > Import > Timeline" in state["steps"][2]
    assert client.get("/api/exports").json()["offer"] is None
    resolve_export(folder / "Timeline 1.otio")
    listing = client.get("/api/exports").json()
    assert listing["offer"] == "Timeline 1.otio" and listing["exports"][0]["placeholders"] == 2
    # Over budget: refused at once, nothing written.
    client.post("/api/settings", json={"model": "veo-3.1-fast", "budget_usd": 0.5}).raise_for_status()
    cost = client.post("/api/estimate", json={"name": "Timeline 1.otio"}).json()
    assert cost["total_usd"] == pytest.approx(1.2) and cost["over_budget"] is True  # two 4 s takes at $0.15/s
    refused = client.post("/api/file/fill", json={"name": "Timeline 1.otio"})
    assert refused.status_code == 400 and "over the panel's budget" in refused.json()["error"]
    assert sorted(p.name for p in folder.iterdir()) == ["Timeline 1.otio"]
    # The free draft model fits any budget.
    client.post("/api/settings", json={"model": "draft"}).raise_for_status()
    assert client.post("/api/estimate", json={"name": "Timeline 1.otio"}).json()["over_budget"] is False
    started = client.post("/api/file/fill", json={"name": "Timeline 1.otio"}).json()
    assert started["output"] == "Timeline 1 promptreel.otio"
    panel.wait_for_runs(120)
    (job,) = [j for j in client.get("/api/jobs").json()["jobs"] if j["kind"] == "file-fill"]
    assert job["id"] == started["run"] and job["state"] == "done"
    assert "File > Import > Timeline" in job["detail"] and str(folder / started["output"]) in job["detail"]
    assert (folder / started["output"]).is_file()
    assert client.get("/api/exports").json()["exports"][0]["filled_as"] == started["output"]


def test_file_mode_endpoints_keep_the_checks(file_panel, folder):
    panel, client = file_panel
    resolve_export(folder / "Timeline 1.otio")
    assert client.get("/api/exports", headers={"X-Promptreel-Token": ""}).status_code == 403
    assert client.get("/api/jobs", headers={"Host": f"evil.example:{panel.port}"}).status_code == 403
    evil = {"Origin": "http://evil.example"}
    assert client.post("/api/settings", json={"model": "x"}, headers=evil).status_code == 403
    assert client.post("/api/file/fill", json={"name": "../Timeline 1.otio"}).status_code == 400
    assert client.post("/api/file/fill", json={"name": str(folder / "Timeline 1.otio")}).status_code == 400
    assert client.post("/api/fill", json={}).status_code == 404  # no Resolve in file mode
    client.post("/api/settings", json={"model": "gen-4-turbo"}).raise_for_status()  # needs a first frame
    refused = client.post("/api/file/fill", json={"name": "Timeline 1.otio"})
    assert refused.status_code == 400 and "cannot be made on gen-4-turbo" in refused.json()["error"]
    assert not list(folder.glob("* promptreel*"))


def test_a_timeline_exported_from_resolve_comes_back_filled_where_its_placeholders_were(folder):
    from tests.fakes.resolve import cut_with_placeholders

    resolve, timeline = cut_with_placeholders(rate="24", studio=False)
    watcher = filemode.ExportWatcher(folder)
    # Stands in for File > Export > Timeline: the free edition from 21.1 is driven by the editor, not a script.
    assert timeline.Export(str(folder / "Cut 1.otio"), resolve.EXPORT_OTIO, resolve.EXPORT_NONE)
    offer = watcher.offer(watcher.poll())
    assert offer.name == "Cut 1.otio" and offer.placeholders == 2 and offer.resolve_shaped
    run = filemode.fill_export(folder / offer.name, panel_settings.load(), pattern_filler)
    filled = otio.adapters.read_from_file(str(folder / run.output))
    placed = {c.name: c for c in filled.tracks[0].find_clips() if "promptreel" in c.metadata}
    assert len(placed) == 2
    by_start = {c.range_in_parent().start_time.value: c for c in placed.values()}
    assert sorted(by_start) == [10, 40]  # record frames as cut (timeline start 01:00:00:00 + 10, + 40)
    assert_frame_exact(by_start[10], 30, Fraction(24))
    assert_frame_exact(by_start[40], 17, Fraction(24))
    assert filled.tracks[0].find_clips()[-1].name == "Text+"  # not a placeholder: as it was
    assert filled.global_start_time.value == 86400


def _wait_for(condition, seconds: float = 60.0):
    """Poll until `condition()` is truthy (a wait, not a timing assertion)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_job_list_is_live_while_a_file_fill_runs_and_reports_failure_in_plain_words(folder):
    import threading

    from promptreel.core.made import MadeClip
    from tests.fakes.otio_media import render_pattern

    release = threading.Event()

    def one_then_refused(slots, options):
        first = render_pattern(slots[0], options)
        options.progress(0, slots[0], "done")
        release.wait(60)  # the job list is read while the fill is held here
        options.progress(1, slots[1], "failed")
        return [first, MadeClip.failed(slots[1], "the provider refused the prompt")]

    panel = Panel(None, None, filler=one_then_refused)
    panel.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token})
    try:
        resolve_export(folder / "Timeline 1.otio")
        run = client.post("/api/file/fill", json={"name": "Timeline 1.otio"}).json()["run"]

        def halfway():
            jobs = client.get("/api/jobs").json()["jobs"]
            return [j for j in jobs if j["id"] == run and j["progress"] == 0.5]

        (job,) = _wait_for(halfway)
        assert job["state"] == "running"
        release.set()
        panel.wait_for_runs(60)
        (job,) = [j for j in client.get("/api/jobs").json()["jobs"] if j["id"] == run]
    finally:
        release.set()
        client.close()
        panel.stop()
    assert job["state"] == "failed" and "the provider refused the prompt" in job["detail"]
    assert "Nothing was written" in job["detail"] and not list(folder.glob("* promptreel*.otio"))


def test_the_panel_command_falls_back_to_file_mode_when_nothing_answers(folder, isolated_home):
    import os
    import re
    import subprocess
    import sys

    env = {**os.environ, "PROMPTREEL_HOME": str(isolated_home), "PROMPTREEL_NO_BROWSER": "1"}
    env.pop("PROMPTREEL_BRIDGE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptreel.core.cli", "resolve", "panel", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        # A one-time sign-in link (the session token is never printed), traded for the session cookie.
        url = re.search(r"http://127\.0\.0\.1:\d+/\?code=\S+", first)
        assert "file mode" in first and url, first + proc.stderr.read() if proc.poll() is not None else first
        with httpx.Client(follow_redirects=True) as browser:
            assert browser.get(url.group(0)).status_code == 200
            state = browser.get(url.group(0).split("?")[0] + "api/state").json()
    finally:
        proc.terminate()
        proc.wait(30)
    assert state["mode"] == "file" and "not reachable" in state["reason"]
    assert state["export_dir"] == str(folder)


DEEP = b"[" * 60000 + b"]" * 60000  # 120 KB; OTIO's reader segfaults on it


def test_a_resolve_export_is_far_from_the_nesting_limit():
    from promptreel.core.nesting import MAX_JSON_DEPTH, json_depth

    assert json_depth(resolve_export_bytes()) < 30 < MAX_JSON_DEPTH


def resolve_export_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return resolve_export(Path(d) / "t.otio").read_bytes()


def test_a_deeply_nested_file_in_the_watched_folder_does_not_take_the_panel_down(folder, isolated_home):
    import os
    import re
    import subprocess
    import sys

    env = {**os.environ, "PROMPTREEL_HOME": str(isolated_home), "PROMPTREEL_NO_BROWSER": "1"}
    env.pop("PROMPTREEL_BRIDGE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptreel.core.cli", "resolve", "panel", "--file-mode", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\?code=\S+", first)
        assert url, first + proc.stderr.read() if proc.poll() is not None else first
        (folder / "Bomb.otio").write_bytes(DEEP)  # lands while the panel watches
        resolve_export(folder / "Timeline 1.otio")
        with httpx.Client(follow_redirects=True, timeout=120) as browser:
            assert browser.get(url.group(0)).status_code == 200
            base = url.group(0).split("?")[0]
            listed = {e["name"]: e for e in browser.get(base + "api/exports").json()["exports"]}
            refused = browser.post(base + "api/estimate", json={"name": "Bomb.otio"})
            again = browser.get(base + "api/exports").json()
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        proc.wait(30)
    assert not listed["Bomb.otio"]["ready"] and "nests more than 256 levels" in listed["Bomb.otio"]["problem"]
    assert listed["Timeline 1.otio"]["ready"] and listed["Timeline 1.otio"]["placeholders"] == 2
    assert refused.status_code == 400 and "nests more than" in refused.json()["error"]
    assert again["offer"] == "Timeline 1.otio"


def test_a_file_that_crashes_otio_kills_only_the_child_that_reads_it(folder, monkeypatch):
    monkeypatch.setattr(filemode, "MAX_JSON_DEPTH", 10**6)  # past the depth check: the child read must catch it
    watcher = filemode.ExportWatcher(folder)
    (folder / "Bomb.otio").write_bytes(DEEP)
    resolve_export(folder / "Timeline 1.otio")
    listed = {e.name: e for e in watcher.poll()}
    assert not listed["Bomb.otio"].ready and "crashes OTIO's reader" in listed["Bomb.otio"].problem
    assert listed["Timeline 1.otio"].ready and watcher.offer(list(listed.values())).name == "Timeline 1.otio"


def test_a_timeline_that_cannot_be_scanned_is_listed_with_its_problem(folder, monkeypatch):
    monkeypatch.setattr(filemode, "MAX_JSON_DEPTH", 10**6)  # past the depth check: scanning must not break the list
    t = otio.schema.Timeline(name="Deep")
    nested = otio.schema.Stack()
    for _ in range(600):  # stacks in stacks: deeper than Python's recursion limit lets the scan go
        outer = otio.schema.Stack()
        outer.append(nested)
        nested = outer
    t.tracks.append(otio.schema.Track(name="Video 1", children=[nested]))
    (folder / "Deep.otio").write_text(otio.adapters.write_to_string(t, "otio_json", indent=-1))
    resolve_export(folder / "Timeline 1.otio")
    listed = {e.name: e for e in filemode.ExportWatcher(folder).poll()}
    assert not listed["Deep.otio"].ready
    assert "nested" in listed["Deep.otio"].problem and "Error" not in listed["Deep.otio"].problem
    assert listed["Timeline 1.otio"].ready
