"""The built study site in a real browser (Debian's chromium through playwright), served from 127.0.0.1 and
opened from its folder (file://): math rendered by the local KaTeX, the answer block opening, search (and the five
searches people type), the self-test (order, no spoiler, nothing clipped), graded questions, the phone-width
overflow check, no console errors, and no request to any other host. A missing chromium is a failure, never a
skip: this test is the proof that the site works offline."""

from __future__ import annotations

import functools
import http.server
import math
import os
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from playwright.sync_api import expect

from quiz.deck import DEFAULT_QUESTIONS
from quiz.numeric import EXAMPLES
from quiz.site import Options, build_site

CHROMIUM = Path("/usr/bin/chromium")
# The card page's screenshot is kept where QUIZ_TEST_ARTIFACTS says (CI may collect it), else in the test's tmp_path.
ARTIFACTS_ENV = "QUIZ_TEST_ARTIFACTS"
# Real cards with real proofs, math and figures: the five that the five searches must find first, and two that
# compete with them (LayerNorm's proof calls torch.sqrt; RoPE scaling mentions RoPE everywhere).
CARDS = {
    "sqrt-dk-scaling": "attention-core",
    "causal-masking": "masking",
    "kv-cache-decoding": "inference",
    "rope-relative-rotation": "positional",
    "gqa-mqa-kv-cache": "inference",
    "flash-attention": "efficient-attention",
    "layer-normalization": "sublayers",
    "rope-scaling-ntk-yarn": "positional",
}
CARD_URL = "attention-core/sqrt-dk-scaling.html"
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
    _SERVED[f"http://127.0.0.1:{server.server_address[1]}/"] = str(root / "out")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", cards
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site_folder(site) -> Path:
    """The same built site, as a folder on disk."""
    base, _ = site
    return Path(_SERVED[base])


_SERVED: dict[str, str] = {}


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

    def __init__(self, browser, base: str, phone: bool = False) -> None:
        self.base = base
        if phone:
            options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
        else:
            options = {"viewport": {"width": 1280, "height": 900}}
        self.context = browser.new_context(**options, service_workers="block")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="networkidle")

    def foreign_requests(self) -> list[str]:
        return [
            url for url in self.requests if urlparse(url).scheme != "file" and urlparse(url).hostname != "127.0.0.1"
        ]


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
    visit.open("self-test.html")
    page = visit.page
    card = page.locator(".flip-card")
    card.wait_for()
    # The card's math is rendered: no raw $ delimiter is left (the first card may have no math at all, so this
    # waits for the text, not for a .katex element).
    expect(card).not_to_contain_text("$")
    knew = page.locator("button.selftest-knew")
    assert knew.is_disabled(), "no verdict before the answer has been seen"
    card.click()
    expect(card).to_have_class(re.compile(r"\bflipped\b"))
    knew.click()
    # The count is written by the page's script once the grade is taken: wait for it (a loaded machine is slow),
    # rather than read it at once.
    expect(page.locator(".selftest-count")).to_contain_text("Known: 1 of 8")
    visit.open("self-test.html")
    expect(page.locator(".selftest-count")).to_contain_text("Known: 1 of 8")
    assert not visit.errors, visit.errors
    assert not visit.foreign_requests(), visit.foreign_requests()


def test_palette_toggle_switches_to_the_dark_scheme(visit):
    visit.open(CARD_URL)
    before = visit.page.locator("body").get_attribute("data-md-color-scheme")
    visit.page.locator("form[data-md-component='palette'] label:visible").first.click()
    after = visit.page.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}


def test_errata_links_to_the_claim_that_refutes_each_myth(visit):
    visit.open("errata.html")
    link = visit.page.locator("a[href*='causal-masking.html#claim-each_position_attends_to_itself_and_the_past']").first
    link.click()
    visit.page.wait_for_url(re.compile(r"causal-masking.html#claim-each_position_attends_to_itself_and_the_past$"))
    assert visit.page.locator("#claim-each_position_attends_to_itself_and_the_past").is_visible()


# ---- Readable on a phone

# Every table and paragraph of the content column that is wider than its box, except display math that says it
# scrolls (katex-init.js marks it .scrolls, with a visible cue and an aria-label).
HIDDEN_CONTENT = """() => {
  const article = document.querySelector('.md-content article');
  const hidden = [];
  const boxes = 'table, p, li, .md-typeset__table, .md-typeset__scrollwrap, div.arithmatex, .graded';
  article.querySelectorAll(boxes).forEach(el => {
    if (el.closest('pre, .highlight, details:not([open]), .glightbox-container')) return;
    if (el.matches('div.arithmatex') || el.closest('div.arithmatex')) {
      const math = el.closest('div.arithmatex');
      if (math.scrollWidth > math.clientWidth + 1 && !math.classList.contains('scrolls'))
        hidden.push('math without a scroll cue: ' + math.textContent.slice(0, 60));
      return;
    }
    if (el.scrollWidth > el.clientWidth + 1) hidden.push(el.tagName + ': ' + el.textContent.slice(0, 60));
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1) hidden.push('the page scrolls sideways');
  return hidden;
}"""


@pytest.mark.parametrize("phone", [True, False], ids=["390px", "1280px"])
def test_no_content_column_is_hidden_on_a_phone_or_a_desktop(browser, site, phone, tmp_path):
    base, _ = site
    visit = Visit(browser, base, phone=phone)
    pages = [f"{topic}/{card}.html" for card, topic in CARDS.items()] + ["errata.html", "how-to-read.html"]
    try:
        for path in pages:
            visit.open(path)
            visit.page.wait_for_function(
                "!document.querySelector('.md-content .arithmatex') || document.querySelector('.md-content .katex')"
            )
            visit.page.evaluate("markScrollingMath(document.body)")
            assert visit.page.evaluate(HIDDEN_CONTENT) == [], path
        if phone:
            visit.open("masking/causal-masking.html")
            visit.page.wait_for_selector(".evidence td")
            # One block per claim: the Result of the first claim sits below its Claim, not beside it.
            cells = visit.page.locator(".evidence tbody tr").first.locator("td")
            first, last = cells.first.bounding_box(), cells.last.bounding_box()
            assert last["y"] > first["y"] and last["x"] + last["width"] <= 390
            artifacts = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
            artifacts.mkdir(parents=True, exist_ok=True)
            visit.page.screenshot(path=str(artifacts / "site-phone-causal-masking.png"), full_page=False)
    finally:
        visit.context.close()


def test_a_too_wide_equation_announces_that_it_scrolls(browser, site):
    base, _ = site
    visit = Visit(browser, base, phone=True)
    try:
        visit.open("inference/gqa-mqa-kv-cache.html")
        visit.page.wait_for_selector(".md-content .katex", state="attached")
        wide = visit.page.locator("div.arithmatex.scrolls").first
        wide.wait_for(state="attached")
        assert wide.get_attribute("aria-label") == "Equation, scrolls sideways"
        cue = visit.page.evaluate("(el) => getComputedStyle(el, '::after').content", wide.element_handle())
        assert "scroll" in cue
        # It starts at its left edge: nothing is cut off on the left.
        assert visit.page.evaluate("(el) => el.scrollLeft", wide.element_handle()) == 0
        assert visit.page.evaluate(
            "(el) => el.querySelector('.katex').getBoundingClientRect().left >= el.getBoundingClientRect().left - 1",
            wide.element_handle(),
        )
    finally:
        visit.context.close()


def test_a_figure_opens_larger_in_a_lightbox_on_a_phone(browser, site):
    base, _ = site
    visit = Visit(browser, base, phone=True)
    try:
        visit.open(CARD_URL)
        figure = visit.page.locator(".proof-figure a.glightbox").first
        figure.scroll_into_view_if_needed()
        inline = visit.page.locator(".proof-figure img").first.bounding_box()
        figure.click()
        box = visit.page.locator(".glightbox-container .gslide-image img").first
        box.wait_for(state="visible")
        visit.page.wait_for_timeout(600)  # the opening animation
        shown = box.bounding_box()
        assert shown["width"] * shown["height"] > inline["width"] * inline["height"]
        assert not visit.foreign_requests(), visit.foreign_requests()
    finally:
        visit.context.close()


# ---- The self-test


def test_self_test_never_shows_the_next_answer_while_turning_back(visit):
    visit.open("self-test.html")
    page = visit.page
    page.locator(".flip-card").click()
    page.wait_for_timeout(600)  # the turn to the back has finished
    # Grade, then sample every frame for 0.7 s: whenever the back face is towards the reader it must not hold
    # the answer of the card now being asked.
    leaks = page.evaluate(
        """() => new Promise(resolve => {
          document.querySelector('button.selftest-knew').click();
          const inner = document.querySelector('.flip-inner'), back = document.querySelector('.flip-back');
          const answer = back.querySelector('.flip-answer').textContent;
          const leaks = [], start = performance.now();
          (function sample() {
            const m = new DOMMatrix(getComputedStyle(inner).transform);
            const angle = Math.abs(Math.atan2(-m.m13, m.m11) * 180 / Math.PI);
            const facing = m.m11 < 0;  // rotated past 90°: the back face is towards the reader
            if (facing && back.textContent.includes(answer)) leaks.push(Math.round(performance.now() - start));
            if (performance.now() - start < 700) requestAnimationFrame(sample); else resolve(leaks);
          })();
        })"""
    )
    assert leaks == []


def test_a_card_not_known_comes_back_after_three_others(visit):
    visit.open("self-test.html")
    order = visit.page.evaluate(
        """() => {
          const cards = Array.from({length: 10}, (_, i) => ({id: 'c' + i}));
          let progress = {}, last = null, shown = [];
          for (let i = 0; i < 8; i++) {
            const card = QuizSelftest.nextCard(cards, progress, last);
            shown.push(card.id);
            progress = QuizSelftest.grade(progress, card.id, i !== 0);  // only the first card is missed
            last = card.id;
          }
          return shown;
        }"""
    )
    assert order.count(order[0]) == 2, order
    assert order.index(order[0], 1) == 4, order  # back after three other cards, not after all nine


def test_self_test_card_grows_to_its_content_on_a_phone_and_shows_only_the_question(browser, site):
    base, cards = site
    visit = Visit(browser, base, phone=True)
    try:
        visit.open("self-test.html")
        page = visit.page
        for _ in range(len(cards)):
            front, back = page.locator(".flip-front"), page.locator(".flip-back")
            for face in (front, back):
                assert face.evaluate("(el) => el.scrollHeight <= el.clientHeight + 1"), face.inner_text()[:80]
            assert page.locator(".flip-back a").evaluate("(a) => a.getBoundingClientRect().height > 0")
            shown = front.inner_text()
            assert not any(card["title"] in shown for card in cards.values()), shown
            page.locator(".flip-card").click()
            page.keyboard.press("1")
    finally:
        visit.context.close()


def test_self_test_grades_by_key_and_confirms_before_a_reset(visit):
    visit.open("self-test.html")
    page = visit.page
    page.keyboard.press("1")  # before the flip a key grades nothing
    assert page.locator(".selftest-count").inner_text().startswith("Known: 0 of 8 · seen: 0")
    page.locator(".flip-card").click()
    page.keyboard.press("2")
    assert page.locator(".selftest-count").inner_text().startswith("Known: 0 of 8 · seen: 1")
    page.locator(".flip-card").click()
    page.keyboard.press("1")
    assert page.locator(".selftest-count").inner_text().startswith("Known: 1 of 8 · seen: 2")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("button.selftest-reset").click()
    assert page.locator(".selftest-count").inner_text().startswith("Known: 1 of 8")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("button.selftest-reset").click()
    assert page.locator(".selftest-count").inner_text().startswith("Known: 0 of 8 · seen: 0")


# ---- Offline, from a folder


def test_the_site_works_from_its_folder_as_file_urls(browser, site_folder):
    visit = Visit(browser, site_folder.as_uri() + "/")
    try:
        page = visit.page
        visit.open("index.html")
        page.locator(".md-content a[href$='positional/index.html']").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("positional/index.html")
        assert page.locator(".md-content h1").inner_text().startswith("Positional information")
        page.locator(".md-content a[href$='rope-relative-rotation.html']").first.click()
        page.wait_for_selector(".md-content .katex", state="attached")
        _search(page, "rope")
        assert "rope-relative-rotation" in _first_result(page)
        visit.open("self-test.html")
        card = page.locator(".flip-card")
        card.click()
        assert "flipped" in card.get_attribute("class")
        assert page.locator(".flip-back .flip-answer").inner_text().strip()
        assert not visit.errors, visit.errors
        assert not visit.foreign_requests(), visit.foreign_requests()
    finally:
        visit.context.close()


# ---- Search that finds what people type


def _search(page, query: str) -> None:
    # Material sets search up on the first focus of the box (from a folder, in an iframe worker), then says so.
    box = page.locator("input.md-search__input")
    box.click()
    page.wait_for_function(
        "document.querySelector('.md-search-result__meta')?.textContent.includes('Type to start searching')"
    )
    box.fill("")
    box.press_sequentially(query, delay=30)
    page.wait_for_function(
        "document.querySelector('.md-search-result__meta')?.textContent.match(/matching|No matching/)"
    )
    page.wait_for_timeout(300)  # the list follows the count


def _first_result(page) -> str:
    return page.locator(".md-search-result__item > a").first.get_attribute("href")


@pytest.mark.parametrize(
    ("query", "card"),
    [
        ("sqrt", "sqrt-dk-scaling"),
        ("kv cache", "kv-cache-decoding"),
        ("rope", "rope-relative-rotation"),
        ("gqa", "gqa-mqa-kv-cache"),
        ("flash", "flash-attention"),
    ],
)
def test_search_finds_the_card_people_mean_first(visit, query, card):
    visit.open("")
    _search(visit.page, query)
    assert card in _first_result(visit.page)
    assert not visit.foreign_requests(), visit.foreign_requests()


# ---- Graded questions


def test_multiple_choice_is_shuffled_and_says_why_a_pick_is_wrong(visit, site):
    _, cards = site
    choices = cards["gqa-mqa-kv-cache"]["choices"]
    orders = set()
    for _ in range(8):
        visit.open("inference/gqa-mqa-kv-cache.html")
        buttons = visit.page.locator(".graded-mc .graded-choices button")
        orders.add(tuple(b.strip() for b in buttons.all_inner_texts()))
    assert len(orders) > 1, "the choices come in a new order"
    wrong = next(c for c in choices if not c.get("correct"))
    visit.page.locator(".graded-mc button", has_text=wrong["text"][:40]).click()
    why = visit.page.locator(".graded-why:visible")
    assert wrong["why"][:40] in why.first.inner_text()
    assert "wrong" in visit.page.locator(".graded-mc button.wrong").get_attribute("class")
    right = next(c for c in choices if c.get("correct"))
    visit.page.locator(".graded-mc button", has_text=right["text"][:40]).click()
    assert visit.page.locator(".graded-mc button.right").count() == 1
    progress = visit.page.evaluate("JSON.parse(localStorage.getItem('transformer-proofs:graded:v1'))")
    assert progress["gqa-mqa-kv-cache"]["choice"] == {"tried": 1, "right": 0, "last": ANY_NUMBER}


class _AnyNumber:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, int | float)


ANY_NUMBER = _AnyNumber()


def _drawn(question) -> tuple[dict, float]:
    """The configuration the page drew for a browser-drawn question, and the Python formula's value for it."""
    import json

    from answers.formulas import FORMULAS

    params = json.loads(question.get_attribute("data-params"))
    data = question.page.evaluate("JSON.parse(document.querySelector('.graded-root').dataset.graded)")
    (spec,) = [q for q in data["numeric"] if q.get("formula") == "kv_cache_bytes" and len(q["params"]["layers"]) > 1]
    typed = {k: (int(v) if isinstance(spec["params"][k][0], str) else v) for k, v in params.items()}
    return typed, float(FORMULAS["kv_cache_bytes"](**typed))


def test_numeric_question_reads_units_and_grades_against_the_python_formula(visit):
    from quiz.numeric import format_param, format_quantity

    visit.open("inference/gqa-mqa-kv-cache.html")
    page = visit.page
    question = page.locator(".graded-numeric").first
    expect(question).to_have_attribute("data-params", re.compile("layers"))
    params, expected = _drawn(question)
    for name in ("layers", "kv_heads", "tokens"):  # the drawn numbers are the ones the prompt says
        expect(question.locator(".graded-prompt")).to_contain_text(format_param(params[name]))
    question.locator("input").fill(f"{expected / 2**30:.6g} GiB")
    question.locator("button[type=submit]").click()
    expect(question.locator(".graded-verdict")).to_contain_text("Right")
    question.locator("input").fill(f"{expected * 1.5:.6g}")
    question.locator("button[type=submit]").click()
    expect(question.locator(".graded-verdict")).to_contain_text("Not quite")
    expect(question.locator(".graded-verdict")).to_contain_text(format_quantity(expected, "bytes"))
    question.locator("input").fill("lots")
    question.locator("button[type=submit]").click()
    expect(question.locator(".graded-verdict")).to_contain_text("cannot read 'lots'")
    assert visit.errors == []


def test_new_numbers_and_a_reload_draw_another_configuration_graded_by_the_formula(visit):
    visit.open("inference/gqa-mqa-kv-cache.html")
    page = visit.page
    seen = set()
    for _ in range(3):  # 384 configurations: three draws in a row are all the same once in 150,000 visits
        question = page.locator(".graded-numeric").first
        expect(question).to_have_attribute("data-params", re.compile("layers"))
        seen.add(question.get_attribute("data-params"))
        question.locator("button.graded-another", has_text="New numbers").click()
    assert len(seen) >= 2
    question = page.locator(".graded-numeric").first  # the new draw is in the first question's place
    expect(question).to_have_attribute("data-params", re.compile("layers"))
    _, expected = _drawn(question)
    question.locator("input").fill(f"{expected:.0f}")
    question.locator("button[type=submit]").click()
    expect(question.locator(".graded-verdict")).to_contain_text("Right")
    reloaded = set()
    for _ in range(3):
        page.reload(wait_until="networkidle")
        first = page.locator(".graded-numeric").first
        expect(first).to_have_attribute("data-params", re.compile("layers"))
        reloaded.add(first.get_attribute("data-params"))
    assert len(reloaded) >= 2
    assert visit.errors == []


TYPED = [
    "2 GiB",
    "2GiB",
    "1.5 MB",
    "3.1e23",
    "3.1e23 FLOPs",
    "6 TFLOPs",
    "175B",
    "175B params",
    "175 billion",
    "7,000,000",
    "1_024",
    "2^31",
    "4x",
    "4 ×",
    "50%",
    "−3",
    "+2 kB",
    ".5",
    "1e-3",
    "12 tokens",
    "3 x 10^4",
    "2 KiB params",
    "lots",
    "",
    "2 GB bytes",
    "1 2 3",
    "175B bytes",
    "5 rad",
    "1 nat",
    "1.5 T",
    "10 mn",
    "3 zz",
]
# Every form the terminal's hint under a question offers (quiz.numeric.EXAMPLES).
HINTED = sorted({form.strip() for forms in EXAMPLES.values() for form in forms.replace(" or ", ", ").split(", ")})
# Pieces of what people type (and of what they mistype), joined at random: thousands of strings no list above has,
# for the corners of the grammar (decimal commas beside groups, brackets, powers of zero, bits for bytes, spaces
# that are not ASCII, letters outside the BMP).
PIECES = [
    *"0123456789.,^*x×/()-+−~ _'eE%÷·X",
    *("  ", "1,024", "2,5", " 000", "10^", "**", "e-3", "1e9999", "0^-1", "9" * 50, "about ", "≈", "\u00a0", "\u2009"),
    *(" GiB", " KiB", "GB", "kb", "Gib", "Xib", "Mb", " B", " bytes", " gigabytes", " kilobits", "𝐀ib", "İ", "ei"),
    *(" params", " billion", " M", " FLOPs", " ZFLOPs", " teraflops", " tokens", " Ki", " rad", " nats", " times"),
    *(" flops/byte", "k", "T", "Y", "Z", "Ei"),
]
_RNG = random.Random(0)
FUZZED = ["".join(_RNG.choice(PIECES) for _ in range(_RNG.randint(1, 10))) for _ in range(1500)]


@pytest.mark.parametrize(
    "typed",
    [pytest.param(TYPED, id="plain-forms"), pytest.param(HINTED, id="hinted-forms"), pytest.param(FUZZED, id="fuzzed")],
)
def test_the_browser_reads_a_typed_answer_as_the_terminal_does(visit, typed):
    """The same value, or the same one-line message, for every string and every unit."""
    from quiz.numeric import AnswerFormatError, parse_quantity

    visit.open(CARD_URL)
    units = ["bytes", "FLOPs", "parameters", "count", "ratio", "nats", "radians", "tokens"]
    browser = visit.page.evaluate(
        """([typed, units]) => typed.flatMap(t => units.map(u => {
             try { return QuizSite.parseQuantity(t, u); }
             catch (e) { if (e instanceof QuizSite.FormatError) return 'error: ' + e.message; throw e; }
           }))""",
        [typed, units],
    )
    mismatches = []
    for (text, unit), got in zip([(t, u) for t in typed for u in units], browser, strict=True):
        try:
            expected = parse_quantity(text, unit)
        except AnswerFormatError as exc:
            if got != f"error: {exc}":
                mismatches.append((text, unit, f"error: {exc}", got))
            continue
        if isinstance(got, str) or got != pytest.approx(expected, rel=1e-12):
            mismatches.append((text, unit, expected, got))
    assert mismatches == []


def test_a_numeric_answer_says_how_it_was_read(visit):
    """A decimal comma or a '~' is read as the terminal reads it, and the verdict says so."""
    visit.open("inference/gqa-mqa-kv-cache.html")
    question = visit.page.locator(".graded-numeric").first
    question.locator("input").fill("~2,5 GiB")
    question.locator("button[type=submit]").click()
    verdict = question.locator(".graded-verdict")
    expect(verdict).to_contain_text("read 2,5 as 2.5 (a decimal comma)")
    expect(verdict).to_contain_text("read '~' as 'about'")


# ---- A way in


def test_errata_filter_by_topic_and_verdict(visit):
    visit.open("errata.html")
    page = visit.page
    rows = page.locator(".errata-table tbody tr")
    total = rows.count()
    page.locator("#errata-filter select[aria-label=Verdict]").select_option("imprecise")
    visible = page.locator(".errata-table tbody tr:visible")
    assert 0 < visible.count() < total
    assert set(visible.locator("td:nth-child(3)").all_inner_texts()) == {"imprecise"}
    page.locator("#errata-filter select[aria-label=Verdict]").select_option("")
    page.locator("#errata-filter select[aria-label=Topic]").select_option("Positional information")
    assert set(visible.locator("td:nth-child(2)").all_inner_texts()) == {"Positional information"}
    assert page.locator(".erratum:visible").count() == visible.count()


def test_start_page_offers_a_path_and_a_guide_to_reading_a_claim(visit):
    visit.open("")
    path = visit.page.locator(".md-content ol li")
    assert path.count() >= 5
    assert "Attention" in path.first.inner_text() or "Scaling" in path.first.inner_text()
    visit.page.locator(".md-content a[href$='how-to-read.html']").first.click()
    visit.page.wait_for_load_state()
    text = visit.page.locator(".md-content").inner_text()
    for word in ("Measured", "Expected", "Counterfactual", "derivation"):
        assert word in text
    assert visit.page.locator(".evidence table").count() == 1


# ---- The formulas translated to JavaScript (quiz.site.formulas_js), against Python


@pytest.fixture(scope="module")
def formula_page(browser):
    """A blank page with the runtime, every translated formula and the graded-question script, nothing else."""
    from quiz.site.formulas_js import export
    from quiz.site.options import STATIC_ASSETS

    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content="window.document$ = { subscribe: function () {} };")  # MkDocs Material's
    for script in ((STATIC_ASSETS / "pyrt.js").read_text(), export().script):
        page.add_script_tag(content=script)
    page.add_script_tag(content=(STATIC_ASSETS / "interactive.js").read_text())
    yield page
    context.close()


@pytest.fixture(scope="module")
def deck():
    from quiz.deck import load_deck

    return load_deck()


def test_the_browser_gives_the_python_formulas_value_prompt_and_answer_on_every_draw(formula_page, deck):
    from test_site_formulas import DRAWS, RELATIVE, _draws, _encode, generated_questions

    from answers.formulas import FORMULAS
    from quiz.numeric import format_param, format_quantity
    from quiz.site.graded import browser_drawn, fill_html

    compared = 0
    for where, question in generated_questions(deck):
        drawn = browser_drawn(question, [])
        if drawn is None:
            continue
        configurations = _draws(question, where)
        got = formula_page.evaluate(
            """([question, configurations]) => configurations.map(function (c) {
                var params = {};
                Object.keys(c).forEach(function (k) { params[k] = typeof c[k] === "string" ? BigInt(c[k]) : c[k]; });
                var i = QuizSite.instanceFor(question, params);
                return [i.expected, i.prompt, i.html, i.shown];
            })""",
            [drawn, [_encode(c) for c in configurations]],
        )
        names = drawn["parts"][1::2]
        for params, (value, prompt, html, shown) in zip(configurations, got, strict=True):
            expected = float(FORMULAS[question.formula](**params))
            assert math.isclose(value, expected, rel_tol=RELATIVE, abs_tol=0 if expected else 1e-300), (where, params)
            filled = {k: format_param(v) for k, v in params.items()}
            assert prompt == question.prompt.format(**filled), where
            assert html == fill_html(drawn["html"], names, filled), where
            assert shown == format_quantity(value, str(question.unit)), (where, value)
            compared += 1
    assert compared >= 90 * DRAWS


def test_the_browser_draws_one_uniform_value_per_parameter(formula_page):
    question = {"params": {"a": ["1", "2", "3", "4"], "b": [0.5], "c": [True, False]}}
    counts = formula_page.evaluate(
        """(question) => {
            var seed = 7, counts = {};
            var pick = function (n) { seed = (seed * 16807) % 2147483647; return seed % n; };
            for (var i = 0; i < 4000; i++) {
                var p = QuizSite.drawParams(question, pick);
                var key = p.a.toString() + "/" + p.b + "/" + p.c + "/" + typeof p.a;
                counts[key] = (counts[key] || 0) + 1;
            }
            return counts;
        }""",
        question,
    )
    assert len(counts) == 8 and all(key.endswith("/0.5/true/bigint") or "/false/" in key for key in counts)
    assert all(400 <= n <= 600 for n in counts.values()), counts


def test_python_arithmetic_where_javascript_differs(formula_page):
    from test_site_formulas import ARITHMETIC, ROUNDING

    def arg(v):  # playwright carries inf as Infinity; an int goes as its digits
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    cases = [[op, arg(a), arg(b)] for op, a, b in ARITHMETIC]
    got = formula_page.evaluate(
        """(cases) => cases.map(function (c) {
            var d = function (v) { return typeof v === "string" ? BigInt(v) : v; };
            var r = PyRT[c[0]](d(c[1]), d(c[2]));
            return typeof r === "bigint" ? ["int", r.toString()] : ["float", r];
        })""",
        cases,
    )
    ops = {
        "floordiv": lambda a, b: a // b,
        "mod": lambda a, b: a % b,
        "truediv": lambda a, b: a / b,
        "pow": lambda a, b: a**b,
        "mul": lambda a, b: a * b,
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
    }
    for (op, a, b), (kind, value) in zip(ARITHMETIC, got, strict=True):
        expected = ops[op](a, b)
        if isinstance(expected, int):
            assert (kind, int(value)) == ("int", expected), (op, a, b)
        else:
            assert kind == "float" and float(value) == expected, (op, a, b, value, expected)
    rounded = formula_page.evaluate("(xs) => xs.map((x) => PyRT.round(x).toString())", ROUNDING)
    assert [int(r) for r in rounded] == [round(x) for x in ROUNDING]
    errors = formula_page.evaluate(
        """() => [[1n, 0n], [1.0, 0.0]].map(function (c) {
            try { PyRT.truediv(c[0], c[1]); return "no error"; } catch (e) { return e.kind; }
        })"""
    )
    assert errors == ["ZeroDivisionError", "ZeroDivisionError"]


def test_python_number_formatting_in_the_browser(formula_page):
    from test_site_formulas import _values

    from quiz.numeric import format_param, format_quantity
    from quiz.site.formulas_js import encode_value

    values = _values()
    specs = ["g", ".3g", ".4g", ".3e", ",.0f"]
    got = formula_page.evaluate("([xs, specs]) => xs.map((x) => specs.map((s) => PyRT.format(x, s)))", [values, specs])
    for x, shown in zip(values, got, strict=True):
        assert shown == [format(x, s) for s in specs], x
    params = [5, 100000, 123456789, 2**62, 0.5, 4096.0, 1e-5, 3.14159265, True, False, 1e20, -7]
    got = formula_page.evaluate(
        """(ps) => ps.map((p) => PyRT.formatParam(typeof p === "string" ? BigInt(p) : p))""",
        [encode_value(p) for p in params],
    )
    assert got == [format_param(p) for p in params]
    units = ["bytes", "FLOPs", "parameters", "tokens", "count", "ratio", "nats", "radians"]
    got = formula_page.evaluate(
        "([xs, units]) => xs.map((x) => units.map((u) => PyRT.formatQuantity(x, u)))", [values[:300], units]
    )
    for x, shown in zip(values[:300], got, strict=True):
        assert shown == [format_quantity(x, u) for u in units], x


def test_every_translated_formula_equals_python_or_both_refuse_on_typed_random_arguments(formula_page):
    """Beyond the decks' parameter lists: each translated formula on 200 arguments drawn by its annotations,
    including values where Python raises (a zero, a head count that does not divide), where JS must throw too."""
    import inspect

    from answers.formulas import FORMULAS
    from quiz.site.formulas_js import export

    ints = [0, 1, 2, 3, 4, 7, 8, 12, 16, 32, 64, 100, 128, 512, 1000, 4096, 32768, -3]
    floats = [0.0, 0.1, 0.5, 0.9, 0.999, 1.0, 1.5, 2.0, 10.0, 1e9, 7e9, 3.5e23, -0.25]
    rng = random.Random(11)
    agreed = refused = 0
    for name in sorted(export().exported):
        fn = FORMULAS[name]
        cases, pythons = [], []
        for _ in range(200):
            args = {}
            for p in inspect.signature(fn).parameters.values():
                kind = str(p.annotation)
                pool = [True, False] if kind == "bool" else ints if kind.startswith("int") else floats
                args[p.name] = rng.choice([*pool, None]) if "None" in kind else rng.choice(pool)
            try:
                value = float(fn(**args))
                pythons.append(value if math.isfinite(value) else None)
            except (ArithmeticError, ValueError, TypeError):
                pythons.append(None)
            cases.append({k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in args.items()})
        got = formula_page.evaluate(
            """([name, cases]) => cases.map(function (c) {
                var params = {};
                Object.keys(c).forEach(function (k) { params[k] = typeof c[k] === "string" ? BigInt(c[k]) : c[k]; });
                try { return PyRT.result(PyFormulas.call(name, params)); } catch (e) {
                    if (!(e instanceof PyRT.PyError)) throw e;
                    return null;
                }
            })""",
            [name, cases],
        )
        for args, python, js in zip(cases, pythons, got, strict=True):
            if python is None:
                assert js is None, (name, args, js)
                refused += 1
            else:
                assert js is not None and math.isclose(js, python, rel_tol=1e-12, abs_tol=1e-300), (name, args, js)
                agreed += 1
    assert agreed > 10_000 and refused > 100
