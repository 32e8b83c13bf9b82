"""Math in the terminal (issue 12 item 2, quiz.md finding #2): every text field of every card, as the terminal
shows it, has no LaTeX command left and no half-subscripted word (dₘodel, hₖv)."""

from __future__ import annotations

import re

import pytest

from quiz.cli.latex import latex_to_unicode
from quiz.deck import load_deck

DECK = load_deck()
COMMAND = re.compile(r"\\[A-Za-z]+")
# a subscript letter glued to the rest of a word: only part of a multi-letter subscript was converted
HALF_SUBSCRIPT = re.compile(r"[ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼ][A-Za-z]")


def texts(card) -> list[tuple[str, str]]:
    fields = [("title", card.title), ("question", card.question), ("answer", card.answer)]
    fields += [("explanation", card.explanation), ("unmeasured", card.unmeasured or "")]
    fields += [(f"pitfalls.{i}", p.myth + " " + p.truth) for i, p in enumerate(card.pitfalls)]
    fields += [(f"claims.{i}", c.statement) for i, c in enumerate(card.claims)]
    fields += [(f"choices.{i}", c.text + " " + (c.why or "")) for i, c in enumerate(card.choices)]
    fields += [(f"numeric.{i}", n.prompt) for i, n in enumerate(card.numeric)]
    fields += [(f"must_say.{i}", p) for i, p in enumerate(card.must_say)]
    return fields


@pytest.mark.parametrize("card", sorted(DECK.cards.values(), key=lambda c: c.id), ids=lambda c: c.id)
def test_every_text_field_renders_without_latex_commands_or_half_subscripts(card):
    bad = []
    for name, text in texts(card):
        shown = latex_to_unicode(text)
        bad += [
            f"{name}: {m.group()!r} in …{shown[max(0, m.start() - 20) : m.end() + 20]}…"
            for m in COMMAND.finditer(shown)
        ]
        bad += [f"{name}: half subscript {m.group()!r}" for m in HALF_SUBSCRIPT.finditer(shown)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "latex, shown",
    [
        (r"$d_\text{out}$", "d_out"),
        (r"$d_{\text{model}}$", "d_model"),
        (r"$h_{kv}$", "h_kv"),
        (r"$d_k$", "dₖ"),
        (r"$\varphi$", "φ"),
        (r"$i \bmod h$", "i mod h"),
        (r"$\tfrac{1}{2}$", "1/2"),
        (r"$\underbrace{8nd^2}_{\text{FFN}}$", "8nd² [FFN]"),
        (r"$\begin{pmatrix}a & b \\ c & d\end{pmatrix}$", "[a b; c d]"),
        (r"$\varsigma$", "ς"),  # not in our table: from pylatexenc
        (r"$\sum_{j \le i} A_{ij}$", "Σ_(j ≤ i) Aᵢⱼ"),
    ],
)
def test_latex_reads_as_a_person_would_say_it(latex, shown):
    assert latex_to_unicode(latex) == shown
