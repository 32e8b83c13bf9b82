"""The bank as a whole: it covers the source material, and says plainly where the source is wrong."""

from __future__ import annotations

import re

from quiz.deck import load_deck

DECK = load_deck()

# The audit of the seed documents (shared/claims.md) marks these FALSE (C20 C28 C30 C84) or IMPRECISE.
AUDITED_MISTAKES = {
    *("C20", "C28", "C30", "C84"),
    *("C4", "C7", "C13", "C15", "C17", "C18", "C21", "C31", "C40", "C44", "C47", "C49"),
    *("C53", "C54", "C55", "C56", "C58", "C59", "C63", "C64", "C72", "C76", "C83", "C91"),
}

# Every interview question the study documents ask, by document and a phrase from it.
DAY_31 = "Day 31: Transformer Architecture Deep Dive"
Q_AND_A = "Transformer Architecture (interview question and answer)"
REAL_QUESTION = "Transformer Architecture Deep Dive: The Real Interview Question"
SERVING = "Transformer Architecture: Deep Dive (performance and serving)"
SEED_QUESTIONS = [
    (DAY_31, "time complexity of self-attention"),
    (DAY_31, "scaling factor"),
    (DAY_31, "causal masking"),
    (Q_AND_A, "transformer architecture"),
    (Q_AND_A, "self-attention mechanism"),
    (Q_AND_A, "bert differ from gpt"),
    (Q_AND_A, "positional encoding"),
    (REAL_QUESTION, "attention mechanism in your own words"),
    (REAL_QUESTION, "scale by √d_k"),
    (REAL_QUESTION, "self-attention and cross-attention"),
    (REAL_QUESTION, "positional encodings necessary"),
    (REAL_QUESTION, "encoder-decoder architecture"),
    (REAL_QUESTION, "multi-head attention instead of single-head"),
    (REAL_QUESTION, "residual connections"),
    (REAL_QUESTION, "pre-norm vs post-norm"),
    (REAL_QUESTION, "o(n²) complexity"),
    (REAL_QUESTION, "reduce attention complexity"),
    (REAL_QUESTION, "long contexts"),
    (REAL_QUESTION, "why do transformers still fail"),
    (REAL_QUESTION, "encoder-only"),
    (REAL_QUESTION, "decoder-only models dominate"),
    (SERVING, "whiteboard"),
]

# The catalogue's minimum set of cards (shared/cards.md).
CATALOGUE = """
self-attention-from-scratch attention-vs-recurrence attention-weights-vs-importance transformer-overview
transformer-block-whiteboard sqrt-dk-scaling multi-head-attention-implementation multi-head-vs-single-head
head-specialization-and-ensembles permutation-equivariance-positional-encoding sinusoidal-encoding-properties
learned-absolute-positions rope-relative-rotation rope-length-extrapolation alibi-linear-bias causal-masking
parallel-training-sequential-decoding nn-transformer-api-pitfalls cross-attention encoder-decoder-walkthrough
architecture-families bert-vs-gpt why-decoder-only-dominates feed-forward-network residual-connections
pre-norm-vs-post-norm layer-normalization attention-complexity context-doubling-cost context-window-limits
long-context-techniques why-transformers-still-fail flash-attention efficient-attention-landscape
sparse-attention-patterns sliding-window-attention linear-attention gqa-mqa-kv-cache kv-cache-decoding
paged-attention mixture-of-experts quantization pruning-and-distillation perplexity-and-serving-metrics
training-memory-budget mixed-precision gradient-checkpointing parallelism-strategies training-stability-tricks
base-transformer-parameter-count gpt3-parameter-count gpt-family-numbers scaling-laws transformers-beyond-text
llm-paradigms-icl-cot
""".split()  # noqa: SIM905  (a block of ids reads better than a 55-item list)


def test_every_false_or_imprecise_seed_claim_is_named_in_a_pitfall():
    audited = {p.audit for card in DECK for p in card.pitfalls if p.audit}
    missing = sorted(AUDITED_MISTAKES - audited, key=lambda c: int(c[1:]))
    assert not missing, f"no pitfall names {', '.join(missing)}"


def test_pitfalls_for_false_claims_are_marked_false():
    verdicts = {p.audit: p.verdict for card in DECK for p in card.pitfalls if p.audit in {"C20", "C28", "C30", "C84"}}
    assert set(verdicts.values()) == {"false"}


def test_every_seed_interview_question_maps_to_a_card():
    asked = [(q.document, q.question.lower()) for card in DECK for q in card.asked_in]
    unmapped = [(s, phrase) for s, phrase in SEED_QUESTIONS if not any(s == a and phrase in text for a, text in asked)]
    assert not unmapped, f"study-document questions with no card: {unmapped}"


def test_every_catalogue_card_exists():
    assert not sorted(set(CATALOGUE) - set(DECK.cards))


def test_the_bank_goes_beyond_the_catalogue():
    assert len(DECK) >= 70 and len(set(DECK.cards) - set(CATALOGUE)) >= 15


def test_every_card_has_a_rubric_of_two_to_five_distinct_points():
    """`quiz interview` self-grades a spoken answer against `must_say`. The schema keeps it optional, for a user's
    own deck; the shipped deck must have it on every card."""
    lacking = sorted(card.id for card in DECK if not card.must_say)
    assert not lacking, f"cards without must_say: {lacking}"
    for card in DECK:
        assert 2 <= len(card.must_say) <= 5, card.id
        assert len(set(card.must_say)) == len(card.must_say), f"{card.id}: a point repeated"
        assert card.title.lower() not in {p.lower() for p in card.must_say}, f"{card.id}: a point restates the title"


def test_every_topic_has_cards():
    from quiz.models import Topic

    assert {card.topic for card in DECK} == set(Topic)


def test_enough_cards_offer_multiple_choice_and_numeric_templates():
    assert sum(bool(card.choices) for card in DECK) >= 30
    generated = [n for card in DECK for n in card.numeric if n.generated]
    assert len(generated) >= 15


def test_every_formula_is_exercised_by_some_proof_module():
    """A formula the quiz uses to generate questions must be checked by a claim somewhere."""
    from answers import SHARED
    from answers.formulas import FORMULAS
    from quiz.paths import DEFAULT_ANSWERS

    sources = "\n".join(p.read_text() for p in DEFAULT_ANSWERS.glob("*.py") if p.stem not in SHARED)
    unchecked = sorted(name for name in FORMULAS if not re.search(rf"\b{name}\b", sources))
    assert not unchecked, f"formulas no proof module uses: {unchecked}"


def _shown_text(value: object, field: str = "") -> list[tuple[str, str]]:
    """Every string a reader can see on a card (the internal `audit` id excluded), with its field path."""
    if isinstance(value, str):
        return [(field, value)]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _shown_text(v, f"{field}[{i}]")]
    if hasattr(value, "model_dump"):
        return [
            item
            for name in type(value).model_fields
            if name != "audit"
            for item in _shown_text(getattr(value, name), f"{field}.{name}".lstrip("."))
        ]
    return []


def test_no_card_names_a_source_by_seed_number_or_audit_id():
    """Sources are named for people (a document's title and section), never "seed 000, line 38" or "C30"."""
    internal = re.compile(r"\bseeds? 0\d\d\b|\blines? \d+\b|\baudit\b|\bC\d{1,3}\b", re.IGNORECASE)
    found = [
        f"{card.id}: {field}: {text[:60]!r}"
        for card in DECK
        for field, text in _shown_text(card)
        if internal.search(text)
    ]
    assert not found, "\n".join(found)
