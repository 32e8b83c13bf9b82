"""Every claim of every card, both ways: it holds on the real mechanism and fails on the broken one."""

from __future__ import annotations

import pytest

from quiz.deck import load_deck
from quiz.proofs import run_claim

DECK = load_deck()
CLAIMS = [(card, i) for card in DECK for i in range(len(card.claims))]


@pytest.mark.parametrize(("card", "index"), CLAIMS, ids=[f"{c.id}::{c.claims[i].proof}" for c, i in CLAIMS])
def test_claim_holds_and_its_counterfactual_fails(card, index):
    result = run_claim(card, index)
    assert result.error is None, result.error
    ev = result.evidence
    assert ev.holds, f"measured {ev.measured!r}, expected {ev.criterion()} ({ev.derivation})"
    assert not ev.counterfactual_holds, f"the broken mechanism ({ev.counterfactual}) also passes: the check cannot fail"
