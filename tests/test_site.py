"""The study site's generator without a browser: pages, errata, figures, proof source and the evidence cache.

Decks are written into tmp_path with their own tiny proof modules; KaTeX is fetched once per session into a
temporary folder that every test's cache links to.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from quiz.cli import main
from quiz.proofs import key as proof_key_module
from quiz.proofs import proof_key
from quiz.site import Options, SiteError, build_site, generate, incremental
from quiz.site import build as site_build
from quiz.site.katex import fetch_katex
from quiz.site.safe import inline_html as _inline_html
from quiz.site.sources import function_sources

PITFALL_CARD = """\
id: tiny-card
title: A tiny card
topic: scale
difficulty: easy
tags: [demo, arithmetic]
question: What is one plus one, with $x^2$ in it?
answer: Two, since $1 + 1 = 2$.
explanation: Because $1 + 1 = 2$.
pitfalls:
  - myth: One plus one is eleven.
    truth: That is string concatenation, not addition.
    source: "“A study document”, section “Basics”"
    audit: C7
    verdict: false
    proof: one_plus_one_is_two
  - myth: Two times two is roughly four.
    truth: It is exactly four.
    audit: C2
    verdict: imprecise
    proof: two_times_two_is_four
claims:
  - statement: One plus one is two.
    proof: one_plus_one_is_two
  - statement: Two times two is four.
    proof: two_times_two_is_four
related: [other-card]
"""

OTHER_CARD = """\
id: other-card
title: Another card
topic: masking
difficulty: hard
tags: [demo]
question: Is three odd?
answer: Yes.
explanation: Three is not divisible by two.
pitfalls:
  - myth: Three is even.
    truth: Three leaves remainder one when divided by two.
    source: "“Another study document”"
    proof: three_is_odd
claims:
  - statement: Three is odd.
    proof: three_is_odd
"""

# Every claim appends a line to RUN_LOG, so a test can count how many proofs really ran.
TINY_MODULE = '''\
"""A tiny proof module for the site tests."""

import os

from answers.evidence import Evidence


def _log(name):
    with open(os.environ["RUN_LOG"], "a") as log:
        log.write(name + "\\n")


def one_plus_one_is_two() -> Evidence:
    _log("one_plus_one_is_two")
    return Evidence(measured=1 + 1, expected=2, comparison="equal", derivation="arithmetic",
                    counterfactual="one minus one", counterfactual_measured=1 - 1)


def two_times_two_is_four() -> Evidence:
    _log("two_times_two_is_four")
    return Evidence(measured=2 * 2, expected=4, comparison="equal", derivation="arithmetic",
                    counterfactual="two plus three", counterfactual_measured=2 + 3)


def figure_a_line():
    """A straight line through the origin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def figure_that_breaks():
    """Never drawn."""
    raise RuntimeError("no data")
'''

OTHER_MODULE = '''\
"""Another tiny proof module."""

import os

from answers.evidence import Evidence


def three_is_odd() -> Evidence:
    with open(os.environ["RUN_LOG"], "a") as log:
        log.write("three_is_odd\\n")
    return Evidence(measured=3 % 2, expected=1, comparison="equal", derivation="arithmetic",
                    counterfactual="four instead", counterfactual_measured=4 % 2)
'''


@pytest.fixture(scope="session")
def katex_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("katex-cache")
    return fetch_katex(cache).parent


@pytest.fixture
def site_deck(deck_builder, katex_dir, tmp_path, monkeypatch):
    """Two cards with their proof modules, a run log, and a cache that already holds KaTeX."""
    deck_builder.card(PITFALL_CARD)
    deck_builder.card(OTHER_CARD, topic="masking")
    deck_builder.module("tiny_card", TINY_MODULE)
    deck_builder.module("other_card", OTHER_MODULE)
    log = tmp_path / "runs.log"
    log.touch()
    monkeypatch.setenv("RUN_LOG", str(log))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "vendor").symlink_to(katex_dir, target_is_directory=True)
    deck_builder.options = Options(deck_builder.questions, deck_builder.answers, cache, trust_answers=True)
    deck_builder.docs = tmp_path / "docs"
    deck_builder.runs = lambda: log.read_text().split()
    return deck_builder


def test_every_card_gets_a_page_with_its_question_answer_and_evidence(site_deck):
    report = generate(site_deck.docs, site_deck.options)
    assert {"scale/tiny-card.md", "masking/other-card.md"} <= set(report.pages)
    page = (site_deck.docs / "scale/tiny-card.md").read_text()
    assert "What is one plus one, with $x^2$ in it?" in page
    assert '??? success "Answer"\n\n    Two, since $1 + 1 &#61; 2$.' in page  # '=' as an entity (quiz.site.safe)
    assert "| [One plus one is two.](#claim-one_plus_one_is_two) | `2` | `= 2` | one minus one: `0` → fails" in page
    assert "[Another card](../masking/other-card.md)" in page  # related cards link across topics
    assert "  - arithmetic" in page.split("---")[1]  # tags in the front matter, for Material's tags plugin


def test_topic_index_and_navigation_cover_every_card(site_deck):
    report = generate(site_deck.docs, site_deck.options)
    (topics,) = [entry["Topics"] for entry in report.nav if "Topics" in entry]
    assert {
        "Scale and parameters": [
            {"Scale and parameters": "scale/index.md"},
            {"A tiny card": "scale/tiny-card.md"},
        ]
    } in topics
    assert "[A tiny card](tiny-card.md)" in (site_deck.docs / "scale/index.md").read_text()


def test_errata_lists_every_pitfall_with_a_link_to_its_proof(site_deck):
    generate(site_deck.docs, site_deck.options)
    errata = (site_deck.docs / "errata.md").read_text()
    for myth, link in [
        ("One plus one is eleven.", "scale/tiny-card.md#claim-one_plus_one_is_two"),
        ("Two times two is roughly four.", "scale/tiny-card.md#claim-two_times_two_is_four"),
        ("Three is even.", "masking/other-card.md#claim-three_is_odd"),
    ]:
        assert f"> {myth}" in errata
        assert f"]({link})" in errata
    assert "3 statements, 2 false and 1 imprecise" in errata
    # Grouped by topic (Masking before Scaling), and audit ids are never shown to a reader.
    assert errata.index("## Three is even.") < errata.index("## One plus one")
    assert "C7" not in errata and "C2" not in errata


def test_errata_lists_a_statement_two_cards_refute_once_with_both(site_deck):
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(
        card.read_text().replace("    proof: three_is_odd\n", "    audit: C7\n    proof: three_is_odd\n", 1)
    )
    generate(site_deck.docs, site_deck.options)
    errata = (site_deck.docs / "errata.md").read_text()
    assert "2 statements, 1 false and 1 imprecise" in errata
    (row,) = [line for line in errata.splitlines() if line.startswith("| [Three is even.]")]
    assert "masking/other-card.md#claim-three_is_odd" in row and "tiny-card.md#claim-one_plus_one_is_two" in row
    assert errata.count("{ #erratum-") == 2


def test_second_build_runs_no_proof_when_nothing_changed(site_deck):
    first = generate(site_deck.docs, site_deck.options)
    assert sorted(site_deck.runs()) == ["one_plus_one_is_two", "three_is_odd", "two_times_two_is_four"]
    assert first.stats.cards_proved == 2
    second = generate(site_deck.docs, site_deck.options)
    assert len(site_deck.runs()) == 3, "no proof ran again"
    assert (second.stats.cards_proved, second.stats.cards_cached, second.stats.claims_run) == (0, 2, 0)
    assert second.written == 0, "an unchanged deck rewrites no file, so `mkdocs serve` does not loop"
    assert second.proved == 3


def test_changing_an_answer_module_proves_only_its_card_again(site_deck):
    generate(site_deck.docs, site_deck.options)
    module = site_deck.answers / "other_card.py"
    module.write_text(module.read_text().replace('log.write("three_is_odd', 'log.write("three_is_odd_v2'))
    report = generate(site_deck.docs, site_deck.options)
    assert (report.stats.cards_proved, report.stats.cards_cached) == (1, 1)
    assert site_deck.runs().count("three_is_odd_v2") == 1, "the new code ran, not a module imported before"
    assert site_deck.runs().count("one_plus_one_is_two") == 1


def test_cache_key_covers_the_shared_modules_and_local_imports(tmp_path, monkeypatch, valid_deck):
    shared = tmp_path / "shared"
    shared.mkdir()
    for name in ("evidence.py", "reference.py", "helpers.py"):
        (shared / name).write_text(f"# {name}\n")
    monkeypatch.setattr(proof_key_module, "DEFAULT_ANSWERS", shared)
    module = valid_deck.answers / "tiny_card.py"
    module.write_text("from answers.helpers import x\n" + module.read_text())
    card = valid_deck.load().get("tiny-card")
    keys = [proof_key(card, valid_deck.answers)]
    for name in ("evidence.py", "reference.py", "helpers.py"):
        (shared / name).write_text(f"# {name}, changed\n")
        keys.append(proof_key(card, valid_deck.answers))
    assert len(set(keys)) == 4


def test_a_failed_proof_is_not_cached(site_deck):
    module = site_deck.answers / "other_card.py"
    module.write_text(module.read_text().replace("measured=3 % 2", "measured=3 % 3"))
    first = generate(site_deck.docs, site_deck.options)
    assert first.failures == ["other-card: three_is_odd"]
    second = generate(site_deck.docs, site_deck.options)
    assert second.stats.cards_proved == 1, "the failing card is proved again"
    assert ":material-close-circle:{ .refuted } does not hold" in (site_deck.docs / "masking/other-card.md").read_text()


def test_page_shows_the_exact_source_of_each_claim_function(site_deck):
    generate(site_deck.docs, site_deck.options)
    page = (site_deck.docs / "scale/tiny-card.md").read_text()
    spec = importlib.util.spec_from_file_location("tiny_for_source", site_deck.answers / "tiny_card.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("one_plus_one_is_two", "two_times_two_is_four"):
        fn = getattr(module, name)
        title = f"answers/tiny_card.py, line {fn.__code__.co_firstlineno}"
        assert f'```python title="{title}"\n{inspect.getsource(fn)}```' in page
    assert "Helpers it calls: `_log`" in page


def test_function_sources_match_inspect_on_a_real_proof_module():
    import answers.sqrt_dk_scaling as module

    sources = function_sources(Path(module.__file__))
    for name, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            assert sources[name].text == inspect.getsource(fn), name
    assert sources["scaled_scores_have_unit_variance_for_any_d_k"].helpers == ("_scores",)


def test_figures_are_rendered_with_their_docstring_as_caption(site_deck):
    report = generate(site_deck.docs, site_deck.options)
    svg = site_deck.docs / "assets/figures/tiny-card/a_line.svg"
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    page = (site_deck.docs / "scale/tiny-card.md").read_text()
    assert "](../assets/figures/tiny-card/a_line.svg)" in page
    assert '<figcaption markdown="1">A straight line through the origin.</figcaption>' in page
    assert '!!! warning "Figure `that_breaks` failed"' in page and "RuntimeError: no data" in page
    assert report.figures == 1


def test_self_test_page_inlines_every_card_with_rendered_markdown(site_deck):
    generate(site_deck.docs, site_deck.options)
    page = (site_deck.docs / "self-test.md").read_text()
    inlined = re.search(r'<script type="application/json" id="selftest-data">(.*?)</script>', page, re.S)
    data = json.loads(inlined[1])
    assert {card["id"] for card in data} == {"tiny-card", "other-card"}
    tiny = next(card for card in data if card["id"] == "tiny-card")
    assert tiny["url"] == "scale/tiny-card.html"  # the offline build's page names, which work from a folder
    assert '<span class="arithmatex">\\(x^2\\)</span>' in tiny["question"]


def test_stale_pages_are_removed_when_a_card_goes(site_deck):
    generate(site_deck.docs, site_deck.options)
    (site_deck.questions / "masking/other-card.yaml").unlink()
    card = site_deck.questions / "scale/tiny-card.yaml"
    card.write_text(card.read_text().replace("related: [other-card]", "related: []"))
    shutil.move(site_deck.answers / "other_card.py", site_deck.docs.parent / "other_card.py")
    report = generate(site_deck.docs, site_deck.options)
    assert not (site_deck.docs / "masking").exists()
    assert "masking/other-card.md" not in report.pages


def test_strict_mkdocs_build_produces_a_page_per_card_and_a_search_index(site_deck, tmp_path):
    out = tmp_path / "out"
    report = build_site(out, site_deck.docs, site_deck.options, strict=True)
    assert report.cards == 2 and report.proved == 3
    assert (out / "scale/tiny-card.html").is_file()
    assert (out / "assets/katex/katex.min.js").is_file()
    index = json.loads((out / "search/search_index.json").read_text())
    assert any(doc["location"].startswith("scale/tiny-card.html") for doc in index["docs"])
    assert (out / "search/search_index.js").is_file(), "the offline plugin's copy of the index, for file://"
    html = (out / "scale/tiny-card.html").read_text()
    assert "fonts.googleapis.com" not in html and "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "assets/vendor/iframe-worker/shim.js" in html


def test_rebuild_with_nothing_changed_skips_mkdocs_and_a_changed_card_rebuilds(site_deck, tmp_path):
    out = tmp_path / "out"
    assert build_site(out, site_deck.docs, site_deck.options).mkdocs is True
    assert build_site(out, site_deck.docs, site_deck.options).mkdocs is False
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(card.read_text().replace("Is three odd?", "Is three an odd number?"))
    assert build_site(out, site_deck.docs, site_deck.options).mkdocs is True
    assert "Is three an odd number?" in (out / "masking/other-card.html").read_text()
    assert len(site_deck.runs()) == 3, "editing a card's text proves nothing again"


def test_cli_site_build_reports_the_cache_and_prints_the_output(site_deck, tmp_path, monkeypatch):
    monkeypatch.setattr(site_build, "DEFAULT_DOCS", tmp_path / "cli-docs")
    args = [
        "site",
        "build",
        "--questions",
        str(site_deck.questions),
        "--answers",
        str(site_deck.answers),
        "--trust-answers",
    ]
    args += ["--cache", str(site_deck.options.cache), "--output", str(tmp_path / "cli-out")]
    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == str((tmp_path / "cli-out").resolve())
    assert "proofs run for 2 cards, 0 from cache" in first.stderr
    second = CliRunner().invoke(main, args, catch_exceptions=False)
    assert "proofs run for 0 cards, 2 from cache" in second.stderr


def test_cli_site_build_reports_an_invalid_deck_as_errors(deck_builder, tmp_path):
    deck_builder.card("id: broken\n")
    result = CliRunner().invoke(main, ["site", "build", "--questions", str(deck_builder.questions)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_cli_site_build_refuses_to_run_an_untrusted_answers_folder(site_deck, tmp_path, monkeypatch):
    monkeypatch.setattr(site_build, "DEFAULT_DOCS", tmp_path / "cli-docs")
    args = ["site", "build", "--questions", str(site_deck.questions), "--answers", str(site_deck.answers)]
    result = CliRunner().invoke(main, [*args, "--cache", str(site_deck.options.cache)])
    assert result.exit_code == 1
    assert "--trust-answers" in result.stderr
    assert site_deck.runs() == [], "no proof ran"


def _prose_outside_math(markdown_text: str) -> str:
    """The text of rendered card Markdown with code and recognised math removed: a `$` left in it is a
    formula the site cannot render (unbalanced, or a closing `$` after a space)."""
    import re

    html = _inline_html(markdown_text.replace("\\$", ""))
    html = re.sub(r'<span class="arithmatex">.*?</span>|<div class="arithmatex">.*?</div>', "", html, flags=re.S)
    return re.sub(r"<code>.*?</code>", "", html, flags=re.S)


def test_every_card_in_the_bank_writes_math_the_site_can_render():
    from quiz.deck import load_deck

    broken = []
    for card in load_deck():
        texts = {"question": card.question, "answer": card.answer, "explanation": card.explanation}
        texts |= {f"pitfalls.{i}.truth": p.truth for i, p in enumerate(card.pitfalls)}
        broken += [f"{card.id}: {field}" for field, text in texts.items() if "$" in _prose_outside_math(text)]
        # Two display blocks on consecutive lines become one malformed KaTeX expression on the page.
        broken += [
            f"{card.id}: {field}: adjacent $$ blocks" for field, text in texts.items() if _adjacent_display(text)
        ]
    assert broken == []


def _adjacent_display(text: str) -> bool:
    return re.search(r"\$\$[ \t]*\n[ \t]*\$\$", text) is not None


def test_math_check_catches_display_blocks_on_consecutive_lines():
    assert _adjacent_display("$$a = b,$$\n  $$c = d$$")
    assert not _adjacent_display("$$a = b,$$\n\n  $$c = d$$")


def test_math_check_catches_a_dollar_after_a_space():
    assert "$" in _prose_outside_math("the ratio becomes $\\infty/\\infty = $ NaN")
    assert "$" not in _prose_outside_math("the ratio $\\infty/\\infty$ is NaN, and\n\n$$x^2 = y$$\n\ntoo")


def test_function_sources_show_the_reference_functions_a_claim_imports():
    import answers.causal_masking as module
    import answers.reference as reference

    sources = function_sources(Path(module.__file__))
    used = {ref.name for source in sources.values() for ref in source.references}
    imported = {name for name in vars(module) if inspect.isfunction(getattr(reference, name, None))}
    assert used and used <= imported
    for source in sources.values():
        for ref in source.references:
            assert ref.text == inspect.getsource(getattr(reference, ref.name))


def test_card_page_folds_in_the_reference_functions_it_uses(site_deck):
    module = site_deck.answers / "other_card.py"
    module.write_text(
        module.read_text().replace(
            "    with open(", "    from answers.reference import causal_mask  # noqa\n    causal_mask\n    with open("
        )
    )
    generate(site_deck.docs, site_deck.options)
    page = (site_deck.docs / "masking/other-card.md").read_text()
    assert '??? abstract "From answers/reference.py: `causal_mask`"' in page
    assert "    def causal_mask(" in page


# ---- Incremental builds (quiz.site.incremental)


def _html_pages(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.html"))}


def test_editing_a_card_renders_its_page_and_leaves_the_others_untouched(site_deck, tmp_path):
    out = tmp_path / "out"
    build_site(out, site_deck.docs, site_deck.options)
    other = out / "scale/tiny-card.html"
    before = other.stat().st_mtime_ns
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(card.read_text().replace("Is three odd?", "Is three an odd number?"))
    build_site(out, site_deck.docs, site_deck.options)
    assert "Is three an odd number?" in (out / "masking/other-card.html").read_text()
    assert other.stat().st_mtime_ns == before, "a page that does not show the edit is not written again"
    index = json.loads((out / "search/search_index.json").read_text())
    pages = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {"scale/tiny-card.html", "masking/other-card.html"} <= pages, "the index keeps the pages not rendered"
    assert any("Is three an odd number?" in doc["text"] for doc in index["docs"])
    assert not any("Is three odd?" in doc["text"] for doc in index["docs"])
    # A new title shows wherever the title is drawn: the Related list of the other card and the topic's page.
    card.write_text(card.read_text().replace("title: Another card", "title: A renamed card"))
    build_site(out, site_deck.docs, site_deck.options)
    assert "A renamed card" in other.read_text() and "Another card" not in other.read_text()
    assert "A renamed card" in (out / "masking/index.html").read_text()


def test_pages_drawn_from_stored_html_equal_the_pages_rendered_afresh(site_deck, tmp_path):
    out = tmp_path / "out"
    build_site(out, site_deck.docs, site_deck.options)
    fresh = _html_pages(out)
    index = (out / "search/search_index.json").read_text()
    assert len(list((out / ".quiz-render").glob("*.json"))) == len([p for p in fresh if p != "404.html"])
    for name in (".quiz-pages.json", ".quiz-build-stamp"):  # a full build again, every page from the store
        (out / name).unlink()
    build_site(out, site_deck.docs, site_deck.options)
    assert _html_pages(out) == fresh
    assert (out / "search/search_index.json").read_text() == index


def _count_search_parses(monkeypatch) -> list[str]:
    """The pages whose HTML the search plugin parses for its index, as they are parsed."""
    from material.plugins.search.plugin import SearchIndex

    parsed: list[str] = []
    add = SearchIndex.add_entry_from_context

    def counting(self, page):
        if not (page.meta.get("search") or {}).get("exclude"):  # the tags page is left out of the index
            parsed.append(page.file.src_uri)
        return add(self, page)

    monkeypatch.setattr(SearchIndex, "add_entry_from_context", counting)
    return parsed


def test_a_page_drawn_from_stored_html_keeps_its_search_entries_without_parsing_them(site_deck, tmp_path, monkeypatch):
    out = tmp_path / "out"
    parsed = _count_search_parses(monkeypatch)
    build_site(out, site_deck.docs, site_deck.options)
    assert {"scale/tiny-card.md", "masking/other-card.md", "index.md"} <= set(parsed)
    index = (out / "search/search_index.json").read_text()
    parsed.clear()
    for name in (".quiz-pages.json", ".quiz-build-stamp"):  # every page drawn again, all from the store
        (out / name).unlink()
    build_site(out, site_deck.docs, site_deck.options)
    assert parsed == []
    assert (out / "search/search_index.json").read_text() == index
    # A page whose Markdown changed is parsed again, and only its entries change.
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(card.read_text().replace("Is three odd?", "Is three an odd number?"))
    build_site(out, site_deck.docs, site_deck.options)
    assert "masking/other-card.md" in parsed and "scale/tiny-card.md" not in parsed
    assert "Is three an odd number?" in (out / "search/search_index.json").read_text()


def test_pages_rendered_ahead_in_a_second_process_equal_the_pages_rendered_in_one(site_deck, tmp_path, monkeypatch):
    from quiz.site import ahead

    calls: list[int] = []
    render_ahead = ahead.render_ahead
    monkeypatch.setattr(ahead, "MIN_SPLIT_BYTES", 0)  # the tiny deck is split too
    monkeypatch.setattr(ahead, "render_ahead", lambda *a, **k: calls.append(render_ahead(*a, **k)) or calls[-1])
    from mkdocs.structure.pages import Page

    rendered_here: list[str] = []  # the pages this process renders from their Markdown (the copy's are not seen)
    render = Page.render

    def counting(page, config, files):
        if page.markdown:
            rendered_here.append(page.file.src_uri)
        return render(page, config, files)

    monkeypatch.setattr(Page, "render", counting)
    build_site(tmp_path / "two", site_deck.docs, site_deck.options)
    assert calls and calls[0] > 0, "some pages were given to the copy"
    in_two = set(rendered_here)
    rendered_here.clear()
    monkeypatch.setattr(ahead, "MIN_SPLIT_BYTES", 10**12)  # one process
    build_site(tmp_path / "one", site_deck.docs, site_deck.options)
    assert calls[-1] == 0
    assert len(set(rendered_here) - in_two) == calls[0], "the copy's pages were not rendered here again"
    assert _html_pages(tmp_path / "two") == _html_pages(tmp_path / "one")
    index = "search/search_index.json"
    assert (tmp_path / "two" / index).read_text() == (tmp_path / "one" / index).read_text()


def test_a_warning_in_a_page_the_second_process_renders_still_fails_the_strict_build(site_deck, tmp_path, monkeypatch):
    from quiz.site import ahead

    monkeypatch.setattr(ahead, "MIN_SPLIT_BYTES", 0)
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(card.read_text().replace("Is three odd?", "Is three odd? See [there](nowhere.md)."))
    with pytest.raises(SiteError, match=r"nowhere\.md"):
        build_site(tmp_path / "out", site_deck.docs, site_deck.options)


def test_a_failed_build_is_followed_by_a_full_one(site_deck, tmp_path, monkeypatch):
    out = tmp_path / "out"
    build_site(out, site_deck.docs, site_deck.options)
    assert (out / incremental.RECORD).is_file()

    def killed(self) -> None:  # the build dies at its very end, before the record is written
        raise RuntimeError("killed")

    monkeypatch.setattr(incremental.RenderCache, "save", killed)
    card = site_deck.questions / "masking/other-card.yaml"
    card.write_text(card.read_text().replace("Is three odd?", "Is three an odd number?"))
    with pytest.raises(RuntimeError):
        build_site(out, site_deck.docs, site_deck.options)
    assert not (out / incremental.RECORD).is_file()
    assert not incremental.can_build_dirty(out, site_deck.docs, site_build.inputs_digest(True))


NAV = [
    {"Home": "index.md"},
    {
        "Topics": [
            {"Masking": [{"Masking": "masking/index.md"}, {"A": "masking/a.md"}, {"B": "masking/b.md"}]},
            {"Scaling": [{"Scaling": "scaling/index.md"}, {"C": "scaling/c.md"}, {"D": "scaling/d.md"}]},
        ]
    },
    {"Errata": "errata.md"},
]


def test_renaming_a_card_changes_the_navigation_of_its_topic_and_its_neighbours_only():
    renamed = json.loads(json.dumps(NAV).replace('"D"', '"D, renamed"'))
    before, after = incremental.nav_contexts(NAV), incremental.nav_contexts(renamed)
    changed = {page for page in before if before[page] != after[page]}
    # scaling/d.md's own page, its topic (the sidebar), and errata.md, whose footer names it as the previous page
    assert changed == {"scaling/index.md", "scaling/c.md", "scaling/d.md", "errata.md"}
    renamed_topic = json.loads(json.dumps(NAV).replace('"Scaling"', '"Scale"'))
    assert incremental.nav_contexts(renamed_topic)["masking/a.md"] != before["masking/a.md"], "every sidebar"


def test_merged_search_index_takes_rendered_pages_from_this_build_and_drops_removed_pages():
    previous = {
        "config": {},
        "docs": [{"location": loc, "text": "old"} for loc in ("a.html", "a.html#x", "b.html", "c.html")],
    }
    current = {
        "config": {"new": 1},
        "docs": [{"location": "b.html", "text": "new"}, {"location": "b.html#y", "text": "new"}],
    }
    merged = incremental.merge_index(previous, current, rendered={"b.html"}, pages={"a.html", "b.html"})
    assert [(d["location"], d["text"]) for d in merged["docs"]] == [
        ("a.html", "old"),
        ("a.html#x", "old"),
        ("b.html", "new"),
        ("b.html#y", "new"),
    ]
    assert merged["config"] == {"new": 1}
    assert incremental.merge_index(None, current, {"b.html"}, {"b.html"}) == current


def test_tags_page_lists_each_tag_with_its_cards_and_card_pages_link_to_it(site_deck):
    generate(site_deck.docs, site_deck.options)
    tags = (site_deck.docs / "tags.md").read_text()
    assert '<h2 id="tag:arithmetic">' in tags and '<h2 id="tag:demo">' in tags
    demo = tags[tags.index('id="tag:demo"') :]
    assert "[A tiny card](scale/tiny-card.md)" in demo and "[Another card](masking/other-card.md)" in demo
    assert "[Another card]" not in tags[: tags.index('id="tag:demo"')], "only under the tags it carries"
    page = (site_deck.docs / "scale/tiny-card.md").read_text()
    assert '<a href="../tags.html#tag:arithmetic" class="md-tag">arithmetic</a>' in page


EXERCISE = '''\
"""Exercise add-one: a tiny exercise for the site tests."""

from answers.exercises._kit import Misconception

ID = "add-one"
CARD = "tiny-card"
DIFFICULTY = "easy"
TITLE = "Add one"
FUNCTION = "add_one"
IMPORTS = ""


def add_one(x: int) -> int:
    """x plus one, for any int x."""
    return x + 1


def add_two(x: int) -> int:
    return x + 2


MISCONCEPTIONS = [
    Misconception("two instead of one", add_two, "you add two", "tiny-card: one_plus_one_is_two"),
]
'''


def test_an_exercise_gets_a_page_an_index_entry_and_a_link_from_its_card(site_deck, tmp_path):
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "add_one.py").write_text(EXERCISE)
    options = dataclasses.replace(site_deck.options, exercises=folder)
    report = generate(site_deck.docs, options)
    assert {"exercises/index.md", "exercises/add-one.md"} <= set(report.pages)
    page = (site_deck.docs / "exercises/add-one.md").read_text()
    assert "quiz code start add-one\nquiz code check add_one.py" in page
    assert "x plus one, for any int x." in page
    assert "- **two instead of one**: you add two" in page
    assert "(../scale/tiny-card.md#claim-one_plus_one_is_two)" in page, "the mistake links to the claim it breaks"
    card = (site_deck.docs / "scale/tiny-card.md").read_text()
    assert "## Implement it yourself\n\n- [Add one](../exercises/add-one.md)" in card
    assert {
        "Practice": [{"Exercises": [{"Exercises": "exercises/index.md"}, {"Add one": "exercises/add-one.md"}]}]
    } in (report.nav)
    out = tmp_path / "out"
    build_site(out, site_deck.docs, options, strict=True)  # every link on the pages resolves
    assert (out / "exercises/add-one.html").is_file()
