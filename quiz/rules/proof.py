"""PROOF rules: a card against its proof module, read as an outline; and the answers folder as a whole."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from quiz.models import Card
from quiz.paths import module_too_big, shown_path
from quiz.rules.codes import SHARED_MODULES, Problem
from quiz.rules.scope import Finding, Outline, Scope


def _module(card: Card, scope: Scope) -> tuple[Path, Outline | None]:
    path = scope.answers_dir / f"{card.module}.py"
    return path, scope.outline(path)


def module_is_small(card: Card, scope: Scope) -> Iterator[Finding]:
    message = module_too_big(scope.answers_dir / f"{card.module}.py")
    if message:
        yield Finding(("claims",), f"{message}, split it")


def module_exists(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    if outline is None and not module_too_big(path):
        message = f"proof module {shown_path(path)} is missing or unreadable; create it with the claim functions"
        yield Finding(("claims",), message)


def claim_functions_exist(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    for i, claim in enumerate(card.claims if outline else ()):
        if claim.proof not in outline.functions:
            yield Finding(("claims", i, "proof"), f"function '{claim.proof}' is not defined in {shown_path(path)}")


def claim_functions_return_evidence(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    for i, claim in enumerate(card.claims if outline else ()):
        if claim.proof in outline.functions and not outline.functions[claim.proof][2]:
            message = f"'{claim.proof}' must be annotated '-> Evidence' in {shown_path(path)}"
            yield Finding(("claims", i, "proof"), message)


def evidence_functions_are_claims(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    named = {claim.proof for claim in card.claims}
    message = f"returns Evidence but card '{card.id}' names no claim for it; add one or remove it"
    for name, (line, _, is_claim) in sorted(outline.functions.items() if outline else ()):
        if is_claim and name not in named and not name.startswith("_"):
            yield Finding((name,), message, file=path, line=line)


def no_module_for_any_card(cards: Mapping[str, Card], answers_dir: Path) -> list[Problem]:
    """DECK005: an answers folder with none of the deck's proofs is one line, not one per card."""
    if cards and not any((answers_dir / f"{card.module}.py").is_file() for card in cards.values()):
        message = f"holds no proof module for any of the {len(cards)} cards; point --answers at this deck's proofs"
        return [Problem(shown_path(answers_dir), 0, "", message, "DECK005")]
    return []


def modules_without_cards(cards: Mapping[str, Card], invalid: set[str], answers_dir: Path) -> list[Problem]:
    """PROOF005: when the deck owns its answers folder, every proof module there belongs to one of its cards."""
    modules = {card.module for card in cards.values()}
    message = "proof module has no card; add questions/<topic>/<id>.yaml or remove it"
    return [
        Problem(shown_path(path), 1, "", message, "PROOF005")
        for path in sorted(answers_dir.glob("*.py"))
        if path.stem not in SHARED_MODULES | modules and path.stem.replace("_", "-") not in invalid
    ]
