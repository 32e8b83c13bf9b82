"""BERT vs GPT: a bidirectional encoder that fills in blanks vs a causal decoder that predicts the next token.

At a [MASK] position BERT's output depends on the words on both sides; GPT's output at a position
depends only on the words before it. BERT's loss uses the ~15 % of positions it masked, GPT's loss uses
every position but the last. Both learn a table of absolute positions, which caps their length.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import causal_mask, generator, randn, seeded_module, sinusoidal_encoding

N, D, HEADS, D_FF = 7, 16, 2, 32
MASK_AT = 3  # the [MASK] position; its neighbours are 2 (left) and 4 (right)
SEQ, VOCAB, MLM_RATE = 512, 8, 0.15


@functools.cache  # one fixed seeded layer, never modified
def _layer() -> nn.TransformerEncoderLayer:
    return seeded_module(lambda: nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=1)


def _mask_position_depends_on(causal: bool) -> tuple[bool, bool]:
    """Does the output at the [MASK] position move when its left / right neighbour changes?"""
    x, mask = randn(1, N, D, seed=2), (~causal_mask(N) if causal else None)
    moved = []
    with torch.no_grad():
        base = _layer()(x, src_mask=mask)[0, MASK_AT]
        for neighbour in (MASK_AT - 1, MASK_AT + 1):
            bumped = x.clone()
            bumped[0, neighbour] += randn(D, seed=3)
            moved.append(bool((_layer()(bumped, src_mask=mask)[0, MASK_AT] - base).abs().max() > 0))
    return moved[0], moved[1]


def bert_reads_both_sides_of_a_mask_gpt_only_the_left() -> Evidence:
    """An unmasked (BERT-style) layer's output at the [MASK] position depends on its left and right
    neighbours; a causal (GPT-style) layer's depends on the left one only."""
    return Evidence(
        measured=_mask_position_depends_on(causal=False),
        expected=(True, True),
        comparison="equal",
        derivation="theory: without a mask every softmax weight is positive, both sides included",
        counterfactual="the same layer with a causal mask (GPT-style)",
        counterfactual_measured=_mask_position_depends_on(causal=True),
    )


def _positions_with_gradient(objective: str) -> int:
    """How many positions' logits receive gradient from one 512-token sequence's loss."""
    tokens = torch.randint(VOCAB, (1, SEQ), generator=generator(4))
    logits = randn(1, SEQ, VOCAB, seed=5).requires_grad_()
    if objective == "next-token":  # position t predicts token t+1; the last position has no target
        loss = F.cross_entropy(logits[0, :-1], tokens[0, 1:])
    else:  # masked LM: only the chosen ~15 % of positions carry a label
        labels = torch.full((SEQ,), -100)
        chosen = torch.randperm(SEQ, generator=generator(6))[: round(MLM_RATE * SEQ)]
        labels[chosen] = tokens[0, chosen]
        loss = F.cross_entropy(logits[0], labels, ignore_index=-100)
    loss.backward()
    return int((logits.grad[0].abs().amax(-1) > 0).sum())


def next_token_prediction_trains_every_position_but_one() -> Evidence:
    """GPT's loss on a 512-token sequence sends gradient to 511 positions; BERT's masked-LM loss only
    to the round(0.15 · 512) = 77 positions it masked."""
    return Evidence(
        measured=_positions_with_gradient("next-token"),
        expected=SEQ - 1,
        comparison="equal",
        derivation="theory: n − 1 (token, next token) pairs in an n-token sequence",
        counterfactual="masked-LM objective (15 % of positions labelled)",
        counterfactual_measured=_positions_with_gradient("masked-lm"),
        details={"ratio 511 / 77": (SEQ - 1) / round(MLM_RATE * SEQ)},
    )


def _embeds(position_table, positions=(511, 512, 1023)) -> tuple[bool, ...]:
    """Which positions the table can produce a vector for."""
    results = []
    for position in positions:
        try:
            position_table(position)
            results.append(True)
        except IndexError:
            results.append(False)
    return tuple(results)


def learned_position_table_caps_the_length() -> Evidence:
    """A learned table of 512 positions (BERT; GPT-2 has 1,024) has no vector for position 512: the
    length limit is built into the parameters. A sinusoidal formula has no such limit."""
    table = seeded_module(lambda: nn.Embedding(512, D), seed=7)
    with torch.no_grad():
        learned = _embeds(lambda p: table(torch.tensor([p])))
    sinusoidal = _embeds(lambda p: sinusoidal_encoding(p + 1, D)[p])
    return Evidence(
        measured=learned,
        expected=(True, False, False),
        comparison="equal",
        derivation="definition: a 512-row table holds rows 0 … 511",
        counterfactual="sinusoidal encoding, a formula of the position",
        counterfactual_measured=sinusoidal,
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
