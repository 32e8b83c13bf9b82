"""The way in: the start page with a suggested path through the topics, a page on how to read a claim, and the
notation. The example claim on "How to read a card" is a real card's, as it was proved in this build."""

from __future__ import annotations

from typing import Any

from quiz.deck import Deck
from quiz.models import Card, Topic
from quiz.site.pages import card_path, evidence_table
from quiz.site.proving import CardProof
from quiz.site.safe import deck_markdown as _md

# The order a newcomer meets the ideas in: each topic uses only what comes before it.
PATH: list[tuple[Topic, str]] = [
    (Topic.ATTENTION_CORE, "what attention computes, from scratch, and why the scores are divided by √d_k"),
    (Topic.MULTI_HEAD, "several heads, and what they buy"),
    (Topic.MASKING, "causal and padding masks, and how decoding uses them"),
    (Topic.POSITIONAL, "how order gets in: sinusoids, learned positions, RoPE, ALiBi"),
    (Topic.SUBLAYERS, "the feed-forward network, residuals and normalisation"),
    (Topic.VARIANTS, "encoder, decoder, cross-attention"),
    (Topic.TOKENIZATION, "what a token is and what it costs"),
    (Topic.COMPLEXITY, "what grows with context length"),
    (Topic.EFFICIENT_ATTENTION, "FlashAttention, sparse, sliding-window and linear attention"),
    (Topic.SCALE, "counting parameters, and scaling laws"),
    (Topic.TRAINING, "compute, memory and stability of training"),
    (Topic.OPTIMIZATION, "optimisers, schedules, initialisation and what keeps large runs stable"),
    (Topic.NUMERICS, "number formats and precision"),
    (Topic.INFERENCE, "the KV cache, GQA, batching and serving"),
    (Topic.MOE, "routing tokens to experts, and keeping the load balanced"),
    (Topic.POST_TRAINING, "from a pre-trained model to an assistant: SFT, reward models, DPO"),
]

EXAMPLE_CARD = "causal-masking"  # short claims with a clear counterfactual: a good first table to read

NOTATION = [
    ("n", "sequence length (tokens in one sequence)"),
    ("B", "batch size (sequences processed together)"),
    ("L", "number of layers"),
    ("d, d_model", "width of the residual stream (the model dimension)"),
    ("h", "number of attention (query) heads"),
    ("h_kv", "number of key/value heads (h_kv = h for MHA, 1 for MQA, in between for GQA)"),
    ("d_k, d_head", "width of one head's queries and keys (usually d_model / h)"),
    ("d_v", "width of one head's values"),
    ("d_ff", "hidden width of the feed-forward network"),
    ("V", "vocabulary size"),
    ("N", "number of parameters"),
    ("D", "number of training tokens"),
    ("C", "training compute in FLOPs (C ≈ 6·N·D)"),
    ("Q, K, V", "queries, keys and values: n × d_k, n × d_k and n × d_v matrices"),
    ("A", "attention weights, softmax(QKᵀ/√d_k): each row sums to 1"),
    ("θ", "a rotation angle (RoPE), or the model's parameters"),
    ("m", "a head's ALiBi slope"),
]


def guide_nav() -> list[Any]:
    return [{"How to read a card": "how-to-read.md"}, {"Notation": "notation.md"}]


def _first_card(deck: Deck, topic: Topic) -> Card | None:
    cards = sorted(deck.select(topic=topic.value), key=lambda c: (c.difficulty != "easy", c.title))
    return cards[0] if cards else None


def start_page(deck: Deck, proofs: dict[str, CardProof], topics: list[Topic]) -> str:
    claims = [r for p in proofs.values() for r in p.claims]
    proved = sum(r.passed for r in claims)
    figures = sum("file" in f for p in proofs.values() for f in p.figures)
    parts = [
        "# Transformer proofs",
        "",
        f"{len(deck)} interview questions about Transformers. Every answer is backed by claims that were "
        f"run when this site was built: **{proved} of {len(claims)} claims proved**, each against a "
        f"counterfactual that must fail, with {figures} figures drawn from the same code.",
        "",
        "New here? Read [how to read a card](how-to-read.md) (two minutes) and keep the "
        "[notation](notation.md) open, then follow the path below. Every card page ends with graded questions; "
        "the [self-test](self-test.md) flips through all of them; the [errata](errata.md) list what common "
        "answers get wrong, with the proof.",
        "",
        "## A suggested path",
        "",
    ]
    listed = [topic for topic, _ in PATH if topic in topics]
    rest = [topic for topic in topics if topic not in listed]  # a new topic still appears, at the end
    why = dict(PATH)
    for step, topic in enumerate([*listed, *rest], 1):
        count = sum(card.topic == topic for card in deck)
        first = _first_card(deck, topic)
        start = f" Start with [{_md(first.title)}]({card_path(first)})." if first else ""
        parts.append(
            f"{step}. **[{topic.title}]({topic.value}/index.md)** — {why.get(topic, '')} "
            f"({count} card{'s' if count != 1 else ''}).{start}"
        )
    parts.append("")
    return "\n".join(parts)


def how_to_read_page(deck: Deck, proofs: dict[str, CardProof]) -> str:
    example = deck.cards.get(EXAMPLE_CARD) or next(iter(deck))
    proof = proofs[example.id]
    return "\n".join(
        [
            "# How to read a card",
            "",
            "Each card is an interview question with the answer you would give, an explanation, and **claims**: "
            "sentences of the answer that a function in the card's proof module checks by running code "
            "(PyTorch, on a CPU) every time this site is built.",
            "",
            "## One row of evidence",
            "",
            "- **Measured**: what the code computed, e.g. the largest attention weight on a future token.",
            "- **Expected**: the check it must pass. `= 0` is exact; `within ±1e-12 of 0` allows that much "
            "floating-point error; `within 1% of 175,000,000,000` is relative. The expected value is derived "
            "independently of the measurement (from theory, a float64 loop, PyTorch's own implementation, or a "
            "paper's table); the card's *Proofs* section says which, as the **derivation**.",
            "- **Counterfactual**: the same check run on the broken version people actually write (no scaling, "
            "no mask, a mask that hides the diagonal…). It must **fail**: that is what shows the check can tell "
            "the right mechanism from the wrong one. “→ fails, as it must” is the good outcome.",
            "- **Result**: *proved* when the claim holds and its counterfactual fails; anything else is shown "
            "in red, and the build reports it.",
            "",
            f"For example, from [{_md(example.title)}]({card_path(example)}):",
            "",
            '<div class="reflow evidence" markdown="1">',
            "",
            evidence_table(example, proof).replace("](#claim-", f"]({card_path(example)}#claim-"),
            "",
            "</div>",
            "",
            "## The rest of a card",
            "",
            "- **Answer** is closed until you open it: try the question first.",
            "- **Test yourself** grades you: a multiple-choice question (each wrong pick says why it is wrong) "
            "and numeric questions, where you may type units and multipliers (`2 GiB`, `175B`, `3.1e23`).",
            "- **Pitfalls** are common answers that are *false* or *imprecise*, each linked to the claim that "
            "refutes or sharpens it. All of them are collected in the [errata](errata.md).",
            "- **Not measured here** says what the card states but a CPU cannot measure (speed on a GPU, a "
            "paper's training run).",
            "- **Proofs** shows each claim's function, exactly as it runs, with the helpers it calls.",
            "",
            "Symbols are listed on the [notation](notation.md) page.",
            "",
        ]
    )


def notation_page() -> str:
    rows = ["| Symbol | Meaning |", "| --- | --- |"]
    rows += [f"| {symbol} | {meaning} |" for symbol, meaning in NOTATION]
    return "\n".join(
        [
            "# Notation",
            "",
            "The symbols the cards use, in the order a Transformer meets them. Sizes are counts unless a "
            "unit is given; *bytes per element* is 4 for fp32, 2 for fp16 and bf16, 1 for fp8.",
            "",
            *rows,
            "",
        ]
    )


def guide_pages(deck: Deck, proofs: dict[str, CardProof]) -> dict[str, str]:
    topics = [topic for topic in Topic if any(card.topic == topic for card in deck)]
    return {
        "index.md": start_page(deck, proofs, topics),
        "how-to-read.md": how_to_read_page(deck, proofs),
        "notation.md": notation_page(),
    }
