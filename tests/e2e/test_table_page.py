"""The web page in Debian's Chromium against a real server, worker and the LLM simulator: a
person defines an AI column, adds a row and watches the cell fill without a reload, edits the
page and sees it refill, writes a cell by hand and gives it back, rates an answer, and runs a
bulk fill to the end (and cancels one). Screenshots at desktop and phone width are saved."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import SIM_LATENCY_MS, Site, Watched, screenshot, sign_in

NOTES_DB: dict[str, Any] = {
    "name": "Customer notes",
    "properties": [
        {"name": "Name", "type": "title"},
        {"name": "Status", "type": "select", "options": ["Open", "Done"]},
        {"name": "Score", "type": "number"},
    ],
}


def _database(site: Site, name: str, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    database = site.call("POST", "/v1/databases", json={**NOTES_DB, "name": name})
    for row in rows or []:
        site.call("POST", f"/v1/databases/{database['id']}/rows", json=row)
    return database  # type: ignore[no-any-return]


def _open(page: Page, name: str) -> None:
    page.goto("/databases")
    page.get_by_role("link", name=name).click()
    expect(page.locator("#live")).to_have_text(re.compile("Live"))


def _row(page: Page, title: str) -> Locator:
    return page.locator("#table tbody tr").filter(has=page.get_by_text(title, exact=True))


def _cell(page: Page, title: str, property_id: str) -> Locator:
    return _row(page, title).locator(f'td[data-property="{property_id}"]')


def _column_id(page: Page, name: str) -> str:
    header = page.locator("#table thead th").filter(has_text=name).first
    return str(header.get_attribute("data-property"))


def _reload(page: Page) -> None:
    """Reload the page. The page reloads itself when an event names a column it has not drawn
    (api/static/table.js): a reload of ours that crosses it is aborted (net::ERR_ABORTED), and
    the page's own reload is the one that counts."""
    try:
        page.reload()
    except PlaywrightError as exc:
        if "ERR_ABORTED" not in str(exc):
            raise
        page.wait_for_load_state()


def test_a_column_fills_live_refills_on_edit_and_keeps_a_persons_value(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    _database(
        site, "Interviews", [{"properties": {"Name": "Bea"}, "content": "Bea reports slow sync."}]
    )
    sign_in(page, site)
    _open(page, "Interviews")

    # Define the column: the API's validation message appears beside the field at fault.
    page.get_by_role("link", name="New AI column").click()
    page.get_by_label("Column name").fill("Summary")
    page.get_by_label("Task").select_option("key_info")
    page.get_by_role("button", name="Add column").click()
    expect(page.locator("#instruction-error")).to_contain_text("needs an instruction")
    expect(page.get_by_label("Instruction")).to_be_focused()
    page.get_by_label("Task").select_option("summary")
    page.get_by_label("Row", exact=True).select_option(label="Bea")
    page.get_by_role("button", name="Preview prompt").click()
    expect(page.locator("#preview-summary")).to_contain_text("input tokens")
    expect(page.locator("#preview")).to_contain_text("Bea reports slow sync.")
    page.get_by_role("button", name="Add column").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    expect(page.locator("#live")).to_have_text(re.compile("Live"))
    summary = _column_id(page, "Summary")
    expect(_cell(page, "Bea", summary)).to_have_attribute("data-status", "filled")
    expect(page.locator(".badge.sim")).to_contain_text("LLM simulator")

    # From here on, nothing reloads the page: a marker set now must survive to the end.
    page.evaluate("window.__sameDocument = true")

    # Add a row: the AI cell shows pending, then fills in live.
    page.get_by_role("button", name="Add row").click()
    page.get_by_label("Title").fill("Ada")
    page.get_by_label("Page content").fill("Ada asked for faster exports. She liked the editor.")
    page.get_by_role("button", name="Save").click()
    ada = _cell(page, "Ada", summary)
    expect(ada).to_have_attribute("data-status", "pending")
    expect(ada).to_have_attribute("data-status", "filled")
    expect(ada).to_contain_text("faster exports")
    expect(ada).to_contain_text("[sim]")  # simulated answers say so
    title = ada.locator("button").get_attribute("title") or ""
    assert "sim:sim-1" in title and "tokens" in title

    # Edit the page: the cell refills from the new content.
    _row(page, "Ada").get_by_role("button", name="Open the page of Ada").click()
    page.get_by_label("Page content").fill("Ada now wants a dark mode for night shifts.")
    page.get_by_role("button", name="Save").click()
    expect(ada).to_contain_text("dark mode")
    expect(ada).to_have_attribute("data-status", "filled")

    # Write the cell by hand: it stays, even when the page changes again.
    ada.locator("button").click()
    dialog = page.locator("#cell-dialog")
    expect(dialog.locator("#cell-provenance")).to_contain_text("sim:sim-1")
    dialog.get_by_label("Your value for Summary").fill("Wants dark mode (checked by Lee)")
    dialog.get_by_role("button", name="Save my value").click()
    expect(ada).to_have_attribute("data-status", "overridden")
    expect(ada).to_contain_text("checked by Lee")
    calls = len(site.sim.requests)
    _row(page, "Ada").get_by_role("button", name="Open the page of Ada").click()
    page.get_by_label("Page content").fill("Ada now wants a dark mode and CSV export.")
    page.get_by_role("button", name="Save").click()
    time.sleep(1.5 + SIM_LATENCY_MS / 1000)
    expect(ada).to_contain_text("checked by Lee")
    assert len(site.sim.requests) == calls  # no model call for a person's cell

    # Give it back to the AI: it fills from the latest page.
    ada.locator("button").click()
    dialog.get_by_role("button", name="Give back to AI").click()
    expect(ada).to_contain_text("CSV export")
    expect(ada).to_have_attribute("data-status", "filled")
    expect(dialog).to_be_visible()  # the open dialog follows the cell live
    expect(dialog.locator("#cell-state")).to_have_text("Filled by the AI.")

    # Rate the answer and share it with the prompt team.
    dialog.get_by_role("button", name="Bad answer").click()
    dialog.get_by_label("Comment (optional)").fill("Misses the CSV part")
    dialog.get_by_label(re.compile("Share this page with the prompt team")).check()
    dialog.get_by_role("button", name="Send feedback").click()
    expect(dialog.locator("#feedback-done")).to_have_text("Thank you: shared with the prompt team.")
    dialog.get_by_role("button", name="Close").click()

    # Edit a property in place: the summary does not read it, so it stays as it is.
    status = _column_id(page, "Status")
    _cell(page, "Ada", status).get_by_role("button").click()
    page.get_by_label("Status of Ada").select_option("Done")
    page.keyboard.press("Enter")
    expect(_cell(page, "Ada", status)).to_have_text("Done")
    expect(ada).to_have_attribute("data-status", "filled")

    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "table-desktop")
    assert watched.problems == []


def test_fill_column_estimates_runs_to_completion_and_cancels(site: Site, watched: Watched) -> None:
    page = watched.page
    rows = [
        {"properties": {"Name": f"Lead {n:02}"}, "content": f"Lead {n} wants a demo."}
        for n in range(12)
    ]
    database = _database(site, "Leads", rows)
    manual = {"task": "summary", "auto_update": False, "model": "sim:sim-1"}
    site.call(
        "POST",
        f"/v1/databases/{database['id']}/properties",
        json={"name": "Gist", "type": "ai", "ai": manual},
    )
    sign_in(page, site)
    _open(page, "Leads")
    gist = _column_id(page, "Gist")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Fill the column Gist").click()
    fill = page.locator("#fill-dialog")
    expect(fill.locator("#fill-estimate")).to_contain_text("12 cells")
    expect(fill.locator("#fill-estimate")).to_contain_text("input")
    fill.get_by_role("button", name="Start fill").click()
    expect(fill.locator("#fill-progress-text")).to_contain_text("Done: 12 filled", timeout=60_000)
    assert int(fill.locator("#fill-progress").get_attribute("value") or 0) == 12
    screenshot(page, "fill-column-desktop")
    fill.get_by_role("button", name="Close").click()
    filled = page.locator(f'td[data-property="{gist}"][data-status="filled"]')
    expect(filled).to_have_count(12)

    # A refill of everything, slowed down, cancelled while it runs.
    site.sim.configure(latency_ms=4000)
    try:
        page.get_by_role("button", name="Fill the column Gist").click()
        fill.get_by_label("Which cells").select_option("all")
        expect(fill.locator("#fill-estimate")).to_contain_text("12 cells")
        fill.get_by_role("button", name="Start fill").click()
        expect(fill.locator("#fill-progress-text")).to_contain_text("of 12")
        fill.get_by_role("button", name="Cancel run").click()
        expect(fill.locator("#fill-progress-text")).to_contain_text("Cancelled")
    finally:
        site.sim.configure(latency_ms=SIM_LATENCY_MS)
    # Cells whose fill had not started are back as they were: filled, not pending forever.
    expect(page.locator(f'td[data-property="{gist}"][data-status="pending"]')).to_have_count(
        0, timeout=30_000
    )
    assert page.evaluate("window.__sameDocument") is True
    assert watched.problems == []


def test_an_economy_fill_goes_through_the_batch_api_from_the_dialog(
    site: Site, watched: Watched
) -> None:
    page = watched.page
    rows = [
        {"properties": {"Name": f"Ticket {n:02}"}, "content": f"Ticket {n}: the export fails."}
        for n in range(6)
    ]
    database = _database(site, "Tickets", rows)
    manual = {"task": "summary", "auto_update": False, "model": "sim:sim-1"}
    site.call(
        "POST",
        f"/v1/databases/{database['id']}/properties",
        json={"name": "Digest", "type": "ai", "ai": manual},
    )
    sign_in(page, site)
    _open(page, "Tickets")
    digest = _column_id(page, "Digest")
    page.get_by_role("button", name="Fill the column Digest").click()
    fill = page.locator("#fill-dialog")
    expect(fill.locator("#fill-economy-cost")).to_contain_text("50 % off")
    fill.locator('input[name="fill-mode"][value="economy"]').check()
    expect(fill.locator("#fill-estimate")).to_contain_text("6 cells")
    fill.get_by_role("button", name="Start fill").click()
    expect(fill.locator("#fill-progress-text")).to_contain_text("at the provider")
    screenshot(page, "fill-column-economy")
    expect(fill.locator("#fill-progress-text")).to_contain_text("Done: 6 filled", timeout=60_000)
    fill.get_by_role("button", name="Close").click()
    filled = page.locator(f'td[data-property="{digest}"][data-status="filled"]')
    expect(filled).to_have_count(6)
    assert [r for r in site.sim.requests if r.get("batch_id")], "no batch request was made"
    assert watched.problems == []


def test_the_table_works_at_phone_width_and_by_keyboard(site: Site, watched: Watched) -> None:
    page = watched.page
    rows = [
        {
            "properties": {"Name": "Chen", "Status": "Open", "Score": 3},
            "content": "陈先生希望导出更快。",
        },
        {"properties": {"Name": "Dana"}, "content": "Dana möchte einen dunklen Modus."},
    ]
    database = _database(site, "Phone view", rows)
    site.call(
        "POST",
        f"/v1/databases/{database['id']}/properties",
        json={"name": "Summary", "type": "ai", "ai": {"task": "summary", "model": "sim:sim-1"}},
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, site)
    _open(page, "Phone view")
    summary = _column_id(page, "Summary")
    expect(page.locator(f'td[data-property="{summary}"][data-status="filled"]')).to_have_count(2)
    expect(_cell(page, "Chen", summary)).to_contain_text("导出")
    # The page itself never scrolls sideways; the table scrolls inside its box, and its
    # columns keep a readable width instead of a few letters per line.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = _cell(page, "Chen", summary).bounding_box()
    assert box is not None and box["width"] >= 140, box
    screenshot(page, "table-phone")

    # Keyboard only: tab to the Score of Chen, edit it, Enter saves; Escape cancels an edit.
    score = _column_id(page, "Score")
    target = _cell(page, "Chen", score).get_by_role("button")
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Score cell")
    page.keyboard.press("Enter")
    editor = page.get_by_label("Score of Chen")
    expect(editor).to_be_focused()
    editor.fill("5")
    page.keyboard.press("Enter")
    expect(_cell(page, "Chen", score)).to_have_text("5")
    expect(_cell(page, "Chen", score).get_by_role("button")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Score of Chen").fill("9")
    page.keyboard.press("Escape")
    expect(_cell(page, "Chen", score)).to_have_text("5")

    # An AI cell's details open with Enter and close with Escape, focus returning to the cell.
    cell_button = _cell(page, "Dana", summary).get_by_role("button")
    cell_button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cell-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#cell-dialog")).to_be_hidden()
    expect(cell_button).to_be_focused()

    # A fill the provider refuses shows as an error, its message on hover and in the details;
    # "Fill again" recovers it.
    site.sim.configure(schedule=["400"])
    site.call(
        "POST",
        f"/v1/databases/{database['id']}/rows",
        json={"properties": {"Name": "Eve"}, "content": "Eve."},
    )
    eve = _cell(page, "Eve", summary)
    expect(eve).to_have_attribute("data-status", "error")
    assert "400" in (eve.get_by_role("button").get_attribute("title") or "")
    eve.get_by_role("button").click()
    details = page.locator("#cell-dialog")
    expect(details.locator("#cell-state")).to_have_text("The fill failed.")
    expect(details.locator("#cell-value")).to_contain_text("400")
    details.get_by_role("button", name="Fill again").click()
    expect(eve).to_have_attribute("data-status", "filled")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Eval reports").click()
    expect(page.get_by_role("heading", name="Prompt eval reports")).to_be_visible()
    assert watched.problems == []


def test_cells_explain_themselves_and_controls_show_only_when_they_apply(
    site: Site, watched: Watched
) -> None:
    """Issue 24: an error cell says why inline; a simulated classification (whose value must be
    one of the options, so it cannot start with "[sim]") is marked; the legend names every
    state; "Cancel run" is not offered before a run exists."""
    page = watched.page
    database = _database(site, "Explained", [{"properties": {"Name": "Ivo"}, "content": "Great!"}])
    mood_column = {
        "name": "Mood",
        "type": "ai",
        "ai": {
            "task": "classify",
            "model": "sim:sim-1",
            "output": {"type": "select", "options": ["Positive", "Negative"]},
        },
    }
    # The provider refuses the next request as malformed (400: never retried): an error cell.
    site.sim.configure(schedule=["400"])
    broken_column = {
        "name": "Broken",
        "type": "ai",
        "ai": {"task": "summary", "model": "sim:sim-1"},
    }
    site.call("POST", f"/v1/databases/{database['id']}/properties", json=broken_column)
    sign_in(page, site)
    _open(page, "Explained")
    broken = _column_id(page, "Broken")
    error = page.locator(f'td[data-property="{broken}"][data-status="error"]')
    expect(error).to_have_count(1, timeout=60_000)
    expect(error).to_contain_text("Error: ")
    assert len(error.inner_text()) > len("Error: ") + 5  # a reason, not just the word
    site.call("POST", f"/v1/databases/{database['id']}/properties", json=mood_column)
    _reload(page)
    expect(page.locator("#live")).to_have_text(re.compile("Live"))
    mood = _column_id(page, "Mood")
    filled = page.locator(f'td[data-property="{mood}"][data-status="filled"]')
    expect(filled).to_have_count(1)
    expect(filled.locator(".sim-mark")).to_have_text("sim")
    legend = page.locator(".legend")
    for state in ("filled by AI", "written by a person", "out of date", "the fill failed"):
        expect(legend).to_contain_text(state)
    screenshot(page, "cells-explained")
    page.get_by_role("button", name="Fill the column Mood").click()
    fill = page.locator("#fill-dialog")
    expect(fill.get_by_role("button", name="Start fill")).to_be_visible()
    expect(fill.locator("#fill-cancel")).to_be_hidden()
    assert watched.problems == []


def test_every_script_we_claim_has_a_font_in_the_screenshots(site: Site, watched: Watched) -> None:
    """Issue 24: Thai, Devanagari, Arabic and emoji were boxes in the screenshots (only CJK
    fonts were installed). The fonts are a precondition here, and the table is shown with a
    row in each script."""
    for language in ("th", "hi", "ar", "ja"):
        found = subprocess.run(["fc-list", f":lang={language}"], capture_output=True, text=True)
        assert found.stdout.strip(), f"no font for {language}: install Debian's fonts-noto-core"
    emoji = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
    assert "color emoji" in emoji.lower(), "no emoji font: install fonts-noto-color-emoji"
    page = watched.page
    pages = {
        "สมชาย": "ลูกค้าต้องการส่งออกใบแจ้งหนี้ได้เร็วขึ้น",
        "प्रिया": "ग्राहक को मार्च का चालान चाहिए।",
        "ليلى": "العميلة تريد الوضع الداكن في التطبيق.",
        "Kai 🎉": "Loves the new search 🚀✨",
    }
    rows = [{"properties": {"Name": name}, "content": text} for name, text in pages.items()]
    _database(site, "Scripts", rows)
    sign_in(page, site)
    _open(page, "Scripts")
    for name in pages:
        expect(page.locator("#table tbody")).to_contain_text(name)
    screenshot(page, "table-scripts")
    assert watched.problems == []
