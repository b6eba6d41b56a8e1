"""The panel in a real browser: Debian's Chromium (headless, driven by Playwright) against a worker's
panel and clip maker (the job engine and conform; ltx-2.3-fast served by the sandbox's loopback fake
of LTX's API), with the Resolve double behind a real bridge. One walk through what an editor does:
generate to bin, create a draft, cut it, fill a draft and a foreign placeholder, revert both; an A/B
on two models, a take cut and promoted to the final model, reverted; the cost, statistics and live job
list. The double's timeline is checked frame-exact.

Skipped when Chromium is not installed, unless PROMPTREEL_REQUIRE_BROWSER=1 (CI sets it): then missing
Chromium fails. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
import threading
from fractions import Fraction
from pathlib import Path

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.journal import Journal
from promptreel.core.sandbox import Limit, sandbox
from promptreel.resolve_plugin.bridge.server import Bridge
from promptreel.resolve_plugin.gateway import BridgeGateway
from promptreel.resolve_plugin.worker import panel_for
from tests.fakes.resolve import cut_with_placeholders

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the test extra installs it
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    missing = (
        "Chromium is not installed (apt-get install chromium)"
        if not Path(CHROMIUM).is_file()
        else "Playwright is not installed (pip install -e '.[test]')"
        if sync_playwright is None
        else None
    )
    if missing and os.environ.get("PROMPTREEL_REQUIRE_BROWSER") == "1":
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)
    return CHROMIUM


@pytest.fixture
def browser_page(tmp_path):
    executable = _chromium()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(20_000)
        try:
            yield context.new_page()
        finally:
            context.close()


@pytest.fixture
def worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROMPTREEL_NO_BROWSER", "1")
    resolve, timeline = cut_with_placeholders()
    bridge = Bridge(resolve)
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    gw = BridgeGateway(*bridge.address, token=bridge.token)
    panel = panel_for(gw, "Connected through the Scripts-menu bridge.")
    panel.start()
    with sandbox(routes=["ltx"], limit=Limit(seconds=Fraction(2)), export=True):  # 320x180, 2 s
        yield panel, gw, resolve, timeline
    panel.stop()
    bridge.stop()
    thread.join(10)


def _timeline(timeline):
    """Every item, frame-exact: (track, record start, duration, source in, enabled, media file)."""
    return sorted(
        (it._track, it._start, it._duration, it._left, it._enabled, it._mpi._path.name if it._mpi is not None else None)
        for it in timeline._items()
    )


def _click(page, target, expect: str) -> None:
    """Click `target` (a selector or a locator) and wait for the panel's message: it must contain `expect`."""
    page.evaluate("document.getElementById('message').textContent = ''")
    (page.locator(target) if isinstance(target, str) else target).click()
    page.wait_for_function("document.getElementById('message').textContent !== ''")
    message = page.inner_text("#message")
    assert expect in message and "err" not in (page.get_attribute("#message", "class") or ""), message


def open_panel(page, panel) -> None:
    """The panel, once it shows the double's timeline."""
    page.goto(panel.sign_in_url())
    page.wait_for_function("document.getElementById('where').textContent.includes('Cut 1')")


def _bin_clips(resolve, *path: str):
    folder = resolve.GetProjectManager().GetCurrentProject().GetMediaPool().GetRootFolder()
    for name in path:
        folder = next(f for f in folder.GetSubFolderList() if f.GetName() == name)
    return folder.GetClipList()


def test_generate_draft_fill_and_revert_from_the_browser(browser_page, worker):
    page = browser_page
    panel, gw, resolve, timeline = worker
    before = _timeline(timeline)
    open_panel(page, panel)
    assert page.locator("#placeholders tbody tr").count() == 2

    # Generate to bin: a 24-frame take lands in promptreel/draft, conformed to the project.
    page.fill("#prompt", "waves at night")
    page.fill("#frames", "24")
    _click(page, "#generate", "In the bin.")
    (take,) = _bin_clips(resolve, "promptreel", "draft")
    assert take.GetClipProperty("Frames") == "24" and take.GetMetadata("Description") == "waves at night"
    info = probe(take._path)
    assert (info.frames, info.rate, info.width, info.height) == (24, Fraction(24), 320, 180)

    # Create draft: 48 frames into promptreel/drafts; the editor cuts frames 5..25 of it onto V1.
    page.fill("#prompt", "a lighthouse at dusk")
    page.fill("#frames", "48")
    _click(page, "#create-draft", "Draft in the bin")
    (draft,) = _bin_clips(resolve, "promptreel", "drafts")
    draft_file = draft._path.name
    gw.place(draft.GetUniqueId(), 5, 25, 1, 86500)
    cut = _timeline(timeline)
    assert (1, 86500, 20, 5, True, draft_file) in cut

    # Fill selected on ltx-2.3-fast: the draft and the Solid Color (a foreign placeholder); the title stays as it is.
    page.select_option("#model", "ltx-2.3-fast")
    _click(page, "#settings button[type=submit]", "Settings saved.")
    page.click("#refresh")
    page.wait_for_function("document.querySelectorAll('#placeholders tbody tr').length === 3")
    rows = page.locator("#placeholders tbody tr")
    labels = [rows.nth(i).inner_text() for i in range(3)]
    for i, label in enumerate(labels):
        if "Solid Color" in label or "lighthouse" in label:
            rows.nth(i).locator("input[type=checkbox]").check()
    _click(page, "#fill-selected", "Filled.")
    # Each fill has its picture, in the Fills list and in the job list: the clip's middle frame, decoded.
    for rows in ("#edits tr", "#jobs tbody tr"):
        page.wait_for_function(
            "sel => { const imgs = [...document.querySelectorAll(sel)].filter(r => /in place/.test(r.textContent))"
            ".map(r => r.querySelector('img[src^=\"/api/media\"]'));"
            " return imgs.length === 2 && imgs.every(i => i && i.complete && i.naturalWidth > 0); }",
            arg=rows,
        )

    filled = _timeline(timeline)
    placed = [x for x in filled if x[0] == 2]
    (fill_clip,) = [it.GetMediaPoolItem() for it in timeline.GetItemListInTrack("video", 2)]
    assert fill_clip.GetMetadata("Comments").startswith("ltx-2.3-fast · ltx:ltx-2-3-fast")
    assert [x[:5] for x in placed] == [(2, 86410, 30, 0, True)]  # above the Solid Color, exactly its length
    assert probe(timeline.GetItemListInTrack("video", 2)[0].GetMediaPoolItem()._path).frames == 30
    v1 = {x[1]: x for x in filled if x[0] == 1}
    assert v1[86410][4] is False and v1[86440][4] is True  # Solid Color disabled, the title untouched
    assert v1[86500][:5] == (1, 86500, 20, 5, True) and v1[86500][5] != draft_file  # same cut, new media
    replaced = probe(draft._path)
    assert (replaced.frames, replaced.rate) == (48, Fraction(24))
    assert draft.GetThirdPartyMetadata("promptreel.role") == "take"

    # Revert both from the Fills list: the timeline is as the editor cut it, the draft's media is back.
    for left in (1, 0):
        _click(page, page.locator("#edits button", has_text="Revert").first, "Reverted.")
        page.wait_for_function("n => document.querySelectorAll('#edits button').length === n", arg=left)
    assert _timeline(timeline) == cut
    assert draft._path.name == draft_file and draft.GetThirdPartyMetadata("promptreel.role") == "draft"
    assert [x for x in cut if x[5] != draft_file] == before


def _cells(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )


def test_ab_promote_costs_stats_and_live_jobs_from_the_browser(browser_page, worker):
    page = browser_page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    page.wait_for_function("document.querySelectorAll('#model-b option').length > 1")

    # A/B: one prompt on two models; both land side by side as `shot — model`, each in its model's bin.
    page.fill("#prompt", "a red kite over dunes")
    page.fill("#shot", "SH020")
    page.fill("#frames", "24")
    page.select_option("#model-a", "ltx-2.3-fast")
    page.select_option("#model-b", "ltx-2.3-pro")
    _click(page, "#ab", "Both takes are in the bin")
    (fast,) = _bin_clips(resolve, "promptreel", "ltx-2.3-fast")
    (pro,) = _bin_clips(resolve, "promptreel", "ltx-2.3-pro")
    assert (fast.GetName(), pro.GetName()) == ("SH020 — ltx-2.3-fast", "SH020 — ltx-2.3-pro")
    assert fast.GetClipProperty("Frames") == pro.GetClipProperty("Frames") == "24"
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 2")
    assert [row[1] for row in _cells(page, "takes")] == ["SH020 — ltx-2.3-pro", "SH020 — ltx-2.3-fast"]

    # The editor cuts frames 4..20 of the fast take; Promote renders it again on ltx-2.3-pro in place.
    gw.place(fast.GetUniqueId(), 4, 20, 1, 86600)
    cut = _timeline(timeline)
    preview = fast._path
    page.select_option("#final-model", "ltx-2.3-pro")
    fast_row = page.locator("#takes tbody tr", has_text="SH020 — ltx-2.3-fast")
    _click(page, fast_row.locator("button", has_text="Promote"), "Promoted.")
    # Promoting to the model the other take of the A/B was made on reuses that paid render (no second charge).
    assert fast._path != preview and fast._path == pro._path and probe(fast._path).frames == 24
    assert fast.GetMetadata("Comments").startswith("ltx-2.3-pro · ltx:ltx-2-3-pro")
    assert [x[:5] for x in _timeline(timeline)] == [x[:5] for x in cut]  # the cut keeps its in and out points
    page.wait_for_function("document.querySelector('#takes tbody').textContent.includes('(final)')")
    _click(page, page.locator("#edits button", has_text="Revert").first, "Reverted.")
    assert fast._path == preview and _timeline(timeline) == cut

    # Cost today and per project (the Resolve project's name on every job), statistics, the live job list.
    # The LTX sandbox fake made these jobs: their price is pretend spend, shown apart from the money.
    journal = Journal.open_default()
    assert journal.spent_on() == 0 and journal.spend("project") == []
    [(project, pretend, jobs)] = journal.spend("project", sandbox=True)
    assert (project, jobs) == ("Spot", 3) and pretend > 0
    page.wait_for_function(
        "t => document.getElementById('spend').textContent.includes(t)", arg=f"sandbox (not money) ${pretend:.2f}"
    )
    assert "Spent today $0.00 · this project (Spot) $0.00" in page.inner_text("#spend")
    page.wait_for_function("document.querySelectorAll('#stats-full tbody tr').length === 2")
    stats = {row[0]: row for row in _cells(page, "stats-full")}
    assert {m: (row[1], row[2], row[3]) for m, row in stats.items()} == {  # route, jobs, delivered
        "ltx-2.3-fast": ("ltx:ltx-2-3-fast", "1", "1"),
        "ltx-2.3-pro": ("ltx:ltx-2-3-pro", "1", "1"),
    }
    page.wait_for_function("document.querySelector('#jobs tbody').textContent.includes('engine')")
    engine = [row for row in _cells(page, "jobs") if row[2] == "engine"]
    assert len(engine) == 3 and {(row[3], row[4].strip()) for row in engine} == {("done", "100%")}
    assert sum("from the cache" in row[7] for row in engine) == 1  # the promotion
    assert any("ltx-2.3-pro" in row[1] and "a red kite over dunes" in row[1] for row in engine)


def test_structured_prompt_preview_generate_and_provenance_from_the_browser(browser_page, worker):
    from promptreel.core.catalog import default_catalog
    from promptreel.core.prompts.compose import PromptSpec, compose
    from promptreel.core.prompts.templates import TemplateStore, new_template

    page = browser_page
    panel, gw, resolve, timeline = worker
    TemplateStore().save(new_template("dusk-exterior", "{subject} at {time_of_day}, {lighting}", ["house"]))
    page.goto(panel.sign_in_url())
    page.wait_for_function("document.querySelectorAll('#template option').length === 2")
    page.select_option("#model", "ltx-2.3-fast")
    _click(page, "#settings button[type=submit]", "Settings saved.")

    # The collapsible form: a template, its own value (time_of_day) beside the shot fields it uses (subject, lighting).
    page.click("#structured summary")
    page.select_option("#template", "dusk-exterior")
    page.fill("#field-subject", "a lighthouse keeper")
    page.fill("#field-time_of_day", "dusk")
    page.fill("#field-lighting", "a sweeping beam")
    values = {"subject": "a lighthouse keeper", "time_of_day": "dusk", "lighting": "a sweeping beam"}
    built = compose(default_catalog().get("ltx-2.3-fast"), PromptSpec(template="dusk-exterior", fields=values))
    assert built.text == "a lighthouse keeper at dusk, a sweeping beam"
    page.wait_for_function(
        "t => document.getElementById('preview').textContent.includes(t)",
        arg=f"ltx-2.3-fast (ltx, from template, {len(built.text)}/{built.max_chars} characters):\n{built.text}",
    )

    # Generate sends exactly the previewed text; the take's provenance is shown from its file.
    page.fill("#frames", "24")
    _click(page, "#generate", "In the bin.")
    (take,) = _bin_clips(resolve, "promptreel", "ltx-2.3-fast")
    assert take.GetMetadata("Description") == built.text
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 1")
    page.locator("#takes button", has_text="Provenance").click()
    page.wait_for_function("document.getElementById('provenance').textContent.includes('original:')")
    shown = page.inner_text("#provenance")
    assert (
        "AI-generated video: ltx-2.3-fast" in shown
        and "[found]" in shown
        and "err" not in (page.get_attribute("#provenance", "class") or "")
    )
