"""CARD rules: a card's fields against each other (claims, pitfalls, choices), its file and the other cards."""

from __future__ import annotations

from collections.abc import Iterator

from quiz.models import Card
from quiz.paths import shown_path
from quiz.rules.codes import RESERVED_MODULES
from quiz.rules.scope import Finding, Scope
from quiz.vocab import CHOICE_LETTERS, RETIRED_TOPICS


def id_is_file_name(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id != scope.path.stem:
        yield Finding(("id",), f"'{card.id}' differs from the file name; rename one to match")


def topic_is_folder(card: Card, scope: Scope) -> Iterator[Finding]:
    folder = scope.path.parent.name
    if card.topic != RETIRED_TOPICS.get(folder, folder):
        yield Finding(("topic",), f"'{card.topic}' but the card is in folder '{folder}'; move it or fix the topic")


def id_is_not_reserved(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.module in RESERVED_MODULES:
        yield Finding(("id",), f"'{card.id}' is reserved for a shared module; choose another id")


def id_is_unique(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id in scope.cards:
        yield Finding(("id",), f"'{card.id}' is already used by {shown_path(scope.paths[card.id])}")


def related_cards_exist(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, related in enumerate(card.related):
        if related not in scope.cards and related not in scope.invalid:
            yield Finding(("related", i), f"no card '{related}' in this deck")


def not_related_to_itself(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id in card.related:
        yield Finding(("related", card.related.index(card.id)), "a card cannot be related to itself")


def claims_name_distinct_functions(card: Card, scope: Scope) -> Iterator[Finding]:
    proofs = [claim.proof for claim in card.claims]
    for i, proof in enumerate(proofs):
        if proof in proofs[:i]:
            yield Finding(("claims", i, "proof"), f"'{proof}' is named twice; each claim needs its own function")


def pitfalls_name_claims(card: Card, scope: Scope) -> Iterator[Finding]:
    proofs = {claim.proof for claim in card.claims}
    for i, pitfall in enumerate(card.pitfalls):
        if pitfall.proof not in proofs:
            yield Finding(
                ("pitfalls", i, "proof"), f"'{pitfall.proof}' is not one of this card's claims; name one of them"
            )


def one_correct_choice(card: Card, scope: Scope) -> Iterator[Finding]:
    correct = sum(choice.correct for choice in card.choices)
    if card.choices and (correct != 1 or len(card.choices) < 3):
        yield Finding(
            ("choices",),
            f"need exactly one correct answer among 3 or more choices (found {correct} of {len(card.choices)})",
        )


def wrong_choices_say_why(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, choice in enumerate(card.choices):
        if not choice.correct and not choice.why:
            yield Finding(("choices", i, "why"), "a wrong choice needs a 'why' saying what is wrong with it")


def at_most_ten_choices(card: Card, scope: Scope) -> Iterator[Finding]:
    # `take` names a choice by its letter; a choice past the last letter could be neither shown nor picked.
    if len(card.choices) > len(CHOICE_LETTERS):
        message = f"{len(card.choices)} choices, but at most {len(CHOICE_LETTERS)} can be shown; drop some wrong ones"
        yield Finding(("choices",), message)
