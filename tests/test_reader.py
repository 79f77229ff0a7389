"""What a reader meets first (issue 23): summaries cut at a real sentence end, quotations grouped by what they
say, a usable name for placeholder phrases, and quiet pages (no disagreement box for omission, no useless link box)."""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from conftest import ROOT, QuietHandler, run_build
from httpref.load import load
from httpref.merge import Quote, SourceRef, group_quotes, merge
from httpref.text import ABBREVIATIONS, first_sentence, words_key
from httpref.pages import BUNDLE, HOSTED, Options
from httpref.render import Renderer, compact_css
from httpref.validate import validate
from test_site import pages, parse_html  # noqa: F401  (pages is a fixture)


# --------------------------------------------------------------------------- summaries


@pytest.mark.parametrize("text, sentence", [
    ("The method specified in the request (e.g. POST, GET, DELETE) is not allowed. More.",
     "The method specified in the request (e.g. POST, GET, DELETE) is not allowed."),
    ("Use a safe method, i.e. GET or HEAD. Then retry.", "Use a safe method, i.e. GET or HEAD."),
    ("Headers, cookies etc. Are not the point? No.", "Headers, cookies etc. Are not the point?"),
    ("A proxy (it may say \"Retry. Later.\" to you) answers. Then stop.", "A proxy (it may say \"Retry. Later.\" to you) answers."),
    ("It says “Wait. Now.” twice. Then stop.", "It says “Wait. Now.” twice."),
    ("Compare 301 vs. 308 here. Then stop.", "Compare 301 vs. 308 here."),
    ("One sentence only", "One sentence only"),
])
def test_first_sentence_ends_at_a_real_sentence_end(text, sentence):
    assert first_sentence(text) == sentence


def summary_problems(summary: str) -> list[str]:
    problems = []
    if not re.search(r"[.!?][\"”’)]*\Z", summary):
        problems.append("does not end with sentence punctuation")
    if summary.count("(") != summary.count(")"):
        problems.append("unbalanced parentheses")
    if summary.rsplit(None, 1)[-1].casefold() in ABBREVIATIONS:
        problems.append("ends with an abbreviation")
    return problems


def test_every_summary_is_a_whole_sentence(reference):
    problems = {code.number: summary_problems(code.summary.summary) for code in reference.codes}
    assert {number: found for number, found in problems.items() if found} == {}


def test_every_summary_the_site_shows_is_a_whole_sentence(pages):
    """The lists' summary cells and every code page's meta description."""
    shown = [(path, cell.text().strip()) for path, page in pages.items()
             for cell in page.find_all("td", cls="col-summary")]
    shown += [(path, page.find("meta", name="description").attrs["content"].split(": ", 1)[1])
              for path, page in pages.items() if re.fullmatch(r"\d{3}/index\.html", path)]
    assert len(shown) > 82 * 2
    assert [(path, text) for path, text in shown if summary_problems(text)] == []


def test_405s_summary_is_not_cut_at_e_g(pages):
    row = pages["index.html"].find(id="405")
    assert "(e.g. POST, GET, DELETE) is not allowed for the resource." in row.text()


# --------------------------------------------------------------------------- quotations grouped by what they say


def quote(source_id: str, name: str, description: str) -> Quote:
    return Quote(SourceRef(source_id, "reference", source_id, source_id, None), name, description)


def test_same_words_share_a_quotation_and_contained_words_join_the_longer():
    quotes = (quote("a", "Not Found", "The server cannot find the requested resource."),
              quote("b", "Not Found", "The server has not found anything."),
              quote("c", "Not found", "The server can not find the requested resource"),
              quote("d", "Not Found", "The server can not find the requested resource. This is common."),
              quote("e", "Not Found", "the server CANNOT find the requested resource!"))
    groups = group_quotes(quotes, "Not Found")
    assert [(g.shown.source.id, [q.source.id for q in g.same], [q.source.id for q in g.part]) for g in groups] == [
        ("d", [], ["a", "c", "e"]), ("b", [], [])]  # in the order of their first member
    assert [q.source.id for q in groups[0].reworded] == ["a", "c", "e"]
    assert groups[0].renamed == ()  # "Not found" is the page's name, in another case


def test_a_quotation_contained_in_another_only_in_part_of_a_word_stays_its_own():
    quotes = (quote("a", "X", "Request timeout."), quote("b", "X", "Request timeouts happen."))
    assert len(group_quotes(quotes, "X")) == 2


def test_identical_words_show_once_with_nothing_to_unfold():
    quotes = (quote("a", "OK", "Fine."), quote("b", "Okay", "Fine."))
    (group,) = group_quotes(quotes, "OK")
    assert ([q.source.id for q in group.same], group.reworded, group.renamed) == (["b"], (), ("b",))


def test_404_shows_the_server_can_not_find_once_for_three_sources(pages, reference):
    page = pages["404/index.html"]
    quotations = page.find_all("figure", cls="quote")
    said = [q for q in quotations if "can not find the requested resource" in q.find("blockquote").text()]
    assert len(said) == 1 and len(quotations) == 3
    anchors = {e.attrs["id"] for e in said[0].iter() if "id" in e.attrs}
    assert anchors == {"source-response-codes", "source-api-design", "source-code-table"}
    caption = said[0].find("figcaption")
    assert {"../sources/api-design/", "../sources/code-table/", "../sources/response-codes/"} <= set(caption.hrefs())
    assert page.find_all(cls="quote-name") == []  # every source calls it "Not Found", as the page does
    # Every source's exact words stay on the page (a click away) and in the JSON.
    code = next(code for code in reference.codes if code.number == 404)
    exact = [dd.text().strip() for dd in said[0].find_all("dd")]
    assert [q.description for q in code.quotes if q.source.id in ("api-design", "code-table")] == exact


def test_the_json_keeps_one_item_per_source_with_its_exact_words(site_dir, reference):
    code = next(code for code in reference.codes if code.number == 404)
    data = json.loads((site_dir / "api" / "404.json").read_text(encoding="utf-8"))
    assert [(s["id"], s["name"], s["description"]) for s in data["sources"]] == [
        (q.source.id, q.name, q.description) for q in code.quotes]


# --------------------------------------------------------------------------- a name for placeholder phrases


def test_418_is_im_a_teapot_with_the_registry_phrase_beside_it(pages, site_dir):
    page = pages["418/index.html"]
    assert page.find("h1", id="top").find(cls="code-phrase").text() == "I'm a teapot"
    assert page.find("title").text().startswith("418 I'm a teapot")
    assert page.find(cls="registry-phrase").text() == "“(Unused)” in the IANA registry; reserved"
    assert page.find(id="markdown-link").text() == "[418 I'm a teapot](/418/)"
    for listing in ("index.html", "4xx/index.html"):
        assert "I'm a teapot" in pages[listing].find(id="418").text()
    index = (site_dir / "search-index.js").read_text(encoding="utf-8")
    record = json.loads(re.search(r'\{[^{}]*"c":418,[^{}]*\}', index).group(0))
    assert record["p"] == "I'm a teapot" and "(Unused)" in record["a"]
    data = json.loads((site_dir / "api" / "418.json").read_text(encoding="utf-8"))
    assert (data["phrase"], data["name"]) == ("(Unused)", "I'm a teapot")
    # Who uses the name is still said: it stays listed with its users.
    aliases = page.find("ul", cls="aliases").text()
    assert "I'm a teapot" in aliases and "RFC 2324" in aliases


def test_a_common_name_must_be_one_the_entry_says_who_uses(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    registry = content / "registry.yaml"
    registry.write_text(registry.read_text(encoding="utf-8").replace("common_name: I'm a teapot",
                                                                      "common_name: Teapot Error"), encoding="utf-8")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    assert re.search(r"registry\.yaml:\d+:\d+: error: common_name 'Teapot Error' is none of", result.stdout + result.stderr)


# --------------------------------------------------------------------------- quieter pages


def test_leaving_a_code_out_is_a_plain_line_not_a_disagreement(pages, reference):
    code = next(code for code in reference.codes if code.number == 429)
    assert code.omitted_by and len(code.names) == 1
    page = pages["429/index.html"]
    assert page.find_all(cls="disagree") == []
    assert page.find("p", cls="not-listed").text().startswith("Not listed by ")


def test_names_that_differ_still_show_where_the_sources_disagree(pages):
    disagreement = pages["306/index.html"].find("p", cls="disagree").text()
    assert "“(Unused)”" in disagreement and "“Switch Proxy”" in disagreement


def render_404(options: Options) -> str:
    return Renderer(jobs=1).render(merge(validate(load(ROOT / "content"))), options)["404/index.html"].decode()


def test_the_bundle_has_no_link_box_unless_a_base_url_gives_the_hosted_address():
    assert 'class="link-box"' not in render_404(Options(BUNDLE))
    hosted = parse_html(render_404(Options(BUNDLE, "https://example.org/http/")))
    assert hosted.find(id="permalink").text() == "https://example.org/http/404/"
    assert 'class="link-box"' in render_404(Options(HOSTED))


# --------------------------------------------------------------------------- the first screen, in Chromium

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DEFINITIONS = {  # the RFCs' opening sentences, added to a copy of the content when it has none yet
    404: '{spec: RFC 9110, section: 15.5.5, excerpt: "The 404 (Not Found) status code indicates that the origin '
         'server did not find a current representation for the target resource or is not willing to disclose that '
         'one exists."}',
    429: '{spec: RFC 6585, section: "4", excerpt: "The 429 status code indicates that the user has sent too many '
         'requests in a given amount of time (\\"rate limiting\\")."}',
}


@pytest.fixture(scope="module")
def defined_site(tmp_path_factory) -> Iterator[str]:
    """The real content with definitions for 404 and 429, built and served over http; its URL."""
    work = tmp_path_factory.mktemp("defined")
    shutil.copytree(ROOT / "content", work / "content")
    semantics = work / "content" / "semantics.yaml"
    text = semantics.read_text(encoding="utf-8")
    for number, definition in DEFINITIONS.items():
        start = text.index(f"- code: {number}\n")
        end = text.find("\n- code:", start)
        if "definition:" not in text[start:end]:
            text = text.replace(f"- code: {number}\n", f"- code: {number}\n  definition: {definition}\n", 1)
    semantics.write_text(text, encoding="utf-8")
    folder = work / "site"
    result = run_build("build", "--content", str(work / "content"), "--out", str(folder))
    assert result.returncode == 0, result.stderr
    handler = functools.partial(QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}/"
        server.shutdown()


def bottom(page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    return box["y"] + box["height"]


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_definition_and_summary_are_on_the_first_screen(browser, defined_site, device):
    context = browser.new_context(**device)
    try:
        page = context.new_page()
        for number in (404, 429):
            page.goto(f"{defined_site}{number}/")
            assert DEFINITIONS[number].split('excerpt: "')[1][:30] in page.locator(".definition").inner_text()
            # 429's summary repeats its definition's words, so only 404 shows one (see the test below)
            expect(page.locator(".summary")).to_have_count(1 if number == 404 else 0)
            for selector in ("h1", ".status-line", ".definition", ".summary")[:4 if number == 404 else 3]:
                assert bottom(page, selector) <= device["viewport"]["height"], (number, selector)
        for number in (418, 522):  # no RFC sentence: the owner's words or the summary open the page
            page.goto(f"{defined_site}{number}/")
            assert bottom(page, ".definition, .summary >> nth=0") <= device["viewport"]["height"], number
    finally:
        context.close()


def test_the_phone_header_is_compact_and_shows_no_keyboard_hint(browser, defined_site):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(f"{defined_site}429/")
        assert page.locator("header.top").bounding_box()["height"] <= 100  # was 138 px
        expect(page.locator(".key-hint")).to_be_hidden()
        assert "/" not in page.locator("#search-input").get_attribute("placeholder")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_a_desktop_shows_the_slash_hint_until_the_box_is_used(page, defined_site):
    page.set_viewport_size(DESKTOP["viewport"])
    page.goto(defined_site)
    expect(page.locator(".key-hint")).to_be_visible()
    page.locator("#search-input").focus()
    expect(page.locator(".key-hint")).to_be_hidden()


def test_the_hidden_pilcrow_never_takes_a_line_of_its_own(browser, defined_site):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        for number in (104, 412, 424, 429):  # headings that fill their last line at 390 px
            page.goto(f"{defined_site}{number}/")
            heights = page.evaluate("""() => { const h1 = document.querySelector('h1');
                const before = h1.getBoundingClientRect().height;
                h1.querySelector('.header-anchor').remove();
                return [before, h1.getBoundingClientRect().height]; }""")
            assert heights[0] == heights[1], number
    finally:
        context.close()


def test_the_inlined_stylesheet_drops_only_what_css_ignores():
    css = '''/* note */
.a :focus, .b > .c + d ~ e { content: " — "; margin: 0 0.5rem; }
@media (hover: none), (pointer: coarse) {
  .key-hint { width: calc(100% + 4px); }
}'''
    assert compact_css(css) == ('.a :focus,.b>.c + d~e{content:" — ";margin:0 .5rem}'
                                '@media (hover:none),(pointer:coarse){.key-hint{width:calc(100% + 4px)}}')


def test_a_summary_the_definition_already_says_is_not_repeated(pages, reference):
    shown = 0
    for code in reference.codes:
        page = pages[f"{code.number}/index.html"]
        summaries = page.find_all("p", cls="summary")
        if code.definition and words_key(code.summary.summary) in words_key(code.definition.text):
            assert summaries == [], code.number
        else:
            assert len(summaries) == 1, code.number
            shown += 1
    assert 0 < shown < len(reference.codes)


def test_an_owners_words_that_are_the_definition_are_not_printed_twice(site_dir):
    """/522/'s definition is Cloudflare's whole description: its quotation keeps its anchor and links, not the words."""
    html = (site_dir / "522" / "index.html").read_text(encoding="utf-8")
    main = html.split("<main", 1)[1]
    assert main.count("times out contacting the origin web server") == 1
    figure = main.split('id="source-cloudflare-5xx"', 1)[1].split("</figure>", 1)[0]
    assert "original</a>" in figure and "definition at the top of this page" in figure
