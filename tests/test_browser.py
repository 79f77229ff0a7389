"""What a reader does with the site in headless Chromium: search, theme, copy buttons, keyboard, no JavaScript,
and search from the offline bundle opened from disk."""
from __future__ import annotations

import functools
import http.server
import re
import threading
import zipfile

import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import QuietHandler, ServedSite, run_build

NGINX_CODES = {444, 494, 495, 496, 497, 499}


def search(page: Page, query: str) -> list[int]:
    """Type `query` into the search box; the code numbers listed, in order."""
    page.locator("#search-input").press_sequentially(query)
    expect(page.locator("#search-results")).to_be_visible()
    return [int(number) for number in page.locator("#search-results [role=option] .num").all_inner_texts()]


def selected_option(page: Page) -> str:
    """The id of the one result marked selected, checked against what the box tells assistive technology."""
    selected = page.locator("#search-results [aria-selected=true]")
    expect(selected).to_have_count(1)
    option_id = selected.get_attribute("id")
    expect(page.locator("#search-input")).to_have_attribute("aria-activedescendant", option_id)
    return option_id


@pytest.fixture()
def home(page: Page, served_site: ServedSite) -> Page:
    page.goto(served_site.url)
    return page


def test_typing_404_lists_it_first_and_enter_opens_it(home: Page, served_site: ServedSite):
    assert search(home, "404")[0] == 404
    home.keyboard.press("Enter")
    expect(home).to_have_url(served_site.url + "404/")
    expect(home.locator("h1")).to_contain_text("404")


@pytest.mark.parametrize("query, code", [
    ("teapot", 418),     # an alias
    ("too large", 413),  # the canonical phrase
    ("payload", 413),    # an older name
])
def test_search_finds_a_code_by_its_words(home: Page, query: str, code: int):
    assert search(home, query)[0] == code


@pytest.mark.parametrize("query, code", [
    ("StatusTooManyRequests", 429),  # Go
    ("PAYLOAD_TOO_LARGE", 413),      # Rust
    ("HTTP_ENTITY_TOO_LARGE", 413),  # Java
])
def test_search_finds_a_code_by_its_constant(home: Page, query: str, code: int):
    assert search(home, query)[0] == code
    expect(home.locator("#search-results [role=option] .hint").first).to_contain_text(query)


def results(page: Page, query: str) -> list[str]:
    """Type `query`; each result as the page it links to ("429/", "compare/redirects/"), in order."""
    page.locator("#search-input").press_sequentially(query)
    expect(page.locator("#search-results")).to_be_visible()
    root = page.url
    return [href.removeprefix(root) for href in page.locator("#search-results a[role=option]").evaluate_all(
        "links => links.map(link => link.href)")]


@pytest.mark.parametrize("query, first", [
    ("rate limit", "429/"),      # a standard code before 420 Enhance Your Calm, which matches as well
    ("limit rate", "429/"),      # words in any order
    ("forbiden", "403/"),        # one typo in a long word
    ("unauthorised", "401/"),    # the British spelling
    ("not found", "404/"),
])
def test_search_puts_the_code_people_mean_first(home: Page, query: str, first: str):
    assert results(home, query)[0] == first


def test_search_for_redirect_lists_the_redirects_and_their_pages(home: Page):
    found = results(home, "redirect")
    assert {"301/", "302/", "303/", "307/", "308/"} <= set(found)
    assert "compare/redirects/" in found


def test_search_finds_codes_by_a_header_field_they_use(home: Page):
    found = results(home, "Retry-After")
    assert {"429/", "503/"} <= set(found)
    expect(home.locator("#search-results a[role=option] .hint").first).to_contain_text("Retry-After")


def test_search_finds_comparison_class_and_source_pages(home: Page):
    assert "compare/overload/" in results(home, "gateways and overload")
    home.locator("#search-input").fill("")
    assert "4xx/" in results(home, "client errors")
    home.locator("#search-input").fill("")
    assert "sources/code-table/" in results(home, "code-table")


def test_search_results_are_links_with_a_summary(home: Page, served_site: ServedSite):
    assert results(home, "teapot")[0] == "418/"
    first = home.locator("#search-results a[role=option]").first
    expect(first.locator(".summary")).not_to_be_empty()
    with home.context.expect_page() as opened:  # a real link: Ctrl+click opens it in a new tab
        first.click(modifiers=["Control"])
    expect(opened.value).to_have_url(served_site.url + "418/")


def test_search_finds_codes_by_origin(home: Page):
    numbers = search(home, "nginx")
    assert numbers[0] in NGINX_CODES
    assert {444, 499} <= set(numbers)


def test_arrow_keys_move_the_selection_and_enter_opens_the_selected_code(home: Page, served_site: ServedSite):
    numbers = search(home, "40")
    assert len(numbers) > 2
    assert selected_option(home) == "search-result-0"
    home.keyboard.press("ArrowDown")
    home.keyboard.press("ArrowDown")
    assert selected_option(home) == "search-result-2"
    home.keyboard.press("ArrowUp")
    assert selected_option(home) == "search-result-1"
    home.keyboard.press("ArrowUp")
    home.keyboard.press("ArrowUp")
    assert selected_option(home) == f"search-result-{len(numbers) - 1}"  # wraps round to the last
    home.keyboard.press("ArrowDown")
    home.keyboard.press("ArrowDown")
    home.keyboard.press("Enter")
    expect(home).to_have_url(f"{served_site.url}{numbers[1]}/")


def test_clicking_a_result_opens_it(home: Page, served_site: ServedSite):
    search(home, "teapot")
    home.locator("#search-results [role=option]").first.click()
    expect(home).to_have_url(served_site.url + "418/")


def test_slash_focuses_the_search_box_without_typing_into_it(home: Page):
    home.locator("main h1").click()
    home.keyboard.press("/")
    expect(home.locator("#search-input")).to_be_focused()
    expect(home.locator("#search-input")).to_have_value("")


def test_escape_clears_the_search(home: Page):
    search(home, "teapot")
    home.keyboard.press("Escape")
    expect(home.locator("#search-input")).to_have_value("")
    expect(home.locator("#search-results")).to_be_hidden()
    expect(home.locator("#search-input")).to_have_attribute("aria-expanded", "false")


def test_theme_toggle_switches_and_is_remembered_across_reloads(page: Page, served_site: ServedSite):
    page.emulate_media(color_scheme="light")
    page.goto(served_site.url + "413/")
    html, body, toggle = page.locator("html"), page.locator("body"), page.locator(".theme-toggle")
    light_background = body.evaluate("element => getComputedStyle(element).backgroundColor")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark_background = body.evaluate("element => getComputedStyle(element).backgroundColor")
    assert dark_background != light_background

    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(body).to_have_css("background-color", dark_background)

    toggle.click()
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    expect(body).to_have_css("background-color", light_background)


def test_copy_buttons_put_the_permalink_and_markdown_link_on_the_clipboard(browser: Browser,
                                                                           served_site: ServedSite):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(served_site.url + "413/")
        permalink = served_site.url + "413/"
        for copies, label, expected in [("permalink", "Copy URL", permalink),
                                        ("markdown-link", "Copy Markdown", f"[413 Content Too Large]({permalink})"),
                                        ("sphinx-role", "Copy Sphinx role", ":ref:`http-413`")]:
            button = page.locator(f"button[data-copy={copies}]")
            expect(button).to_have_text(label)
            button.click()
            expect(button).to_have_text("Copied")
            assert page.evaluate("() => navigator.clipboard.readText()") == expected
    finally:
        context.close()


def test_without_a_base_url_the_link_box_shows_the_address_the_page_is_served_at(page: Page, site_dir):
    # The site built with no base URL, hosted at a sub-path: the box must not claim the code lives at /413/.
    handler = functools.partial(QuietHandler, directory=str(site_dir.parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            address = f"http://127.0.0.1:{server.server_port}/{site_dir.name}/413/"
            page.goto(address)
            expect(page.locator("#permalink")).to_have_text(address)
            expect(page.locator("#markdown-link")).to_have_text(f"[413 Content Too Large]({address})")
        finally:
            server.shutdown()


def test_tab_reaches_the_heading_anchors(page: Page, served_site: ServedSite):
    page.goto(served_site.url + "413/")
    stops = page.locator("a[href], button:not([hidden]), input").count()
    for _ in range(stops):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.header-anchor')"):
            break
    else:
        pytest.fail(f"no heading anchor among the first {stops} Tab stops")
    anchor = page.locator(".header-anchor:focus")
    expect(anchor).to_have_css("opacity", "1")  # hidden until hovered or focused
    target = anchor.get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(served_site.url + "413/" + target)


def test_without_javascript_pages_read_and_navigate(browser: Browser, served_site: ServedSite):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served_site.url)
        expect(page.locator(".search")).to_be_hidden()
        expect(page.locator(".theme-toggle")).to_be_hidden()

        page.locator(".class-nav").get_by_role("link", name="4xx").click()
        expect(page).to_have_url(served_site.url + "4xx/")
        page.locator("table").get_by_role("link", name="404", exact=True).click()
        expect(page).to_have_url(served_site.url + "404/")
        expect(page.locator("h1")).to_contain_text("Not Found")
        expect(page.locator("blockquote").first).to_be_visible()
        expect(page.locator("button.copy").first).to_be_hidden()

        page.locator("a[rel=next]").click()
        expect(page).to_have_url(served_site.url + "405/")
        page.locator(".crumbs").get_by_role("link", name="4xx").click()
        expect(page).to_have_url(served_site.url + "4xx/")
        page.locator(".crumbs").get_by_role("link", name="Home").click()
        expect(page).to_have_url(served_site.url)
    finally:
        context.close()


def test_search_works_in_the_offline_bundle_opened_from_disk(page: Page, tmp_path):
    zip_path = tmp_path / "http-status-codes.zip"
    result = run_build("bundle", "--out", str(zip_path))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path)
    page.goto((tmp_path / "http-status-codes" / "index.html").as_uri())
    assert search(page, "404")[0] == 404
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/http-status-codes/404/index\.html$"))
    expect(page.locator("h1")).to_contain_text("404")


@pytest.mark.parametrize("slug", ["redirects", "no-access", "bad-input", "overload", "gone"])
def test_comparison_pages_are_cards_on_a_phone_and_end_with_advice(browser: Browser, served_site: ServedSite, slug):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{served_site.url}compare/{slug}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")  # no table scrolling sideways inside either
    assert page.locator(".compare thead").is_hidden()
    expect(page.locator(".compare td").first.locator("xpath=.")).to_have_attribute("data-label", re.compile(".+"))
    advice = page.locator(".advice li")
    assert advice.count() >= 2
    for item in advice.all():  # every sentence of the recommendation links the section it rests on
        expect(item.locator("a.cite")).to_have_attribute("href", re.compile(r"https://www\.rfc-editor\.org/rfc/rfc\d+#section-"))
    context.close()


def test_no_access_says_that_404_may_hide_a_403(served_site: ServedSite, page: Page):
    page.goto(f"{served_site.url}compare/no-access/")
    hiding = page.locator(".advice li", has_text="404 instead of 403")
    expect(hiding.locator("a.cite")).to_have_attribute("href", "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4")


def test_a_header_rule_every_compared_code_shares_is_said_once_under_the_table(served_site: ServedSite, page: Page):
    page.goto(f"{served_site.url}compare/no-access/")
    expect(page.locator(".compare td", has_text="Date")).to_have_count(0)  # it cannot decide between them
    expect(page.locator(".shared-rules")).to_contain_text("Date MUST, an origin server with a clock")
    expect(page.locator(".compare tr[id=\"401\"] td", has_text="WWW-Authenticate")).to_have_count(1)
