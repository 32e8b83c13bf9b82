"""BERT vs GPT: a bidirectional encoder that fills in blanks vs a causal decoder that predicts the next token.

At a [MASK] position BERT's output depends on the words on both sides; GPT's output at a position
depends only on the words before it. BERT's loss uses the 15 % of positions it selected, of which only 80 %
show [MASK]: 10 % show a random token and 10 % the real one. Both learn a table of absolute positions, which
caps their length.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import causal_mask, generator, randn, seeded_module, sinusoidal_encoding

N, D, HEADS, D_FF = 7, 16, 2, 32
MASK_AT = 3  # the [MASK] position; its neighbours are 2 (left) and 4 (right)
MLM_RATE = 0.15


@functools.cache  # one seeded layer per seed, never modified
def _layer(seed: int) -> nn.TransformerEncoderLayer:
    return seeded_module(
        lambda: nn.TransformerEncoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=1000 * seed + 1
    )


def _mask_position_depends_on(causal: bool, seed: int) -> tuple[bool, bool]:
    """Does the output at the [MASK] position move when its left / right neighbour changes?"""
    x, mask, layer = randn(1, N, D, seed=1000 * seed + 2), (~causal_mask(N) if causal else None), _layer(seed)
    moved = []
    with torch.no_grad():
        base = layer(x, src_mask=mask)[0, MASK_AT]
        for neighbour in (MASK_AT - 1, MASK_AT + 1):
            bumped = x.clone()
            bumped[0, neighbour] += randn(D, seed=1000 * seed + 3)
            moved.append(bool((layer(bumped, src_mask=mask)[0, MASK_AT] - base).abs().max() > 0))
    return moved[0], moved[1]


def bert_reads_both_sides_of_a_mask_gpt_only_the_left(seed: int = 0) -> Evidence:
    """An unmasked (BERT-style) layer's output at the [MASK] position depends on its left and right
    neighbours; a causal (GPT-style) layer's depends on the left one only."""
    return Evidence(
        measured=_mask_position_depends_on(causal=False, seed=seed),
        expected=(True, True),
        comparison="equal",
        derivation="theory: without a mask every softmax weight is positive, both sides included",
        counterfactual="the same layer with a causal mask (GPT-style)",
        counterfactual_measured=_mask_position_depends_on(causal=True, seed=seed),
    )


MLM_VOCAB, MLM_TOKENS = 8, 2048 * 512  # a small vocabulary makes the 1/V term visible; ~157k supervised positions
MASK_ID = MLM_VOCAB  # [MASK] is a special id outside the real tokens


def _bert_masking(tokens: torch.Tensor, g: torch.Generator, keep_rule: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking (Devlin et al. §3.1, appendix A.1; the same steps as Hugging Face's
    DataCollatorForLanguageModeling): select 15 % of positions; of those 80 % become [MASK], 10 % a random
    token drawn uniformly from the vocabulary (which can be the original token), 10 % stay unchanged. Returns
    (inputs, labels) with label −100 where no loss is taken. ``keep_rule=False`` masks every selected position."""
    selected = torch.bernoulli(torch.full(tokens.shape, MLM_RATE), generator=g).bool()
    labels = tokens.masked_fill(~selected, -100)
    if not keep_rule:
        return tokens.masked_fill(selected, MASK_ID), labels
    to_mask = torch.bernoulli(torch.full(tokens.shape, 0.8), generator=g).bool() & selected
    to_random = torch.bernoulli(torch.full(tokens.shape, 0.5), generator=g).bool() & selected & ~to_mask
    random_tokens = torch.randint(MLM_VOCAB, tokens.shape, generator=g)
    inputs = tokens.masked_fill(to_mask, MASK_ID)
    return torch.where(to_random, random_tokens, inputs), labels


def _real_token_share(keep_rule: bool, seed: int) -> float:
    """Among the positions the loss supervises, the share whose input shows the real token."""
    g = generator(seed)
    tokens = torch.randint(MLM_VOCAB, (MLM_TOKENS,), generator=g)
    inputs, labels = _bert_masking(tokens, g, keep_rule)
    supervised = labels != -100
    return (inputs[supervised] == tokens[supervised]).double().mean().item()


def bert_masking_shows_the_real_token_at_a_tenth_of_supervised_positions(seed: int = 0) -> Evidence:
    """BERT's 80/10/10 rule: of the positions the masked-LM loss supervises, a share 0.1 + 0.1/V shows the model
    its real token (the 10 % kept, plus random replacements that happen to draw the original), so the model must
    predict from context even where it sees no [MASK], which never appears at fine-tuning time."""
    p = 0.1 + 0.1 / MLM_VOCAB
    sd = (p * (1 - p) / (MLM_RATE * MLM_TOKENS)) ** 0.5  # binomial share over the expected supervised count
    return Evidence(
        measured=_real_token_share(keep_rule=True, seed=seed),
        expected=p,
        comparison="abs",
        tolerance=6 * sd,
        derivation="theory: P(kept) + P(random) · P(random = original) = 0.1 + 0.1 · 1/V, V = 8; bound 6 s.d.",
        counterfactual="every selected position replaced by [MASK] (no 10 % random, no 10 % kept)",
        counterfactual_measured=_real_token_share(keep_rule=False, seed=seed),
        details={"0.1 + 0.1/V": p, "bound (6 s.d.)": 6 * sd, "vocabulary V": MLM_VOCAB},
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


def learned_position_table_caps_the_length(seed: int = 0) -> Evidence:
    """A learned table of 512 positions (BERT; GPT-2 has 1,024) has no vector for position 512: the
    length limit is built into the parameters. A sinusoidal formula has no such limit."""
    table = seeded_module(lambda: nn.Embedding(512, D), seed=1000 * seed + 7)
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
