"""Refine, cast and the ranked model picker in a real browser (Debian's Chromium, as test_resolve_browser.py),
against the panel on the Resolve double with ltx-2.3-fast served by the sandbox's loopback fake of LTX's
API: a take refined twice from its Refine box shows the chain as `promptreel takes` does; a cast member
added from the page is listed with her picture; an unknown @name is refused in one line before any
spend; the model pickers list models best first for the selected placeholders, with why. Screenshots go
into the test's tmp folder for review.
"""

from __future__ import annotations

from promptreel.core import takes
from promptreel.core.catalog import default_catalog
from promptreel.core.choose import ranking_json
from promptreel.core.conform.probe import probe
from promptreel.core.journal import Journal
from promptreel.resolve_plugin import panel_settings
from tests.fakes.images import still
from tests.test_resolve_browser import _bin_clips, _cells, _click, browser_page, open_panel, worker  # noqa: F401

DECODED = "sel => [...document.querySelectorAll(sel)].map(i => i.complete && i.naturalWidth > 0)"


def _use_model(page, model: str) -> None:
    page.wait_for_function("m => [...document.querySelectorAll('#model option')].some(o => o.value === m)", arg=model)
    page.select_option("#model", model)
    _click(page, "#settings button[type=submit]", "Settings saved.")


def test_refine_a_take_twice_and_see_the_chain(browser_page, worker, tmp_path):  # noqa: F811
    page = browser_page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    _use_model(page, "ltx-2.3-fast")
    page.fill("#prompt", "a lighthouse at noon")
    page.fill("#shot", "SH040")
    page.fill("#frames", "24")
    _click(page, "#generate", "In the bin.")
    page.wait_for_function("document.querySelectorAll('#takes tbody tr').length === 1")
    first = page.locator("#takes tbody tr").first.get_attribute("data-take")

    # Each refinement from the take's own Refine box: a new take, its parent the take it changed.
    for parent, change, count in ((first, "make it dusk", 2), (None, "closer", 3)):
        row = page.locator("#takes tbody tr").first
        parent = parent or row.get_attribute("data-take")
        row.locator(".refine-change").fill(change)
        _click(page, row.locator("button.refine"), f"refine of {parent} '{change}'")
        page.wait_for_function("n => document.querySelectorAll('#takes tbody tr').length === n", arg=count)
    third, second = (page.locator("#takes tbody tr").nth(i).get_attribute("data-take") for i in (0, 1))

    # The chain as `promptreel takes` shows it: each refinement indented under the take it changed, its change quoted.
    journal = Journal.open_default()
    chain = takes.chain(journal, third)
    assert [t.id for t in chain] == [first, second, third]
    assert [(t.parent, t.provenance.get("refinement")) for t in chain] == [
        (None, None),
        (first, "make it dusk"),
        (second, "closer"),
    ]
    rows = _cells(page, "takes")
    assert [r[1] for r in rows] == ["↳ SH040 — ltx-2.3-fast", "↳ SH040 — ltx-2.3-fast", "SH040 — ltx-2.3-fast"]
    assert [r[5] for r in rows] == [
        f"{third}refine of {second} 'closer'",
        f"{second}refine of {first} 'make it dusk'",
        f"{first}{chain[0].kind}",
    ]
    assert page.eval_on_selector_all("#takes .refine-change", "boxes => boxes.map(b => b.value)") == [
        "",
        "",
        "",
    ]  # said
    indents = page.eval_on_selector_all("#takes tbody tr", "rows => rows.map(r => r.cells[1].style.paddingLeft)")
    assert indents == ["3.5em", "2em", "0.5em"]
    # Made by the LTX fake, conformed to the 24 frames of the take, and in the bin like any take.
    for t in chain:
        assert probe(t.path).frames == 24 and t.model == "ltx-2.3-fast" and t.provenance.get("resolve_clip")
    assert sorted(c.GetName() for c in _bin_clips(resolve, "promptreel", "ltx-2.3-fast")) == [
        "SH040 — ltx-2.3-fast",
        "SH040 — ltx-2.3-fast refined",
        "SH040 — ltx-2.3-fast refined",
    ]
    page.locator("#takes").screenshot(path=str(tmp_path / "refine-chain.png"))


def test_add_a_cast_member_and_an_unknown_name_is_refused_in_one_line(browser_page, worker, tmp_path):  # noqa: F811
    page = browser_page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    face, side = still(tmp_path, 48, 32, "face"), still(tmp_path, 32, 48, "side")
    page.fill("#cast-name", "maria")
    page.fill("#cast-images", f"{face}\n{side}\n")
    page.fill("#cast-note", "red coat")
    _click(page, "#cast-add", "Added @maria to the cast (2 images).")
    page.wait_for_function("document.querySelectorAll('#cast tbody tr').length === 1")
    page.wait_for_function(f"({DECODED})('#cast img').length === 2 && ({DECODED})('#cast img').every(Boolean)")
    (row,) = _cells(page, "cast")
    assert (row[0], row[2]) == ("@maria", "red coat") and page.input_value("#cast-name") == ""
    sizes = page.eval_on_selector_all("#cast img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[48, 32], [32, 48]]  # each of her images, in order
    page.locator("#cast-section").screenshot(path=str(tmp_path / "cast.png"))

    # A prompt naming someone not in the cast: one line naming the problem and the fix, nothing generated or spent.
    _use_model(page, "ltx-2.3-fast")
    page.fill("#prompt", "@nobody walks to the sea")
    page.fill("#frames", "24")
    page.evaluate("document.getElementById('message').textContent = ''")
    page.click("#generate")
    page.wait_for_function("document.getElementById('message').textContent !== ''")
    message = page.inner_text("#message")
    assert page.get_attribute("#message", "class") == "err"
    assert message == (
        "@nobody is not in the cast of project 'Spot' (cast: @maria). "
        "Add with `promptreel cast add nobody IMAGE...`, or fix the name."
    )
    assert Journal.open_default().jobs() == [] and takes.list_takes(Journal.open_default()) == []
    page.screenshot(path=str(tmp_path / "cast-refusal.png"), full_page=True)


def test_model_picker_lists_models_ranked_for_the_selected_placeholders(browser_page, worker, tmp_path):  # noqa: F811
    page = browser_page
    panel, gw, resolve, timeline = worker
    open_panel(page, panel)
    page.wait_for_function("document.querySelectorAll('#model option').length > 1")
    usable = [m.id for m in default_catalog().models.values() if m.usable_routes()]

    # One placeholder (the Solid Color: 30 frames at the project's 24 fps, 320x180): `promptreel models`' order.
    page.locator("#placeholders tbody tr", has_text="Solid Color").locator("input[type=checkbox]").check()
    page.wait_for_function(
        "document.getElementById('rank-for').textContent.startsWith('1 selected placeholder: 30 frames')"
    )
    ranked = [m["model"] for m in ranking_json(30, "24", "320x180")["models"]]
    assert page.eval_on_selector_all("#model-rank tbody tr", "rows => rows.map(r => r.dataset.model)") == ranked
    for picker in ("model", "model-a", "model-b", "fill-model-b"):
        options = page.eval_on_selector_all(f"#{picker} option", "os => os.map(o => o.value)")
        listed = [m for m in ranked if m in usable]
        assert options[: len(listed)] == listed and sorted(options) == sorted(usable)
    assert options != usable  # the catalog's order is not the ranking: the page did reorder
    best = ranking_json(30, "24", "320x180")["models"][0]
    text = page.eval_on_selector("#model", "(s, m) => [...s.options].find(o => o.value === m).textContent", ranked[0])
    assert text.startswith(f"{best['name']} — ${best['price_usd']:.2f} · ") and text.endswith("not tried yet")

    # Both placeholders (30 and 17 frames): ranked by their summed score, what cannot make one set apart.
    page.locator("#placeholders tbody tr", has_text="storm over the sea").locator("input[type=checkbox]").check()
    page.wait_for_function(
        "document.getElementById('rank-for').textContent.startsWith('2 selected placeholders: 30 + 17 frames')"
    )
    short, long = ({m["model"]: m["score"] for m in ranking_json(n, "24", "320x180")["models"]} for n in (30, 17))
    shown = page.eval_on_selector_all("#model-rank tbody tr", "rows => rows.map(r => r.dataset.model)")
    assert set(shown) == short.keys() & long.keys()  # a model that cannot make one of them is set apart
    sums = [float("inf") if None in (short[m], long[m]) else short[m] + long[m] for m in shown]
    assert all(a <= b + 1e-3 for a, b in zip(sums, sums[1:])), list(zip(shown, sums))  # best (cheapest expected) first
    page.locator("#rank-section").screenshot(path=str(tmp_path / "model-rank.png"))

    # "Use" makes a ranked model the settings' model.
    usable_first = next(m for m in shown if m in usable)
    row = page.locator(f"#model-rank tbody tr[data-model='{usable_first}']")
    _click(page, row.locator("button", has_text="Use"), "Model: ")
    assert panel_settings.load().model == usable_first and page.input_value("#model") == usable_first
