"""Multi-shot fills in Resolve (issue 13): three placeholders back to back on one track filled from ONE Kling job,
each shot conformed frame-exact, placed exactly and read back, one edit each; revert per placeholder and for the
whole fill; refusals before spend; the panel's checkbox path over HTTP. Through the Resolve double (direct and the
bridge) and the real engine against the sandbox's Kling fake."""

from __future__ import annotations

import subprocess
import threading
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.core.journal import Journal
from promptreel.core.sandbox import sandbox
from promptreel.core.sandbox.media import Limit
from promptreel.resolve_plugin import edits, panel_settings
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.fill import fill, revert, revert_all
from promptreel.resolve_plugin.gateway import BridgeGateway, DirectGateway
from promptreel.resolve_plugin.panel import Panel
from promptreel.resolve_plugin.worker import clip_maker
from tests.fakes.resolve import FakeResolve, MediaPoolItem
from tests.sandbox_engine import point_at

PROMPTS = (
    "a fox wakes in its den",
    "the fox runs through snow",
    "the fox sleeps under a pine",
    "an owl lands",
    "the owl turns its head",
    "snow falls",
    "dawn",
)
SHOTS = (24, 36, 60)  # 1 s, 1.5 s (a 2 s shot) and 2.5 s (a 3 s shot) at 24 fps: shots start 0, 24, 72 in the take


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["kling"], limit=Limit(320, 180, None)) as env:  # full length: the shots are in the take
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch, no_poll_waits):
    point_at(fakes, monkeypatch, isolated_home)
    panel_settings.update({"codec": "h264", "model": "kling-v3"})
    return isolated_home


@pytest.fixture(params=["direct", "bridge"])
def connect(request):
    running = []

    def make(resolve):
        if request.param == "direct":
            return DirectGateway(resolve)
        bridge = Bridge(resolve)
        thread = threading.Thread(target=bridge.serve_forever)
        thread.start()
        running.append((bridge, thread))
        return BridgeGateway(*bridge.address, token=bridge.token)

    yield make
    for bridge, thread in running:
        bridge.stop()
        thread.join(10)


def adjacent_cut(lengths=SHOTS, gap_after: int | None = None):
    """A 24 fps 320x180 timeline with `GEN:` generators back to back on V1 from 01:00:00:10 (and, with `gap_after`,
    one more after a gap of that many frames)."""
    resolve = FakeResolve()
    timeline = resolve._new_project(rate="24", width=320, height=180).GetMediaPool().CreateEmptyTimeline("Multi")
    at = timeline.GetStartFrame() + 10
    for n, prompt in zip(lengths, PROMPTS):
        timeline._add(1, at, n, f"GEN: {prompt}", kind="generator")
        at += n
    if gap_after is not None:
        timeline._add(1, at + gap_after, 24, "GEN: a lone heron", kind="generator")
    return resolve, timeline


def layout(timeline):
    return sorted(timeline._tracks), [
        (it._track, it._start, it._duration, it._enabled, it._name) for it in timeline._items()
    ]


def ours(timeline):
    return sorted((it for it in timeline._items() if it._mpi is not None), key=lambda it: it._start)


def frame(path, n: int) -> bytes:
    """Frame `n` of a video as 320x180 RGB."""
    return subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{n})",
            "-vframes",
            "1",
            "-s",
            "320x180",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout


def nearest(got: bytes, take, around: int) -> int:
    """The frame of `take` near `around` that `got` is (lossy codecs: the closest match)."""

    def distance(k):
        other = frame(take, k)
        return sum(abs(x - y) for x, y in zip(got, other)) / len(got)

    return min(range(max(0, around - 2), around + 3), key=distance)


def test_three_adjacent_placeholders_fill_from_one_job_each_exact_and_revert(connect, home, fakes, tmp_path):
    fake = fakes.fakes["kling"]
    resolve, timeline = adjacent_cut(gap_after=10)
    gw = connect(resolve)
    before = layout(timeline)
    start = timeline.GetStartFrame() + 10

    report = fill(gw, clip_maker(gw), model="kling-v3", multi_shot=True)

    assert report.failed == [] and len(report.edits) == 4
    creates = [c.json() for c in fake.calls_to("POST", r"/v1/videos/text2video")]
    assert fake.creates == 2  # the three back to back: ONE job; the heron after a gap: its own
    (multi,) = [b for b in creates if b.get("multi_shot")]
    assert multi["multi_prompt"] == [
        {"index": 1, "prompt": PROMPTS[0], "duration": "1"},
        {"index": 2, "prompt": PROMPTS[1], "duration": "2"},
        {"index": 3, "prompt": PROMPTS[2], "duration": "3"},
    ]
    assert multi["duration"] == "6"
    shots = report.edits[:3]
    assert len({r.job_id for r in shots}) == 1 and shots[0].job_id != report.edits[3].job_id
    # Each placed exactly over its placeholder (the fill proved it by reading back; read back again here).
    got = [
        (it.track, it.start, it.duration)
        for t in gw.timeline().tracks
        for it in t.items
        if it.id in {r.placed.item_id for r in shots}
    ]
    assert sorted(got) == [(2, start, 24), (2, start + 24, 36), (2, start + 60, 60)]
    assert [(r.placed.start, r.placed.duration) for r in shots] == [(start, 24), (start + 24, 36), (start + 60, 60)]
    assert [it._enabled for it in timeline.GetItemListInTrack("video", 1)] == [False] * 4
    # Each clip is exactly its slot, cut from its own shot of the one take.
    take = tmp_path / "take.mp4"
    take.write_bytes(fake.job_media(next(j for j in fake.jobs.values() if j.body.get("multi_shot"))))
    for item, frames, at in zip(ours(timeline)[:3], SHOTS, (0, 24, 72)):
        path = item.GetMediaPoolItem()._path
        info = probe(path)
        assert (info.frames, info.rate, info.width, info.height) == (frames, Fraction(24), 320, 180)
        assert nearest(frame(path, 0), take, at) == at
        assert nearest(frame(path, frames - 1), take, at + frames - 1) == at + frames - 1
    # One job on the ledger for the three, priced once (6 s at 720p).
    journal = Journal.open_default()
    try:
        assert sorted(round(j.actual_cost or 0, 3) for j in journal.jobs()) == [
            round(3 * 0.084, 3),
            round(6 * 0.084, 3),
        ]
    finally:
        journal.close()

    # Per placeholder: the middle shot alone, then the rest of the fill at once.
    revert(gw, shots[1].id)
    assert [it._enabled for it in timeline.GetItemListInTrack("video", 1)] == [False, True, False, False]
    assert len(ours(timeline)) == 3
    reverted = revert_all(gw, [r.id for r in report.edits])
    assert [r.id for r in reverted] == [r.id for r in reversed(report.edits)]
    assert layout(timeline) == before  # the added track went with its last clip
    assert all(r.reverted for r in edits.all_records())


def _refused(gw, fake, match, **kw):
    with pytest.raises(UnsupportedRequest, match=match) as refusal:
        fill(gw, clip_maker(gw), multi_shot=True, **kw)
    assert "\n" not in str(refusal.value)
    assert fake.creates == 0 and fake.calls_to("POST", r".*") == []  # nothing asked of the vendor
    return str(refusal.value)


def test_a_group_the_model_cannot_take_is_refused_before_spend(connect, home, fakes):
    fake = fakes.fakes["kling"]
    resolve, _ = adjacent_cut(SHOTS * 3)
    gw = connect(resolve)
    said = _refused(gw, fake, "Kling 3.0 makes at most 6 shots in one take, not 7", model="kling-v3")
    assert "'GEN: a fox wakes in its den' on V1" in said
    resolve, _ = adjacent_cut((24 * 8, 24 * 8))
    gw = connect(resolve)
    _refused(gw, fake, r"need 16 s in one take \(8 \+ 8\); Kling 3.0 makes at most 15 s", model="kling-v3")
    resolve, timeline = adjacent_cut()
    gw = connect(resolve)
    _refused(gw, fake, "Kling 2.6 makes no multi-shot takes", model="kling-v2.6")
    assert not any(it._mpi for it in timeline._items()) and edits.all_records() == []


def test_a_shared_group_in_metadata_is_one_take_without_the_flag(home, fakes):
    """Offline clips whose pool items carry `promptreel.prompt` and one `promptreel.group`: one take, though a gap
    parts them; a placeholder without the group is its own take."""
    fake = fakes.fakes["kling"]
    resolve = FakeResolve()
    pool = resolve._new_project(rate="24", width=320, height=180).GetMediaPool()
    timeline = pool.CreateEmptyTimeline("Grouped")
    start = timeline.GetStartFrame()
    for at, n, prompt, group in (
        (0, 24, "a lighthouse at dusk", "coast"),
        (40, 36, "a gull takes off", "coast"),
        (100, 24, "a heron", ""),
    ):
        mpi = MediaPoolItem(Path(f"/offline/{at}.mov"), Fraction(24), 320, 180, n)
        mpi._folder = pool.GetRootFolder()
        mpi._folder._clips.append(mpi)
        mpi.SetThirdPartyMetadata({"promptreel.prompt": prompt, **({"promptreel.group": group} if group else {})})
        timeline._add(1, start + at, n, mpi._name, mpi)
    gw = DirectGateway(resolve)

    report = fill(gw, clip_maker(gw), model="kling-v3")

    assert report.failed == [] and len(report.edits) == 3 and fake.creates == 2
    (multi,) = [c.json() for c in fake.calls_to("POST", r"/v1/videos/text2video") if c.json().get("multi_shot")]
    assert [s["prompt"] for s in multi["multi_prompt"]] == ["a lighthouse at dusk", "a gull takes off"]
    placed = [(it._start - start, it._duration) for it in timeline.GetItemListInTrack("video", 2)]
    assert sorted(placed) == [(0, 24), (40, 36), (100, 24)]


# -- the panel: the multi-shot box beside Fill, over real loopback HTTP ---------------------------------------------


@pytest.fixture
def panel(home):
    resolve, timeline = adjacent_cut()
    gw = DirectGateway(resolve)
    p = Panel(gw, clip_maker(gw))
    p.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{p.port}", headers={"X-Promptreel-Token": p.token}, timeout=120)
    yield p, client, timeline
    client.close()
    p.stop()


def test_the_panel_estimates_one_job_and_fills_and_reverts_the_group(panel, fakes):
    p, client, timeline = panel
    fake = fakes.fakes["kling"]
    before = layout(timeline)
    page = client.get(p.sign_in_url(), follow_redirects=True).text
    assert 'id="fill-multi-shot"' in page and 'id="file-multi-shot"' in page

    cost = client.post("/api/estimate", json={"multi_shot": True}).json()
    assert [round(line["cost_usd"], 3) for line in cost["lines"]] == [round(6 * 0.084, 3), 0.0, 0.0]
    assert "one multi-shot job: 3 shots" in cost["lines"][0]["label"]
    assert all("a shot of the job above" in line["label"] for line in cost["lines"][1:])
    plain = client.post("/api/estimate", json={}).json()  # unticked: a job each (3 s at least each)
    assert plain["total_usd"] > cost["total_usd"] and all(line["cost_usd"] > 0 for line in plain["lines"])
    mixed = client.post("/api/fill", json={"multi_shot": True, "models": ["kling-v3", "veo-3.1"]})
    assert mixed.status_code == 400 and "not A/B takes" in mixed.json()["error"] and fake.creates == 0

    result = client.post("/api/fill", json={"multi_shot": True}).json()
    assert result["failed"] == [] and len(result["filled"]) == 3 and result["jobs"] == 1 and fake.creates == 1
    start = timeline.GetStartFrame() + 10
    assert [(it._track, it._start, it._duration) for it in ours(timeline)] == [
        (2, start, 24),
        (2, start + 24, 36),
        (2, start + 60, 60),
    ]
    assert (
        client.post("/api/revert-fill", json={"edit_ids": result["filled"]}).json()["reverted"]
        == result["filled"][::-1]
    )
    assert layout(timeline) == before
    assert client.post("/api/revert-fill", json={}).status_code == 400


def test_the_panel_refuses_a_model_without_multi_shot_before_spend(panel, fakes):
    _, client, timeline = panel
    client.post("/api/settings", json={"model": "kling-v2.6"}).raise_for_status()
    cost = client.post("/api/estimate", json={"multi_shot": True}).json()
    assert all("Kling 2.6 makes no multi-shot takes" in line["error"] for line in cost["lines"])
    refused = client.post("/api/fill", json={"multi_shot": True})
    assert refused.status_code == 400 and "Kling 2.6 makes no multi-shot takes" in refused.json()["error"]
    assert fakes.fakes["kling"].creates == 0 and ours(timeline) == []


# -- file mode: an OTIO export out of Resolve and back ----------------------------------------------------------------


def export_with_adjacent(path: Path, lengths=SHOTS) -> Path:
    """A Resolve-shaped 24 fps export (docs/resolve-quirks.md #15) with `GEN:` offline clips back to back on V1."""
    import opentimelineio as otio

    def rt(v):
        return otio.opentime.RationalTime(v, 24)

    t = otio.schema.Timeline(
        name="Multi", global_start_time=rt(86400), metadata={"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}}
    )
    video = otio.schema.Track(name="Video 1", metadata={"Resolve_OTIO": {"Locked": False}})
    for n, prompt in zip(lengths, PROMPTS):
        clip = otio.schema.Clip(
            name=f"GEN: {prompt}", source_range=otio.opentime.TimeRange(rt(0), rt(n)), metadata={"Resolve_OTIO": {}}
        )
        clip.media_reference = otio.schema.MissingReference(metadata={"Resolve_OTIO": {"Media Url": ""}})
        video.append(clip)
    t.tracks.append(video)
    otio.adapters.write_to_file(t, str(path))
    return path


def test_file_mode_fills_the_run_from_one_job_each_exact(home, fakes, tmp_path):
    import opentimelineio as otio
    from otio_helpers import assert_frame_exact

    from promptreel.resolve_plugin import filemode

    fake = fakes.fakes["kling"]
    s = panel_settings.update({"frame_size": "320x180"})
    export = export_with_adjacent(tmp_path / "Multi.otio")
    prepared = filemode.prepare(export, s, multi_shot=True)
    assert [round(line.cost_usd, 3) for line in prepared.cost.lines] == [round(6 * 0.084, 3), 0.0, 0.0]

    run = filemode.fill_export(export, s, prepared=prepared)

    assert run.state == "done" and run.filled == 3 and fake.creates == 1
    clips = otio.adapters.read_from_file(str(tmp_path / run.output)).tracks[0].find_clips()
    for clip, frames in zip(clips, SHOTS):
        assert_frame_exact(clip, frames, Fraction(24))
    assert len({clip.metadata["promptreel"]["job_id"] for clip in clips}) == 1


def test_file_mode_refuses_a_group_its_model_cannot_take_before_spend(home, fakes, tmp_path):
    from promptreel.resolve_plugin import filemode

    export = export_with_adjacent(tmp_path / "Multi.otio", SHOTS * 3)
    with pytest.raises(UnsupportedRequest, match="makes at most 6 shots in one take, not 7") as refusal:
        filemode.prepare(export, panel_settings.update({"frame_size": "320x180"}), multi_shot=True)
    assert "\n" not in str(refusal.value)
    s = panel_settings.update({"model": "kling-v2.6"})
    with pytest.raises(UnsupportedRequest, match="Kling 2.6 makes no multi-shot takes"):
        filemode.prepare(export_with_adjacent(tmp_path / "Three.otio"), s, multi_shot=True)
    filemode.prepare(export, s)  # unticked: a take each, as before
    assert fakes.fakes["kling"].creates == 0


# -- the command line, through the bridge ------------------------------------------------------------------------------


@pytest.fixture
def bridged(home, monkeypatch):
    """`promptreel resolve ...` reaching a Resolve double through its bridge."""
    resolve, timeline = adjacent_cut()
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    host, port = bridge.address
    monkeypatch.setenv("PROMPTREEL_BRIDGE", f"{host}:{port}")
    monkeypatch.setenv("PROMPTREEL_BRIDGE_TOKEN", bridge.token)
    yield timeline
    bridge.stop()
    thread.join(10)


def test_resolve_fill_multi_shot_and_revert_the_whole_fill_on_the_command_line(bridged, fakes, capsys):
    from promptreel.core.cli import main

    before = layout(bridged)
    assert main(["resolve", "fill", "--multi-shot", "--model", "kling-v2.6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Kling 2.6 makes no multi-shot takes" in err and fakes.fakes["kling"].creates == 0
    assert main(["resolve", "fill", "--multi-shot", "--model", "kling-v3"]) == 0
    out = capsys.readouterr().out
    assert out.count("Filled ") == 3 and fakes.fakes["kling"].creates == 1
    (undo,) = [line for line in out.splitlines() if line.startswith("Undo the whole fill: ")]
    assert main(undo.removeprefix("Undo the whole fill: promptreel ").split()) == 0
    assert capsys.readouterr().out.count("Reverted ") == 3 and layout(bridged) == before


# -- the panel in a real browser (skipped without Chromium, as tests/test_resolve_browser.py is) -----------------------


def test_the_multi_shot_box_fills_the_run_from_one_job_in_the_browser(panel, fakes, tmp_path):
    from tests.test_resolve_browser import CHROMIUM_ARGS, _chromium, sync_playwright

    p, _, timeline = panel
    executable = _chromium()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(60_000)
        try:
            page = context.new_page()
            page.goto(p.sign_in_url())
            page.wait_for_function("document.querySelectorAll('#placeholders tbody tr').length === 3")
            page.check("#fill-multi-shot")
            page.click("#estimate")
            page.wait_for_function(
                "document.getElementById('cost').textContent.includes('one multi-shot job: 3 shots')"
            )
            assert page.inner_text("#cost").count("a shot of the job above") == 2
            page.evaluate("document.getElementById('message').textContent = ''")
            page.click("#fill-all")
            page.wait_for_function("document.getElementById('message').textContent !== ''")
            assert "Filled." in page.inner_text("#message"), page.inner_text("#message")
        finally:
            context.close()
    start = timeline.GetStartFrame() + 10
    assert [(it._track, it._start, it._duration) for it in ours(timeline)] == [
        (2, start, 24),
        (2, start + 24, 36),
        (2, start + 60, 60),
    ]
    assert fakes.fakes["kling"].creates == 1


def test_two_shots_that_ask_alike_are_still_two_shots_of_the_take(home, fakes):
    resolve = FakeResolve()
    timeline = resolve._new_project(rate="24", width=320, height=180).GetMediaPool().CreateEmptyTimeline("Twice")
    start = timeline.GetStartFrame()
    for at in (0, 24):
        timeline._add(1, start + at, 24, "GEN: rain on a window", kind="generator")
    gw = DirectGateway(resolve)
    report = fill(gw, clip_maker(gw), model="kling-v3", multi_shot=True)
    assert len(report.edits) == 2 and fakes.fakes["kling"].creates == 1
    (body,) = [c.json() for c in fakes.fakes["kling"].calls_to("POST", r"/v1/videos/text2video")]
    assert [s["duration"] for s in body["multi_prompt"]] == ["1", "2"]  # two shots, the last padded to Kling's 3 s
    assert sorted((it._start - start, it._duration) for it in timeline.GetItemListInTrack("video", 2)) == [
        (0, 24),
        (24, 24),
    ]
