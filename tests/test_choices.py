"""Multiple choice that tests knowledge: no option can be found, or ruled out, by its surface.

A choice question is worthless if a reader who knows nothing can beat chance by a rule of thumb. The rules of
thumb test-takers actually use, and that this bank was once open to (picking the longest option won 97 % of the
mock interview's choice questions), are checked here on every card with choices:

* **Length.** The correct option is the strictly longest on at most 40 % of the cards (chance, with three or four
  options, is 25–33 %), and it is the strictly shortest on at most 40 % too, so the opposite trick fails as well.
  On each card no option is shorter than 40 % of another: a one-line distractor next to a paragraph is eliminated
  without reading it.
* **Wording.** Test-takers strike options with absolute words ("always", "never", "only", "all", "no"...) and
  keep hedged ones ("usually", "about", "roughly"...). The rule checked is operational: play each of those two
  strategies on the whole bank (among the options the strategy keeps, pick at random) and its expected score must
  stay at most 40 %, the same bar as length. Per card, the correct option must not be the only one free of
  absolute words, since there the strike-the-absolutes strategy wins outright. An absolute word is fine in a
  right answer and in a wrong one alike; what is checked is that it does not tell them apart.

Option order is shuffled each time a card is shown, so position is no cue and is not checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pytest

from quiz.deck import load_deck
from quiz.models import Card

DECK = load_deck()
WITH_CHOICES = [card for card in DECK if card.choices]

MAX_CUE_SCORE = 0.40  # the share a surface rule may win, over the bank; chance is 25–33 %
MIN_LENGTH_RATIO = 0.40  # the shortest option of a card, as a share of its longest

ABSOLUTE = re.compile(
    r"\b(always|never|only|all|every|none|no|nothing|must|cannot|can't|impossible|entirely|completely"
    r"|guaranteed?|any)\b",
    re.IGNORECASE,
)
HEDGE = re.compile(r"\b(usually|typically|often|roughly|about|approximately|mostly|may|can|tends?|around)\b", re.I)


def _correct(card: Card) -> int:
    return next(i for i, choice in enumerate(card.choices) if choice.correct)


def _expected_score(cards: Sequence[Card], keep: Callable[[list[str]], list[int]]) -> float:
    """The mean score of a strategy that keeps some options of each card and picks among them at random."""
    total = 0.0
    for card in cards:
        kept = keep([choice.text for choice in card.choices]) or list(range(len(card.choices)))
        total += (_correct(card) in kept) / len(kept)
    return total / len(cards)


def _longest(texts: list[str]) -> list[int]:
    return [i for i, t in enumerate(texts) if len(t) == max(map(len, texts))]


def _shortest(texts: list[str]) -> list[int]:
    return [i for i, t in enumerate(texts) if len(t) == min(map(len, texts))]


def _fewest_absolutes(texts: list[str]) -> list[int]:
    counts = [len(ABSOLUTE.findall(t)) for t in texts]
    return [i for i, c in enumerate(counts) if c == min(counts)]


def _most_hedges(texts: list[str]) -> list[int]:
    counts = [len(HEDGE.findall(t)) for t in texts]
    return [i for i, c in enumerate(counts) if c == max(counts)]


def _strictly(pick: Callable[[list[str]], list[int]], card: Card) -> bool:
    return pick([c.text for c in card.choices]) == [_correct(card)]


def test_the_bank_has_enough_choice_questions_to_measure():
    assert len(WITH_CHOICES) >= 30
    assert all(sum(c.correct for c in card.choices) == 1 and len(card.choices) >= 3 for card in WITH_CHOICES)


@pytest.mark.parametrize("pick", [_longest, _shortest], ids=["longest", "shortest"])
def test_the_correct_option_is_rarely_the_strictly_longest_or_shortest(pick):
    strictly = [card.id for card in WITH_CHOICES if _strictly(pick, card)]
    share = len(strictly) / len(WITH_CHOICES)
    assert share <= MAX_CUE_SCORE, f"correct option is the {pick.__name__[1:]} on {len(strictly)}/{len(WITH_CHOICES)}"


def test_no_option_is_eliminable_by_its_length():
    short = []
    for card in WITH_CHOICES:
        lengths = [len(c.text) for c in card.choices]
        if min(lengths) < MIN_LENGTH_RATIO * max(lengths):
            short.append(f"{card.id}: lengths {lengths}")
    assert not short, "options much shorter than another on the same card:\n" + "\n".join(short)


@pytest.mark.parametrize(
    "strategy", [_longest, _shortest, _fewest_absolutes, _most_hedges], ids=lambda s: s.__name__.lstrip("_")
)
def test_no_surface_strategy_wins_more_than_the_bar(strategy):
    score = _expected_score(WITH_CHOICES, strategy)
    assert score <= MAX_CUE_SCORE, f"{strategy.__name__}: expected score {score:.0%} over {len(WITH_CHOICES)} cards"


def test_the_correct_option_is_never_the_only_one_free_of_absolute_words():
    given_away = [
        card.id
        for card in WITH_CHOICES
        if any(ABSOLUTE.search(c.text) for c in card.choices)
        and _strictly(_fewest_absolutes, card)
        and sum(not ABSOLUTE.search(c.text) for c in card.choices) == 1
    ]
    assert not given_away, f"only the correct option has no absolute word: {given_away}"


def test_the_strategies_see_the_cues_they_claim_to():
    """The checks above can fail: each strategy finds the option its rule of thumb points at."""
    assert _longest(["a", "abc", "ab"]) == [1] and _shortest(["a", "abc", "ab"]) == [0]
    assert _fewest_absolutes(["It always holds.", "It holds at d = 64.", "Only one."]) == [1]
    assert _most_hedges(["It usually holds.", "It holds."]) == [0]
