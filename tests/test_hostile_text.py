"""Hostile text from a deck reaches no output as anything but text, and what `quiz check` passes `take` can ask
(issue 11). The attack scripts in shared/attacks exercise the commands; these pin each cause in-process."""

from __future__ import annotations

import io
import os
import random
import re

import pytest
from conftest import VALID_CARD

from quiz.cli.base import SafeConsole
from quiz.site.build import MARKER, claim_output
from quiz.site.options import SiteError
from quiz.site.safe import deck_markdown, safe_url

HOSTILE_TITLE = "A card\x1b]52;c;cm0gLXJmIH4K\x1b\\\x1b]0;owned\x07\x1b[8mhidden\x1b[0m \x9b31m\u202eevil [/] [link=x]y"


def printed(*renderables) -> str:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True, width=200, color_system="truecolor")
    console.print(*renderables)
    return buffer.getvalue()


def test_the_console_writes_no_escape_sequence_that_came_from_text():
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("title")
    table.add_row(HOSTILE_TITLE)
    shown = printed(HOSTILE_TITLE, Text(HOSTILE_TITLE), Panel("body", title=Text(HOSTILE_TITLE)), table)
    for sequence in ("\x1b]52;", "\x1b]0;", "\x1b[8m", "\x9b", "\u202e", "\x1b]8;"):
        assert sequence not in shown
    assert "[/]" in shown and "[link=x]y" in shown  # markup is shown as written, not parsed


def test_the_console_still_styles_what_the_quiz_itself_styles():
    from rich.text import Text

    assert "\x1b[1;31m" in printed(Text("wrong", style="bold red"))


def test_a_markup_title_in_a_question_panel_is_text(deck_builder):
    from quiz.cache import load_index
    from quiz.cli.views import question_panel

    deck_builder.card(VALID_CARD.replace("title: A tiny card", 'title: "Costs [/] and [bold]benefits"'))
    deck_builder.module()
    [card] = load_index(deck_builder.questions, deck_builder.answers)
    assert "Costs [/] and [bold]benefits" in printed(question_panel(card))


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "`a`<svg onload=alert(1)>",
        'text\n{: onmouseover="alert(1)" }',
        "```\n<script>alert(1)</script>\n```",
        "$$\n<img src=x onerror=alert(1)>\n$$",
    ],
)
def test_raw_html_and_attributes_in_card_text_become_text(payload):
    import markdown

    rendered = markdown.markdown(
        deck_markdown(payload),
        extensions=["attr_list", "md_in_html", "pymdownx.arithmatex", "pymdownx.superfences"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    assert "<script" not in rendered and "<img" not in rendered and "<svg" not in rendered
    assert not re.search(r"<[^>]*\bon\w+\s*=", rendered)  # no event handler inside any tag


@pytest.mark.parametrize(
    "target",
    ["javascript:alert(1)", "JavaScript:alert(1)", "jav&#x61;script:alert(1)", "java\tscript:x", "data:text/html,x"],
)
def test_a_link_that_is_not_web_mail_or_relative_goes_nowhere(target):
    assert safe_url(target) == "#"
    assert "](#" in deck_markdown(f"[click]({target})")


def test_a_link_target_with_parentheses_is_replaced_whole():
    # The target ends at its balanced ")", as Python-Markdown reads it: no stray ")" left after the link.
    assert deck_markdown("see [a link](javascript:alert('x')) here") == "see [a link](#) here"
    assert deck_markdown("[w](https://en.wikipedia.org/wiki/A_(b))") == "[w](https://en.wikipedia.org/wiki/A_(b))"


def test_quotes_in_page_text_become_entities_but_tags_and_scripts_keep_theirs():
    from quiz.site.safe import quote_text_nodes

    page = '<p class="x">{: onmouseover="alert(1)" } it\'s</p><script>var a = "b";</script><!-- "c" -->'
    assert quote_text_nodes(page) == (
        '<p class="x">{: onmouseover=&quot;alert(1)&quot; } it&#39;s</p><script>var a = "b";</script><!-- "c" -->'
    )


@pytest.mark.parametrize("target", ["https://arxiv.org/abs/1706.03762", "mailto:a@b.c", "../masking/x.md", "#claim-a"])
def test_web_mail_and_relative_links_are_kept(target):
    assert safe_url(target) == target


def test_math_keeps_its_characters_for_katex():
    import html

    import markdown

    rendered = markdown.markdown(
        deck_markdown("so $x_{<i} = \\frac{a}{b}$ holds"),
        extensions=["pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    assert html.unescape(rendered).count("\\(x_{<i} = \\frac{a}{b}\\)") == 1  # what KaTeX reads, via the DOM


def test_the_anki_note_escapes_html_and_script():
    from quiz.anki import _html

    note = _html('Two. <img src=x onerror="alert(1)"> and [x](javascript:alert(1)) and **bold** $a<b$')
    assert "<img" not in note and "javascript:" not in note
    assert "<strong>bold</strong>" in note and "\\(a&lt;b\\)" in note


def test_a_site_build_refuses_a_folder_it_did_not_make(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "NOTES.md").write_text("mine")
    with pytest.raises(SiteError, match="is not empty and was not made by `quiz site build`"):
        claim_output(folder)
    assert sorted(os.listdir(folder)) == ["NOTES.md"]


def test_a_site_build_takes_a_new_or_empty_folder_and_marks_it(tmp_path):
    claim_output(tmp_path / "new" / "site")
    (tmp_path / "empty").mkdir()
    claim_output(tmp_path / "empty")
    assert (tmp_path / "new" / "site" / MARKER).is_file() and (tmp_path / "empty" / MARKER).is_file()
    (tmp_path / "empty" / "index.html").write_text("built")
    claim_output(tmp_path / "empty")  # marked: a later build may rebuild it


def test_an_editor_lock_file_beside_a_card_is_not_part_of_the_deck(deck_builder):
    from quiz.cache import load_index
    from quiz.deck import load_deck

    deck_builder.card()
    deck_builder.module()
    os.symlink("user@host.4242:1700000000", deck_builder.questions / "scale" / ".#tiny-card.yaml")
    os.symlink("user@host.4242:1700000000", deck_builder.answers / ".#tiny_card.py")
    assert [c.id for c in load_index(deck_builder.questions, deck_builder.answers)] == ["tiny-card"]
    assert list(load_deck(deck_builder.questions, deck_builder.answers).cards) == ["tiny-card"]


@pytest.mark.parametrize(
    ("formula", "params", "message"),
    [
        ("kv_cache_saving", {"query_heads": [8], "kv_heads": [0]}, "fails (ZeroDivisionError"),
        ("kv_cache_saving", {"query_heads": [10**400], "kv_heads": [1]}, "fails (OverflowError"),
        ("kv_cache_saving", {"query_heads": [8]}, "fails (TypeError"),
        ("rope_pairs_completing_a_turn", {"tokens": [100], "head_dim": [2 * 10**12]}, "takes more than 1 s"),
    ],
)
def test_a_formula_that_cannot_give_a_number_is_one_line_when_drawn(formula, params, message):
    from quiz.cache import NumericView
    from quiz.evaluate import FormulaError
    from quiz.numeric import draw

    with pytest.raises(FormulaError, match=message.replace("(", r"\(")) as caught:
        draw(NumericView("How many?", formula, params, "count"), random.Random(0))
    assert "\n" not in str(caught.value)


def test_the_site_pages_carry_no_html_from_the_deck(deck_builder):
    from quiz.deck import load_deck
    from quiz.site.pages import selftest_data, topic_page

    hostile = VALID_CARD.replace("title: A tiny card", "title: \"T <img src=x onerror=alert('t')>\"").replace(
        "answer: Two.", 'answer: "Two <script>alert(1)</script>"'
    )
    deck_builder.card(hostile)
    deck_builder.module()
    deck = load_deck(deck_builder.questions, deck_builder.answers)
    [data] = selftest_data(deck)
    assert "<script" not in data["answer"] and "alert(1)" in data["answer"]
    from quiz.models import Topic

    page = topic_page(Topic("scale"), list(deck), {"tiny-card": _no_proof(deck)})
    assert "<img" not in page


def _no_proof(deck):
    from types import SimpleNamespace

    return SimpleNamespace(claims=[])


def test_plain_output_keeps_tabs_and_newlines_but_no_control_character():
    from quiz.cli.base import printable

    assert printable("id\ttitle\x1b]0;owned\x07\u202e\n") == "id\ttitle]0;owned\n"
