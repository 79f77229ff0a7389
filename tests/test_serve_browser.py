"""`build.py serve` in a real browser: an open page reloads by itself after a save."""
from __future__ import annotations

from playwright.sync_api import Page, expect

# `served` is module-scoped, so this module gets its own server on its own copy of the project.
from test_serve import SOURCE, reword, served  # noqa: F401


def test_an_open_page_reloads_by_itself_after_a_save(served, page: Page):
    # livereload.js fires this event once its websocket is up; only then can a reload reach the page.
    page.add_init_script("document.addEventListener('LiveReloadConnect', () => { window.liveReloadUp = true; })")
    page.goto(f"http://127.0.0.1:{served.port}/404/")
    page.wait_for_function("window.liveReloadUp === true")
    page.evaluate("window.notReloadedYet = true")
    main = page.locator("main")
    expect(main).not_to_contain_text("(seen in the browser)")

    reword(served.project / SOURCE, "seen in the browser")

    expect(main).to_contain_text("(seen in the browser)", timeout=10_000)
    assert page.evaluate("window.notReloadedYet") is None  # a new document, not the old one patched
