"""The position-wise feed-forward network: what it computes and where a layer's parameters live.

FFN(x) = max(0, x·W1 + b1)·W2 + b2 expands each token from d to d_ff = 4d and back, with the same weights at
every position and no mixing between tokens. It is not the layer's only non-linearity — attention is
non-linear in its input through the softmax — but it is the per-token one, and it holds about two thirds of
a layer's parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.sublayers import ffn_parameter_share, ffn_parameters
from answers.reference import FeedForward, MultiHeadAttention, count_parameters, randn, seeded_module

__all__ = ["ffn_parameter_share", "ffn_parameters"]

N, D, D_FF = 6, 16, 64


def _torch_ffn_gap(activation: str, seed: int = 0) -> float:
    """Largest difference between our FFN with ``activation`` and the linear1 → ReLU → linear2 path of torch's
    nn.TransformerEncoderLayer holding the same weights."""
    torch_layer = seeded_module(
        lambda: nn.TransformerEncoderLayer(D, 2, D_FF, dropout=0.0, batch_first=True), seed=seed
    )
    ffn = FeedForward(D, D_FF, activation).to(torch.float64)
    ffn.up.load_state_dict(torch_layer.linear1.state_dict())
    ffn.down.load_state_dict(torch_layer.linear2.state_dict())
    x = randn(1, N, D, seed=1000 * seed + 1)
    with torch.no_grad():
        expected = torch_layer.linear2(torch_layer.activation(torch_layer.linear1(x)))
        return (ffn(x) - expected).abs().max().item()


def ffn_is_max_zero_x_w1_plus_b1_w2_plus_b2(seed: int = 0) -> Evidence:
    """Our FFN, max(0, x·W1 + b1)·W2 + b2, is exactly the feed-forward path of torch's TransformerEncoderLayer."""
    return Evidence(
        measured=_torch_ffn_gap("relu", seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64, the same operations in the same order
        derivation="torch's own nn.TransformerEncoderLayer: linear2(relu(linear1(x)))",
        counterfactual="the same FFN without the ReLU",
        counterfactual_measured=_torch_ffn_gap("identity", seed),
    )


def _per_token_gap(module: nn.Module, seed: int = 0) -> float:
    """Largest difference between applying ``module`` to the whole sequence and to each token on its own."""
    x = randn(1, N, D, seed=1000 * seed + 2)
    with torch.no_grad():
        whole = module(x)
        alone = torch.cat([module(x[:, i : i + 1]) for i in range(N)], dim=1)
    return (whole - alone).abs().max().item()


def ffn_treats_every_position_independently(seed: int = 0) -> Evidence:
    """Running the FFN on the whole sequence or on one token at a time gives the same output: it never mixes
    positions. Attention, run one token at a time, loses everything the other tokens contributed."""
    return Evidence(
        measured=_per_token_gap(seeded_module(lambda: FeedForward(D, D_FF), seed=seed), seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="definition: the same W1, W2 applied to each row of x",
        counterfactual="self-attention applied token by token",
        counterfactual_measured=_per_token_gap(seeded_module(lambda: MultiHeadAttention(D, 2), seed=seed), seed),
    )


def ffn_holds_two_thirds_of_a_layers_parameters(d_model: int = 512, d_ff: int = 2048) -> Evidence:
    """In the base Transformer layer (d = 512, d_ff = 2048) the FFN holds 2,099,712 parameters and attention
    1,050,624: two thirds of the sublayer parameters are in the FFN."""
    layer = nn.TransformerEncoderLayer(d_model, 8, d_ff, device="meta")  # shapes only, no initialisation
    ffn = count_parameters(layer.linear1) + count_parameters(layer.linear2)
    attention = count_parameters(layer.self_attn)
    return Evidence(
        measured=ffn / (ffn + attention),
        expected=ffn_parameter_share(d_model, d_ff),
        comparison="rel",
        tolerance=1e-12,  # a ratio of exact parameter counts
        unit="share",
        derivation="formula: (2·d·d_ff + d_ff + d) / (that + 4d² + 4d)",
        counterfactual="attention counted without its output projection W_O (3d² + 3d, a common slip)",
        counterfactual_measured=ffn / (ffn + attention - count_parameters(layer.self_attn.out_proj)),
        details={"FFN parameters": ffn, "formula": ffn_parameters(d_model, d_ff), "attention": attention},
    )


BASE_AND_SMALL = ((512, 2048), (64, 256))


def _torch_ffn_parameters(d_model: int, d_ff: int, bias: bool) -> int:
    """linear1 + linear2 of torch's nn.TransformerEncoderLayer built with or without biases (shapes only)."""
    layer = nn.TransformerEncoderLayer(d_model, 8, d_ff, bias=bias, device="meta")
    return count_parameters(layer.linear1) + count_parameters(layer.linear2)


def ffn_parameter_formula_matches_torch_with_and_without_biases() -> Evidence:
    """ffn_parameters counts torch's own feed-forward path, nn.TransformerEncoderLayer's linear1 and linear2,
    with biases (2·d·d_ff + d_ff + d: 2,099,712 at d = 512, d_ff = 2048) and built with bias=False (2·d·d_ff:
    2,097,152, as in bias-free models like PaLM and Llama); a count that keeps the biases regardless misses
    the bias-free layers."""
    configs = [(d, d_ff, bias) for d, d_ff in BASE_AND_SMALL for bias in (True, False)]
    return Evidence(
        measured=tuple(ffn_parameters(d, d_ff, bias=bias) for d, d_ff, bias in configs),
        expected=tuple(_torch_ffn_parameters(d, d_ff, bias) for d, d_ff, bias in configs),
        comparison="equal",
        unit="parameters",
        derivation="count_parameters on nn.TransformerEncoderLayer(bias=True / False) built on the meta device",
        counterfactual="biases counted whatever the layer has",
        counterfactual_measured=tuple(ffn_parameters(d, d_ff) for d, d_ff, _ in configs),
    )


def _homogeneity_gap(module: nn.Module, seed: int = 0) -> float:
    """‖f(2x) − 2·f(x)‖ / ‖2·f(x)‖: zero for a linear map."""
    x = randn(1, N, D, seed=1000 * seed + 3)
    with torch.no_grad():
        return ((module(2 * x) - 2 * module(x)).norm() / (2 * module(x)).norm()).item()


def attention_is_already_non_linear_in_its_input(seed: int = 0) -> Evidence:
    """Self-attention (without biases) is not linear in x: the softmax of x·W_Q·(x·W_K)ᵀ makes attn(2x) ≠ 2·attn(x).
    With W_Q = W_K = 0 the weights are uniform and attention collapses to a linear map."""
    attention = seeded_module(lambda: MultiHeadAttention(D, 2, bias=False), seed=seed)
    uniform = seeded_module(lambda: MultiHeadAttention(D, 2, bias=False), seed=seed)
    with torch.no_grad():
        uniform.w_q.weight.zero_(), uniform.w_k.weight.zero_()
    return Evidence(
        measured=_homogeneity_gap(attention, seed),
        expected=1e-6,  # float64 rounding of a linear map is ~1e-16; anything a million times larger is non-linearity
        comparison="at_least",
        derivation="theory: a linear map has f(2x) = 2·f(x) up to rounding",
        counterfactual="attention with W_Q = W_K = 0 (uniform weights)",
        counterfactual_measured=_homogeneity_gap(uniform, seed),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
