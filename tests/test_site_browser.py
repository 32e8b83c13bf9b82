"""The built study site in a real browser (Debian's chromium through playwright), served from 127.0.0.1:
math rendered by the local KaTeX, the answer block opening, search, the self-test, no console errors, and
no request to any other host. A missing chromium is a failure, never a skip: this test is the proof that
the site works offline."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from quiz.deck import DEFAULT_QUESTIONS
from quiz.site import Options, build_site

CHROMIUM = Path("/usr/bin/chromium")
# The card page's screenshot is kept where QUIZ_TEST_ARTIFACTS says (CI may collect it), else in the test's tmp_path.
ARTIFACTS_ENV = "QUIZ_TEST_ARTIFACTS"
# Two real cards with real proofs, math and figures; the full bank would only make the test slower.
CARDS = {"sqrt-dk-scaling": "scaling", "causal-masking": "masking"}
CARD_URL = "scaling/sqrt-dk-scaling/"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _copy_cards(target: Path) -> dict[str, dict]:
    """The two exemplar cards, with `related` trimmed to the cards that are copied."""
    cards = {}
    for card_id, topic in CARDS.items():
        data = yaml.safe_load((DEFAULT_QUESTIONS / topic / f"{card_id}.yaml").read_text(encoding="utf-8"))
        data["related"] = [other for other in data.get("related", []) if other in CARDS]
        (target / topic).mkdir(parents=True, exist_ok=True)
        (target / topic / f"{card_id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        cards[card_id] = data
    return cards


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict]]]:
    """The site built from the two cards into a temporary folder and served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    cards = _copy_cards(root / "questions")
    build_site(root / "out", root / "docs", Options(questions=root / "questions", cache=root / "cache"))
    handler = functools.partial(_QuietHandler, directory=str(root / "out"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", cards
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # keep pytest's output for failures
        pass


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Visit:
    """A fresh browser context that records every request URL and every console error."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="networkidle")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if urlparse(url).hostname != "127.0.0.1"]


@pytest.fixture
def visit(browser, site):
    base, _ = site
    v = Visit(browser, base)
    yield v
    v.context.close()


def test_card_page_renders_math_with_local_katex_and_no_raw_delimiters(visit, tmp_path):
    visit.open(CARD_URL)
    page = visit.page
    page.wait_for_selector(".md-content .katex")
    spans = page.locator(".md-content .arithmatex")
    rendered = page.locator(".md-content .arithmatex .katex")
    assert spans.count() > 5
    assert rendered.count() == spans.count(), "every math span is rendered by KaTeX"
    # Visible prose only: code blocks may legitimately contain dollars or backslashes.
    prose = page.evaluate(
        """() => { const article = document.querySelector('.md-content article').cloneNode(true);
                  article.querySelectorAll('pre, code, .katex-mathml').forEach(e => e.remove());
                  return article.innerText; }"""
    )
    assert "$" not in prose
    assert "\\(" not in prose and "\\[" not in prose
    assert not visit.errors, visit.errors
    assert not visit.foreign_requests(), visit.foreign_requests()
    artifacts = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "site-card-page.png"), full_page=True)


def test_katex_fonts_and_figures_load_from_the_site(visit):
    visit.open(CARD_URL)
    visit.page.wait_for_selector(".md-content .katex")
    visit.page.evaluate("document.fonts.ready")
    assert any(url.endswith(".woff2") for url in visit.requests), "KaTeX fonts come from the local copy"
    figure = visit.page.locator(".proof-figure img").first
    figure.scroll_into_view_if_needed()
    assert visit.page.evaluate("(img) => img.complete && img.naturalWidth > 0", figure.element_handle())
    assert not visit.foreign_requests(), visit.foreign_requests()


def test_answer_block_is_closed_until_clicked(visit, site):
    _, cards = site
    visit.open(CARD_URL)
    answer = visit.page.locator("details", has=visit.page.locator("summary", has_text="Answer")).first
    assert answer.get_attribute("open") is None
    first_words = " ".join(cards["sqrt-dk-scaling"]["answer"].split()[:4])
    assert not visit.page.get_by_text(first_words).first.is_visible()
    answer.locator("summary").click()
    assert answer.get_attribute("open") is not None
    assert visit.page.get_by_text(first_words).first.is_visible()


def test_search_finds_a_card_by_a_word_from_its_question(visit, site):
    _, cards = site
    others = " ".join(cards["causal-masking"]["question"].split()).lower()
    word = next(
        w
        for w in re.findall(r"[A-Za-z]{7,}", cards["sqrt-dk-scaling"]["question"])
        if w.lower() not in others and w.lower() not in cards["causal-masking"]["title"].lower()
    )
    visit.open("")
    # Material ignores typing until its search worker has loaded the index, and then says so.
    visit.page.wait_for_function(
        "document.querySelector('.md-search-result__meta')?.textContent.includes('Type to start searching')"
    )
    # Typed key by key, as a reader would: a programmatic fill can land before Material listens to the box.
    box = visit.page.locator("input.md-search__input")  # on a wide window the search box is in the header
    box.click()
    box.press_sequentially(word, delay=30)
    result = visit.page.locator(".md-search-result__item a[href*='sqrt-dk-scaling']").first
    result.wait_for(state="visible", timeout=15_000)
    assert not visit.errors, visit.errors
    assert not visit.foreign_requests(), visit.foreign_requests()


def test_self_test_flips_a_card_and_keeps_progress_across_reloads(visit):
    visit.open("self-test/")
    page = visit.page
    card = page.locator(".flip-card")
    card.wait_for()
    page.wait_for_selector(".flip-card .katex", state="attached")  # the question's math is rendered too
    knew = page.locator("button.selftest-knew")
    assert knew.is_disabled(), "no verdict before the answer has been seen"
    card.click()
    assert "flipped" in card.get_attribute("class")
    knew.click()
    assert page.locator(".selftest-count").inner_text().startswith("Known: 1 of 2")
    visit.open("self-test/")
    assert page.locator(".selftest-count").inner_text().startswith("Known: 1 of 2")
    assert not visit.errors, visit.errors
    assert not visit.foreign_requests(), visit.foreign_requests()


def test_palette_toggle_switches_to_the_dark_scheme(visit):
    visit.open(CARD_URL)
    before = visit.page.locator("body").get_attribute("data-md-color-scheme")
    visit.page.locator("form[data-md-component='palette'] label:visible").first.click()
    after = visit.page.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}


def test_errata_links_to_the_claim_that_refutes_each_myth(visit):
    visit.open("errata/")
    link = visit.page.locator("a[href*='causal-masking/#claim-each_position_attends_to_itself_and_the_past']").first
    link.click()
    visit.page.wait_for_url(re.compile(r"causal-masking/#claim-each_position_attends_to_itself_and_the_past$"))
    assert visit.page.locator("#claim-each_position_attends_to_itself_and_the_past").is_visible()
