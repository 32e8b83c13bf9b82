"""Why Transformers still fail: finite context, growing cost, and learning whatever the data says.

Three of the limitations can be shown on a CPU: a learned position table is a hard context limit (while the
same layer with computed positions runs at any length), each token's compute grows with the context because it
attends to every earlier one, and next-token training drives a model towards the data's own frequencies,
skew included. Whether a model is helpful or safe — the alignment problem — is not a number we can measure
here.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import EncoderLayer, FeedForward, count_flops, randn, seeded_module, sinusoidal_encoding

D, HEADS = 64, 4
TABLE = 512  # a BERT/GPT-1-sized learned position table
LENGTHS = (256, 512, 513, 1024)  # the lengths the whole layer is run on


def _longest_the_layer_runs(positions, seed: int) -> int:
    """The longest of LENGTHS on which an encoder layer runs end to end with ``positions(n)`` added to its
    input; the layer itself (attention and FFN) has no length anywhere in its weights."""
    layer = seeded_module(lambda: EncoderLayer(16, 2, 32), seed=seed)
    longest = 0
    for n in LENGTHS:
        x = randn(1, n, 16, seed=seed + 1)
        try:
            layer(x + positions(n))
        except IndexError:
            break
        longest = n
    return longest


def a_learned_position_table_fixes_the_context_limit(seed: int = 0) -> Evidence:
    """The same encoder layer runs on 1,024 tokens with sinusoidal positions but stops at 512 when its
    positions come from a learned 512-row table: the limit is in the position scheme, not in attention."""
    table = seeded_module(lambda: nn.Embedding(TABLE, 16), seed=seed)
    return Evidence(
        measured=_longest_the_layer_runs(lambda n: sinusoidal_encoding(n, 16), seed),
        expected=LENGTHS[-1],
        comparison="equal",
        unit="tokens",
        derivation="theory: attention and the FFN have no weight indexed by position",
        counterfactual="the same layer with a learned 512-row position table",
        counterfactual_measured=_longest_the_layer_runs(lambda n: table(torch.arange(n)), seed),
    )


def _flops_per_token(n: int, *, attention: bool, seed: int = 0) -> float:
    """Forward FLOPs per token of a (D, d_ff = 4·D) layer on n tokens, with or without its attention."""
    x = randn(1, n, D, seed=seed)
    module = (
        seeded_module(lambda: EncoderLayer(D, HEADS, 4 * D), seed=seed)
        if attention
        else seeded_module(lambda: FeedForward(D, 4 * D), seed=seed)
    )
    return count_flops(module, x) / n


def each_token_costs_more_the_longer_the_context(seed: int = 0) -> Evidence:
    """A layer's FLOPs per token are 24·d² + 4·n·d: they grow linearly with the context n, so the whole
    sequence costs O(n²). A position-wise block (no attention) costs the same per token at any n."""
    lengths = (32, 64, 128)
    per_token = tuple(float(24 * D * D + 4 * n * D) for n in lengths)
    return Evidence(
        measured=tuple(_flops_per_token(n, attention=True, seed=seed) for n in lengths),
        expected=per_token,
        comparison="equal",
        unit="FLOPs per token",
        derivation="theory: (24·n·d² + 4·n²·d) / n",
        counterfactual="the position-wise FFN alone, with no token mixing",
        counterfactual_measured=tuple(_flops_per_token(n, attention=False, seed=seed) for n in lengths),
    )


def _cross_entropy_gradient_norm(logits: torch.Tensor, counts: torch.Tensor) -> float:
    """‖∂/∂logits‖ of the average next-token cross-entropy over a corpus with these next-token counts."""
    logits = logits.clone().requires_grad_()
    loss = -(counts * torch.log_softmax(logits, -1)).sum() / counts.sum()
    loss.backward()
    return logits.grad.norm().item()


def next_token_training_settles_on_the_data_frequencies() -> Evidence:
    """The cross-entropy objective is stationary exactly at the data's own next-token frequencies: if the data
    says 'doctor → he' 9 times out of 10, training is pulled to 0.9, and a balanced model is not a stable point."""
    counts = torch.tensor([90.0, 10.0], dtype=torch.float64)  # a skewed corpus: 'he' 90, 'she' 10
    return Evidence(
        measured=_cross_entropy_gradient_norm(torch.log(counts / counts.sum()), counts),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: the gradient p − freq is exactly zero up to rounding
        derivation="theory: ∂CE/∂logits = p − empirical frequency",
        counterfactual="a balanced (50/50) model on the same corpus",
        counterfactual_measured=_cross_entropy_gradient_norm(torch.zeros(2, dtype=torch.float64), counts),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
