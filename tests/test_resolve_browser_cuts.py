"""Extend and edit the selected clip from the panel, in a real browser (Debian's Chromium, Playwright), in both
modes, as the command line does: connected, on the Resolve double's timeline behind a real bridge; in file
mode, on a clip of an exported .otio, written beside it. A head extension on ray-3.2 (Luma's sandbox fake: a
model that takes a last frame alone), an edit on grok-imagine-video (xAI's fake) whose limit a user catalog
lowers to 1.5 s, so a 61-frame clip with 8-frame handles is refused whole (the command line's one line,
before any spend) and made split in equal pieces. The results are takes in the Takes list; revert gives the
timeline back. Screenshots go into the test's tmp folder for review."""

from __future__ import annotations

import json
import threading
from fractions import Fraction

import opentimelineio as otio
import pytest

from promptreel.core.catalog import default_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.sandbox import Limit, sandbox
from promptreel.resolve_plugin import filemode, panel_settings
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.gateway import BridgeGateway
from promptreel.resolve_plugin.worker import declare_folders, panel_for
from tests.fakes.resolve import FakeResolve, MediaPoolItem
from tests.test_otio_extend import _ramp
from tests.test_resolve_browser import _timeline, browser_page  # noqa: F401 - the fixture

RATE = 24
START = 3600 * RATE
EDITS = r"/v1/videos/edits"
LIMIT = "edits at most 1.5 s (36 frames at 24 fps)"  # the user catalog's limit, as the command line says it
pytestmark = pytest.mark.usefixtures("no_poll_waits")  # the fakes answer at once: no waiting between polls


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    """Luma's and xAI's sandbox fakes, grok-imagine-video editing at most 1.5 s by the user's catalog."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PROMPTREEL_HOME", str(home))
    monkeypatch.setenv("PROMPTREEL_NO_BROWSER", "1")
    (home / "catalog.toml").write_text("[models.grok-imagine-video]\nedit_max_seconds = 1.5\n")
    (home / "settings.toml").write_text(f'catalog_file = "{home / "catalog.toml"}"\n')
    default_catalog.cache_clear()
    with sandbox(routes=["luma", "xai"], limit=Limit(seconds=None), export=True) as env:
        yield env.fakes["luma"], env.fakes["xai"]
    default_catalog.cache_clear()


def _say(page, target, expect: str, ok: bool = True) -> str:
    """Click `target`, wait for the panel's message; it must contain `expect` and be (or not be) an error."""
    page.evaluate("document.getElementById('message').textContent = ''")
    page.locator(target).click()
    page.wait_for_function("document.getElementById('message').textContent !== ''")
    message = page.inner_text("#message")
    error = "err" in (page.get_attribute("#message", "class") or "")
    assert expect in message and error != ok, message
    return message


def _refused_whole(page, xai) -> None:
    """Edit of B, not split: refused in the command line's words, one line, before any spend."""
    page.fill("#edit-instruction", "make it dusk")
    page.select_option("#extend-model", "grok-imagine-video")
    page.fill("#edit-handles", "8")
    page.select_option("#edit-split", "off")
    message = _say(page, "#edit", LIMIT, ok=False)
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert xai.creates == 0


def _ended(page, expect: str) -> None:
    """Wait for the file-mode run the message follows to end: done, saying `expect`, or failed."""
    page.wait_for_function(
        "t => { const m = document.getElementById('message');"
        " return m.textContent.startsWith(t) || m.className === 'err'; }",
        arg=expect,
    )
    assert page.inner_text("#message").startswith(expect), page.inner_text("#message")


def _take_rows(page, kind: str, n: int) -> None:
    page.wait_for_function(
        "([kind, n]) => [...document.querySelectorAll('#takes tbody tr .take-kind')]"
        ".filter(c => c.textContent.includes(kind)).length === n",
        arg=[kind, n],
    )


# -- connected -------------------------------------------------------------------------------------


@pytest.fixture
def connected(tmp_path, fakes):
    """V1: A (ramp source 10.., 12 frames) 50 frames after the start, B (source 20.., 61 frames) right after it."""
    ramp = _ramp(tmp_path / "ramp.mov", frames=240)
    resolve = FakeResolve()
    project = resolve._new_project(rate="24", width=320, height=180)
    pool = project.GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Cut 1")
    mpi = MediaPoolItem(ramp, Fraction(RATE), 320, 180, 240)
    mpi._folder = pool.GetRootFolder()
    mpi._folder._clips.append(mpi)
    start = timeline.GetStartFrame()
    clips = {
        "A": timeline._add(1, start + 50, 12, "A", mpi, left=10),
        "B": timeline._add(1, start + 62, 61, "B", mpi, left=20),
    }
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    gw = BridgeGateway(*bridge.address, token=bridge.token)
    declare_folders(gw)  # as the worker does: the bridge reads and writes only promptreel's media and export folders
    panel = panel_for(gw, "Connected through the Scripts-menu bridge.")
    panel.start()
    yield panel, timeline, clips, ramp, fakes
    panel.stop()
    bridge.stop()
    thread.join(10)


def test_extend_the_head_and_edit_split_from_the_browser_connected(browser_page, connected, tmp_path):  # noqa: F811
    page = browser_page
    panel, timeline, clips, ramp, (luma, xai) = connected
    before = _timeline(timeline)
    page.goto(panel.sign_in_url())
    page.wait_for_function("document.querySelectorAll('#extend-clip option').length === 2")
    assert not page.is_visible("#cut-export-box")

    # Head of A by 12 frames on ray-3.2: the model's last frame is A's first shown one; it lands right before A.
    a, b = clips["A"], clips["B"]
    page.select_option("#extend-clip", a.GetUniqueId())
    page.select_option("#extend-edge", "head")
    page.fill("#extend-frames", "12")
    page.select_option("#extend-model", "ray-3.2")
    page.fill("#extend-prompt", "the light comes up")
    _say(page, "#extend", f"Extended: V1 at frame {a._start - 12}")
    assert luma.creates == 1
    placed = [x for x in _timeline(timeline) if x not in before]
    assert [x[:5] for x in placed] == [(1, a._start - 12, 12, 0, True)]
    _take_rows(page, "extend", 1)

    # B is 61 frames, 77 with its handles: over the lowered limit whole; in equal pieces, three jobs and one take.
    page.select_option("#extend-clip", b.GetUniqueId())
    _refused_whole(page, xai)
    page.select_option("#edit-split", "equal")
    assert page.is_visible("#edit-cuts") is False
    _say(page, "#edit", "Edited: a take in the clip's Take Selector")
    assert len(xai.calls_to("POST", EDITS)) == 3
    take, start, frames = b._takes[1]  # the pieces joined: B's 61 frames between its 8-frame handles
    assert (b.GetTakesCount(), b.GetSelectedTakeIndex(), start, frames) == (2, 1, 8, 61)
    assert probe(take._path).frames == 77
    _take_rows(page, "edit", 1)
    page.screenshot(path=str(tmp_path / "cuts-connected.png"), full_page=True)

    # Revert both from the Fills list: the timeline is as it was cut.
    for left in (1, 0):
        page.locator("#edits button", has_text="Revert").first.click()
        page.wait_for_function("n => document.querySelectorAll('#edits button').length === n", arg=left)
    assert _timeline(timeline) == before and b.GetTakesCount() == 0


# -- file mode -------------------------------------------------------------------------------------


def _export(path, ramp):
    """As Resolve exports it: V1 from 01:00:00:00, a 50-frame gap, A (ramp 10.., 12 frames), B (ramp 20.., 61)."""

    def clip(name, first, frames):
        ref = otio.schema.ExternalReference(
            target_url=str(ramp),
            available_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(240, RATE)
            ),
        )
        return otio.schema.Clip(
            name=name,
            media_reference=ref,
            metadata={"Resolve_OTIO": {}},
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(first, RATE), otio.opentime.RationalTime(frames, RATE)
            ),
        )

    t = otio.schema.Timeline(
        name="Timeline 1",
        global_start_time=otio.opentime.RationalTime(START, RATE),
        metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
    )
    track = otio.schema.Track(name="Video 1", metadata={"Resolve_OTIO": {"Locked": False}})
    track.extend(
        [
            otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(50, RATE))),
            clip("A", 10, 12),
            clip("B", 20, 61),
        ]
    )
    t.tracks.append(track)
    otio.adapters.write_to_file(t, str(path))
    return path


def _tracks(path) -> str:
    return json.dumps(json.loads(otio.adapters.read_from_file(str(path)).tracks.to_json_string()), sort_keys=True)


@pytest.fixture
def file_mode(tmp_path, fakes):
    exports = tmp_path / "exports"
    exports.mkdir()
    panel_settings.update({"export_dir": str(exports), "frame_size": "320x180", "codec": "h264"})
    panel = panel_for(None, "Resolve did not answer.")
    panel.start()
    yield panel, exports, fakes
    panel.wait_for_runs(120)
    panel.stop()


def test_extend_the_head_edit_split_and_revert_from_the_browser_in_file_mode(
    browser_page,
    file_mode,  # noqa: F811
    tmp_path,
):
    page = browser_page
    panel, exports, (luma, xai) = file_mode
    ramp = _ramp(tmp_path / "ramp.mov", frames=240)
    export = _export(exports / "Timeline 1.otio", ramp)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(panel.sign_in_url())
    page.wait_for_function("document.querySelectorAll('#extend-clip option').length === 2")
    assert page.is_visible("#cut-export-box") and page.input_value("#cut-export") == "Timeline 1.otio"
    assert page.eval_on_selector_all("#extend-clip option", "os => os.map(o => o.textContent)") == [
        "V1 Video 1 01:00:02:02 A (12 fr)",
        "V1 Video 1 01:00:02:14 B (61 fr)",
    ]

    # Head of A by 12 on ray-3.2: into the gap before A, written as `Timeline 1 promptreel.otio`.
    page.select_option("#extend-clip", "1@01:00:02:02")
    page.select_option("#extend-edge", "head")
    page.fill("#extend-frames", "12")
    page.select_option("#extend-model", "ray-3.2")
    _say(page, "#extend", "Working → Timeline 1 promptreel.otio")
    _ended(page, "Done: extend A in Timeline 1.otio")
    assert "File > Import > Timeline" in page.inner_text("#message")
    assert luma.creates == 1
    extended = otio.adapters.read_from_file(str(exports / "Timeline 1 promptreel.otio"))
    v1 = extended.tracks[0]
    assert [type(i).__name__ for i in v1] == ["Gap", "Clip", "Clip", "Clip"]
    ext = v1[1]
    assert (round(ext.range_in_parent().start_time.value), round(ext.duration().value)) == (38, 12)
    assert ext.metadata["promptreel"]["extension_edge"] == "head"
    _take_rows(page, "extend", 1)
    # The run and its engine job came over the event stream, as a fill's do: the job list was never polled.
    jobs = page.eval_on_selector_all("#jobs tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
    assert ["extend A in Timeline 1.otio", "file-fill", "done"] in [row[1:4] for row in jobs]
    assert any(row[2] == "engine" and row[3] == "done" for row in jobs)
    assert not any("/api/jobs" in u for u in asked) and any("/api/events" in u for u in asked)

    # B whole is refused before any spend; split in equal pieces, three jobs, one take on a takes track.
    page.select_option("#extend-clip", "1@01:00:02:14")
    _refused_whole(page, xai)
    assert [r.action for r in filemode.all_runs()] == ["extend"]  # a refusal leaves no run in the job list
    page.select_option("#edit-split", "equal")
    _say(page, "#edit", "Working → Timeline 1 promptreel 2.otio")
    _ended(page, "Done: edit B in Timeline 1.otio")
    assert len(xai.calls_to("POST", EDITS)) == 3
    edited = otio.adapters.read_from_file(str(exports / "Timeline 1 promptreel 2.otio"))
    takes = edited.tracks[0]
    assert takes.name == "promptreel takes"
    pieces = [c for c in takes if isinstance(c, otio.schema.Clip)]
    assert len(pieces) == 3 and sum(round(c.duration().value) for c in pieces) == 61
    _take_rows(page, "edit", 3)  # a take of B a piece, as `promptreel takes` lists them
    page.screenshot(path=str(tmp_path / "cuts-file-mode.png"), full_page=True)

    # The edited timeline exported again from Resolve: Revert takes the edit out, giving the cut back.
    edited.metadata.pop("promptreel")
    otio.adapters.write_to_file(edited, str(exports / "Timeline 1 again.otio"))
    page.reload()
    page.wait_for_function("[...document.querySelectorAll('#exports button')].some(b => b.textContent === 'Revert')")
    _say(page, "#exports button:text-is('Revert')", "Reverted Timeline 1 again.otio → Timeline 1 again promptreel.otio")
    assert _tracks(exports / "Timeline 1 again promptreel.otio") == _tracks(export)
    assert luma.creates == 1 and xai.creates == 3  # the revert spent nothing


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "No clip was chosen. Pick an export, then the clip to work on."),
        ({"track": 1, "at": "01:00:00:00"}, "No clip at 01:00:00:00 on V1 in this timeline."),
        ({"track": 1, "at": "01:00:02:02", "edge": "middle"}, "'middle' is not an end of a clip."),
        (
            {"track": 1, "at": "01:00:02:02", "edge": "head", "frames": 51, "model": "ray-3.2"},
            "would start before the timeline does",
        ),
        (
            {"track": 1, "at": "01:00:02:02", "edge": "head", "frames": 12, "model": "kling-v3"},
            "takes no last frame on its own",
        ),
        (
            {
                "track": 1,
                "at": "01:00:02:14",
                "instruction": "dusk",
                "model": "grok-imagine-video",
                "split": "at",
                "cuts": "70",
            },
            "a cut at frame 70 of it is not inside it",
        ),
        (
            {"track": 1, "at": "01:00:02:14", "instruction": "dusk", "model": "grok-imagine-video", "split": "halves"},
            "'halves' is not a way to split an edit.",
        ),
    ],
)
def test_file_mode_refusals_answer_at_once_in_one_line_and_leave_nothing(file_mode, tmp_path, body, message):
    """Over loopback HTTP, as a program holding the token asks: each refusal is the request's answer, before any
    job; no run is listed and nothing is written beside the export."""
    import httpx

    panel, exports, (luma, xai) = file_mode
    _export(exports / "Timeline 1.otio", _ramp(tmp_path / "ramp.mov", frames=240))
    route = "/api/edit" if "instruction" in body else "/api/extend"
    with httpx.Client(
        base_url=f"http://127.0.0.1:{panel.port}", headers={"X-Promptreel-Token": panel.token}, timeout=60
    ) as client:
        r = client.post(route, json={"name": "Timeline 1.otio", **body})
        assert r.status_code == 400, r.text
        assert message in r.json()["error"] and "\n" not in r.json()["error"]
        assert (
            client.post("/api/file/revert", json={"name": "Timeline 1.otio"})
            .json()["error"]
            .startswith("Timeline 1.otio holds nothing promptreel filled, extended or edited.")
        )
    assert luma.creates == xai.creates == 0 and filemode.all_runs() == []
    assert sorted(p.name for p in exports.iterdir() if p.suffix == ".otio") == ["Timeline 1.otio"]
