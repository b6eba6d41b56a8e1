"""The panel an editor looks at, in a real browser (Debian's Chromium, as test_resolve_browser.py):
the cost line at the top, thumbnails that decoded for every placeholder and take, a filmstrip on
hover, a take playing in the page (a ProRes take through its H.264 proxy), two takes side by side
and "choose this take", progress over server-sent events without a reload, times in the browser's
own zone, no console error on load; and the rough edges a new user met. Every view is written as a
screenshot into the test's tmp folder for review.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from promptreel.core import takes
from promptreel.core.conform.target import codec_families
from promptreel.core.events import Event, EventKind
from promptreel.core.journal import Journal
from promptreel.resolve_plugin import panel_settings
from promptreel.resolve_plugin.panel import Panel
from tests.fakes.otio_media import pattern_filler
from tests.test_resolve_browser import CHROMIUM_ARGS, _bin_clips, _cells, _chromium, _click, open_panel, worker  # noqa: F401
from tests.test_resolve_filemode import resolve_export

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

ZONE = "Asia/Tokyo"  # not the machine's zone (UTC): a time shown in it was converted by the page


class Watched:
    """A page with everything it logged and asked for since it opened."""

    def __init__(self, page):
        self.page, self.errors, self.failed, self.requests = page, [], [], []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
        )


@pytest.fixture
def watched(tmp_path):
    executable = _chromium()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            timezone_id=ZONE,
            locale="en-US",
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(30_000)
        try:
            yield Watched(context.new_page())
        finally:
            context.close()


def _local(iso: str) -> str:
    """An instant as Chromium's en-US toLocaleTimeString shows it in ZONE."""
    t = datetime.fromisoformat(iso).astimezone(ZoneInfo(ZONE))
    return f"{t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


DECODED = "sel => [...document.querySelectorAll(sel)].map(i => i.complete && i.naturalWidth > 0)"


def test_cost_line_pictures_playback_and_side_by_side_takes(watched, worker, tmp_path):
    page = watched.page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    page.wait_for_function("document.querySelectorAll('#settings select[name=codec] option').length > 0")
    page.wait_for_function("document.getElementById('glance').textContent.startsWith('Today $0.00')")
    page.wait_for_load_state("networkidle")

    # Loading asks nothing that fails (the empty hidden prompt was a 400 on /api/prompt/preview) and logs no error.
    assert watched.failed == [] and watched.errors == []
    assert page.inner_text("#glance") == "Today $0.00 · Spot $0.00 · selection — · no budget set"
    # The codec list is the data file's, h265-12 included; the button is named as the help text names it.
    codecs = page.eval_on_selector_all("#settings select[name=codec] option", "os => os.map(o => o.value)")
    assert codecs == list(codec_families()) and "h265-12" in codecs
    assert page.inner_text("#estimate") == "Estimate" and "“Estimate”" in page.inner_text("#cost")
    page.screenshot(path=str(tmp_path / "01-loaded.png"), full_page=True)

    # A budget, a paid model, one placeholder picked: the line adds what the selection would cost and what is left.
    page.select_option("#model", "ltx-2.3-fast")
    page.fill("#settings input[name=budget_usd]", "5")
    _click(page, "#settings button[type=submit]", "Settings saved.")
    page.wait_for_function("document.getElementById('glance').textContent.includes('budget left')")
    row = page.locator("#placeholders tbody tr", has_text="Solid Color")
    row.locator("input[type=checkbox]").check()
    item = row.locator("input[type=checkbox]").get_attribute("value")
    cost = panel.estimate({"item_ids": [item]})["total_usd"]
    assert cost > 0
    page.wait_for_function(
        "t => document.getElementById('glance').textContent === t",
        arg=f"Today $0.00 · Spot $0.00 · selection ${cost:.2f} · budget left ${5 - cost:.2f}",
    )

    # A/B on two models; a draft cut into the timeline: every placeholder and take has a picture that decoded.
    page.fill("#prompt", "a paper boat in the rain")
    page.fill("#shot", "SH030")
    page.fill("#frames", "24")
    page.select_option("#model-a", "ltx-2.3-fast")
    page.select_option("#model-b", "ltx-2.3-pro")
    _click(page, "#ab", "Both takes are in the bin")
    _click(page, "#create-draft", "Draft in the bin")
    (draft,) = _bin_clips(resolve, "promptreel", "drafts")
    gw.place(draft.GetUniqueId(), 0, 24, 1, 86600)
    page.click("#refresh")
    page.wait_for_function("document.querySelectorAll('#placeholders tbody tr').length === 3")
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 2")
    for table in ("placeholders", "takes"):
        page.wait_for_function(f"({DECODED})('#{table} img').every(Boolean)")
    # The draft's and the takes' pictures are their clips' middle frames, cached beside the clips.
    assert page.locator("#placeholders img[src^='/api/media']").count() == 1
    made = [t for t in takes.list_takes(Journal.open_default()) if t.shot == "SH030"]
    assert len(made) == 2 and all(t.path.with_name(f"{t.path.stem}.thumb.jpg").is_file() for t in made)
    assert draft._path.with_name(f"{draft._path.stem}.thumb.jpg").is_file()
    page.locator("#placeholders").screenshot(path=str(tmp_path / "02-placeholders.png"))

    # Hovering a take scrubs its filmstrip: ten frames in one sprite.
    first = page.locator("#takes tbody tr").first.locator(".pic")
    first.hover()
    page.wait_for_function("document.querySelector('#takes .strip[data-strip=loaded]') !== null")
    box = first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)
    assert (
        first.locator(".strip").evaluate("s => getComputedStyle(s).backgroundPosition").startswith("100% ")
    )  # the last frame
    size = page.evaluate(
        "async u => { const i = new Image(); i.src = u; await i.decode(); return [i.naturalWidth, i.naturalHeight]; }",
        first.locator(".strip").evaluate("s => s.style.backgroundImage.slice(5, -2)"),
    )
    assert size == [1600, 90]
    page.locator("#takes").screenshot(path=str(tmp_path / "03-filmstrip.png"))

    # Clicking plays it in the page: the take is ProRes, so through an H.264 proxy made once beside it.
    first.click()
    page.wait_for_function(
        "(() => { const v = document.querySelector('#takes video');"
        " return v && v.readyState >= 2 && v.videoWidth > 0; })()"
    )
    src = page.get_attribute("#takes video", "src")
    clip = next(t.path for t in made if str(t.path).replace("/", "%2F") in src)
    assert clip.suffix == ".mov" and clip.with_name(f"{clip.stem}.proxy.mp4").is_file()

    # Compare: both takes side by side, each with its model, seed, cost and time, and "choose this take".
    page.locator("#takes tbody tr").first.locator("button", has_text="Compare").click()
    page.wait_for_function(
        "[...document.querySelectorAll('#compare video')].filter(v => v.readyState >= 2).length === 2"
    )
    left, right = (page.locator("#compare figure").nth(i).bounding_box() for i in range(2))
    assert left["y"] == right["y"] and right["x"] >= left["x"] + left["width"]
    captions = page.eval_on_selector_all("#compare figcaption", "cs => cs.map(c => c.textContent)")
    by_model = {t.model: t for t in made}
    for caption, model in zip(captions, ("ltx-2.3-fast", "ltx-2.3-pro")):
        t = by_model[model]
        seed = "—" if t.seed is None else t.seed  # LTX takes no seed
        assert caption.startswith(f"{model} · seed {seed} · ${t.provenance['cost']:.2f} · ") and " to make" in caption
    page.click("#play-both")
    page.wait_for_function("[...document.querySelectorAll('#compare video')].every(v => !v.paused)")
    page.locator("#compare").screenshot(path=str(tmp_path / "04-compare.png"))
    _click(
        page,
        page.locator("#compare figure").nth(1).locator("button", has_text="Choose this take"),
        "Chosen: SH030 — ltx-2.3-pro.",
    )
    assert [t.model for t in takes.list_takes(Journal.open_default(), shot="SH030") if t.chosen] == ["ltx-2.3-pro"]
    page.wait_for_function("document.querySelector('#takes tbody').textContent.includes('chosen')")

    # Times are the browser's own zone's; the statistics are a compact table with the breakdown a click away.
    newest = takes.list_takes(Journal.open_default(), shot="SH030")[-1]
    assert _local(newest.created_at) in _cells(page, "takes")[0][6]
    page.wait_for_function("document.querySelectorAll('#stats tbody tr').length === 3")
    stats = {row[0]: row[1:] for row in _cells(page, "stats")}  # the two takes and the draft slate
    assert sorted(stats) == ["draft", "ltx-2.3-fast", "ltx-2.3-pro"]
    assert all(row[0] == "100%" and row[2].startswith("$") for row in stats.values())
    assert not page.is_visible("#stats-full") and page.locator("#stats-full thead th").count() > 10
    page.click("#stats-details summary")
    assert page.is_visible("#stats-full")
    page.screenshot(path=str(tmp_path / "05-after.png"), full_page=True)
    # Every row of every table has exactly its header's columns (buttons included): nothing sits outside them.
    for table in ("placeholders", "takes", "jobs", "stats", "stats-full"):
        header = page.locator(f"#{table} thead th").count()
        assert {len(row) for row in _cells(page, table)} == {header}, table
    assert watched.errors == []


def test_progress_arrives_as_server_sent_events_without_polling_or_reload(watched, worker, tmp_path):
    page = watched.page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    page.wait_for_load_state("networkidle")
    loads = sum(u.rstrip("/").endswith(str(panel.port)) for u in watched.requests)
    live = panel.engine_jobs

    def row(job: str, expect: str) -> None:
        page.wait_for_function(
            "([id, t]) => { const r = document.querySelector(`#jobs tr[data-id=${id}]`); "
            "return r && r.textContent.includes(t); }",
            arg=[job, expect],
        )

    live.on_event(Event(EventKind.QUEUED, "job_a", model="ltx-2.3-fast"))
    live.on_event(Event(EventKind.QUEUED, "job_b", model="ltx-2.3-pro"))
    live.on_event(Event(EventKind.RUNNING, "job_a", model="ltx-2.3-fast", progress=0.4))
    row("job_a", "40%")
    page.wait_for_function("!document.getElementById('progress-all').hidden")
    assert page.eval_on_selector("#jobs tr[data-id=job_a] progress", "p => p.value") == pytest.approx(0.4)
    assert page.eval_on_selector("#overall", "p => p.value") == pytest.approx(0.2)
    page.screenshot(path=str(tmp_path / "progress-running.png"), full_page=True)

    live.on_event(Event(EventKind.RUNNING, "job_a", model="ltx-2.3-fast", progress=0.8))
    live.on_event(Event(EventKind.DONE, "job_b", model="ltx-2.3-pro"))
    row("job_b", "done")
    row("job_a", "80%")
    assert page.inner_text("#overall-text") == "1 of 2 done (90%)"
    assert page.eval_on_selector("#overall", "p => p.value") == pytest.approx(0.9)
    live.on_event(Event(EventKind.DONE, "job_a", model="ltx-2.3-fast"))
    page.wait_for_function("document.getElementById('progress-all').hidden")
    page.screenshot(path=str(tmp_path / "progress-done.png"), full_page=True)

    # Every change came over the one event stream: no job list polled, the page never reloaded.
    assert not any("/api/jobs" in u for u in watched.requests)
    assert sum("/api/events" in u for u in watched.requests) == 1
    assert sum(u.rstrip("/").endswith(str(panel.port)) for u in watched.requests) == loads
    assert watched.errors == []


@pytest.fixture
def file_panel(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    panel_settings.update({"export_dir": str(exports), "frame_size": "320x180"})
    panel = Panel(None, None, filler=pattern_filler, reason="Resolve did not answer.")
    panel.start()
    yield panel, exports
    panel.wait_for_runs(120)
    panel.stop()


def test_file_mode_fill_message_ends_with_the_run_and_buttons_sit_under_their_column(watched, file_panel, tmp_path):
    from fractions import Fraction

    from promptreel.core.conform.probe import probe
    from promptreel.core.request import Slot
    from promptreel.core.settings import output_dir
    from promptreel.core.slots import FillSettings, fill_slots_sync

    page = watched.page
    panel, exports = file_panel
    resolve_export(exports / "Timeline 1.otio")
    # Two takes made from the command line: file mode shows them too, with pictures, to compare and choose.
    slot = Slot(frames=12, rate=Fraction(24), size="320x180", prompt="a lighthouse at dusk", name="SH040")
    made = []  # in a thread of its own: Playwright's event loop runs in this one
    worker = threading.Thread(
        target=lambda: made.extend(
            fill_slots_sync(
                takes.take_slots(slot, ["draft"], variants=2), FillSettings(output_dir=output_dir() / "takes")
            )
        )
    )
    worker.start()
    worker.join()
    takes.record_takes(Journal.open_default(), "SH040", made, "variants")
    page.goto(panel.sign_in_url())
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 2")
    page.wait_for_function(f"({DECODED})('#takes img').every(Boolean)")
    assert page.is_visible("#takes") and not page.is_visible("#promote-help")
    page.locator("#takes button", has_text="Compare").first.click()
    page.wait_for_function(
        "[...document.querySelectorAll('#compare video')].filter(v => v.readyState >= 2).length === 2"
    )

    # Generate without Resolve: takes into the media folder at the settings' frame size and the rate given here.
    assert not page.is_visible("#create-draft") and page.inner_text("#generate") == "Generate"
    page.fill("#prompt", "a paper lantern drifting")
    page.fill("#shot", "SH050")
    page.fill("#frames", "10")
    page.fill("#rate", "25")
    page.fill("#variants", "2")
    _click(page, "#generate", "Made: see Takes.")
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 4")
    made = takes.list_takes(Journal.open_default(), shot="SH050")
    assert len(made) == 2 and all(t.ok for t in made)
    for t in made:
        info = probe(t.path)
        assert (info.frames, info.rate, info.width, info.height) == (10, Fraction(25), 320, 180)
    page.wait_for_function("document.querySelectorAll('#exports tbody tr').length === 1")
    page.wait_for_load_state("networkidle")
    assert watched.failed == [] and watched.errors == []
    header = page.locator("#exports thead th").count()
    assert [len(r) for r in _cells(page, "exports")] == [header]  # Estimate and Fill share the last column
    page.locator("#exports button", has_text="Fill").click()
    # "Filling …" gives way to the result once the run ends (the event stream says so).
    page.wait_for_function("document.getElementById('message').textContent.startsWith('Filled Timeline 1.otio')")
    assert "File > Import > Timeline" in page.inner_text("#message")
    page.screenshot(path=str(tmp_path / "file-mode.png"), full_page=True)
    assert watched.errors == []
