"""Why training costs about 6·N·D FLOPs.

Every weight is used in one multiply and one add per token in the forward pass: 2·N FLOPs per token.
Backward computes two matmuls of the same size for each forward matmul — the gradient with respect to
the layer's input and with respect to its weight — so it costs twice the forward. Forward plus backward
is 6·N per token, 6·N·D for D training tokens: GPT-3 (175B parameters, 300B tokens) ≈ 3.14·10²³ FLOPs.
"""

from __future__ import annotations

import torch

# FlopCounterMode imports torch._dynamo on first use (~1 s): load it with the module, not inside a claim.
import torch._dynamo
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.training import forward_flops, training_flops
from answers.reference import DecoderBlock, count_parameters, randn, seeded_module

TOKENS, D = 32, 64


def _mlp(seed: int = 0) -> nn.Module:
    """Three bias-free layers: every parameter is a matmul weight."""
    return seeded_module(
        lambda: nn.Sequential(
            nn.Linear(D, 4 * D, bias=False),
            nn.GELU(),
            nn.Linear(4 * D, 4 * D, bias=False),
            nn.GELU(),
            nn.Linear(4 * D, D, bias=False),
        ),
        seed=seed,
    )


def _count(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def decoder_block_forward_is_2n_per_token_plus_attention(seed: int = 0) -> Evidence:
    """FlopCounterMode on one decoder block counts 2·(12d²)·n for its weight matmuls plus 4·n²·d for QKᵀ and PV."""
    block, x = seeded_module(lambda: DecoderBlock(D, 4, 4 * D), seed=seed), randn(1, TOKENS, D, seed=seed)
    weights = 12 * D * D  # 4d² attention + 8d² FFN matrices (biases and LayerNorms are not matmuls)
    with torch.no_grad():
        measured = _count(lambda: block(x))
    return Evidence(
        measured=measured,
        expected=forward_flops(weights, TOKENS) + 4 * TOKENS * TOKENS * D,
        comparison="equal",
        derivation="theory: 2 FLOPs (multiply + add) per weight per token, plus 2·n²·d each for QKᵀ and PV",
        counterfactual="one FLOP per multiply–add (N·n, the usual factor-2 slip)",
        counterfactual_measured=weights * TOKENS + 2 * TOKENS * TOKENS * D,
        unit="FLOPs",
        details={"block parameters incl. biases and LN": count_parameters(block)},
    )


def decoder_block_training_step_is_6n_plus_12_n_d_per_token(seed: int = 0) -> Evidence:
    """A training step (forward + backward) of a decoder block counts 3 × its forward: 6·(12d²)·n for the
    weights plus 12·n²·d for attention, i.e. 12·n·d per token per layer, not the forward-only 4·n·d."""
    block, x = seeded_module(lambda: DecoderBlock(D, 4, 4 * D), seed=seed), randn(1, TOKENS, D, seed=seed)
    x.requires_grad_()  # inside a stack every block's input needs a gradient
    weights = 12 * D * D
    return Evidence(
        measured=_count(lambda: block(x).pow(2).sum().backward()),
        expected=training_flops(weights, TOKENS) + 3 * 4 * TOKENS * TOKENS * D,
        comparison="equal",
        derivation="theory: backward of QKᵀ and PV is two matmuls each of the forward's size, like any matmul",
        counterfactual="the forward-only attention term 4·n²·d set beside the training total 6·N·n",
        counterfactual_measured=training_flops(weights, TOKENS) + 4 * TOKENS * TOKENS * D,
        unit="FLOPs",
    )


def forward_plus_backward_is_6n_per_token(seed: int = 0) -> Evidence:
    """A training step (forward + backward) of a bias-free MLP counts exactly 6·N·tokens FLOPs:
    backward = 2× forward."""
    mlp = _mlp(seed)
    x = randn(TOKENS, D, seed=seed).requires_grad_()  # in a deep model every layer's input needs a gradient too
    n = count_parameters(mlp)

    def step() -> None:
        mlp(x).pow(2).sum().backward()

    with torch.no_grad():
        forward_only = _count(lambda: mlp(x))
    return Evidence(
        measured=_count(step),
        expected=training_flops(n, TOKENS),
        comparison="equal",
        derivation="theory: each matmul's backward is two matmuls of its size (input and weight gradients)",
        counterfactual="counting the forward pass only (2·N per token)",
        counterfactual_measured=forward_only,
        unit="FLOPs",
        details={"parameters": n},
    )


def gpt3_training_compute_is_6nd() -> Evidence:
    """6 · 175B parameters · 300B tokens is within 1 % of the 3.14·10²³ FLOPs the GPT-3 paper reports."""
    return Evidence(
        measured=training_flops(175e9, 300e9),
        expected=3.14e23,
        comparison="rel",
        tolerance=0.01,  # the paper rounds to three digits (and the parameter count to 175B)
        derivation="published: Brown et al. (2020), Table D.1, 3.14E+23 training FLOPs for GPT-3 175B",
        counterfactual="forward FLOPs only, 2·N·D",
        counterfactual_measured=forward_flops(175e9, 300e9),
        unit="FLOPs",
        details={"days on 1,000 GPUs at 100 TFLOP/s": training_flops(175e9, 300e9) / (1000 * 100e12) / 86400},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
