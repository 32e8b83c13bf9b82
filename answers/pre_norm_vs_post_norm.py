"""Pre-norm vs post-norm: where the LayerNorm sits decides whether the residual stream is a clean identity path.

Post-norm (the 2017 paper, torch's default) computes x ← LN(x + F(x)): every path from the input to the output,
the residual one included, passes through a LayerNorm. Pre-norm (GPT-2, GPT-3, Llama) computes
x ← x + F(LN(x)) and adds one final LN: the residual stream itself is never normalised, so gradients reach
the bottom layers through an identity term, and the final LN divides the top layers' gradients by the stream's
size (Xiong et al. 2020) — at the price of a stream whose size grows with depth.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import EncoderLayer, randn, seeded_module

D, HEADS, DEPTH, TOKENS = 32, 4, 8, 8  # the figure uses FIGURE_DEPTH; claims hold at any depth
FIGURE_DEPTH = 24


def _stack(norm_first: bool, depth: int = DEPTH, seed: int = 0) -> list[EncoderLayer]:
    """``depth`` seeded encoder layers at their default initialisation."""
    return [
        seeded_module(lambda: EncoderLayer(D, HEADS, 4 * D, norm_first=norm_first), seed=1000 * seed + i)
        for i in range(depth)
    ]


def _run(layers: list[EncoderLayer], norm_first: bool) -> tuple[list[torch.Tensor], list[float]]:
    """Residual-stream states x_0 … x_L and the gradient norm at each, for L = ⟨r, final(x_L)⟩ with a fixed r;
    pre-norm stacks end with a final LayerNorm, as GPT-2 and Llama do."""
    final = nn.LayerNorm(D).to(torch.float64) if norm_first else nn.Identity()
    states = [randn(1, TOKENS, D, seed=100).requires_grad_()]
    for layer in layers:
        states.append(layer(states[-1]))
        states[-1].retain_grad()
    (final(states[-1]) * randn(1, TOKENS, D, seed=101)).sum().backward()
    return states, [s.grad.norm().item() for s in states]


def _torch_post_norm_gap(norm_first: bool, seed: int = 0) -> float:
    """Largest difference between our layer and torch's default nn.TransformerEncoderLayer (post-norm)."""
    reference = seeded_module(
        lambda: nn.TransformerEncoderLayer(D, HEADS, 4 * D, dropout=0.0, batch_first=True), seed=seed
    )
    ours = EncoderLayer(D, HEADS, 4 * D, norm_first=norm_first).to(torch.float64).copy_from(reference)
    x = randn(2, TOKENS, D, seed=1000 * seed + 3)
    with torch.no_grad():
        return (ours(x) - reference(x)).abs().max().item()


def post_norm_is_layernorm_of_x_plus_sublayer(seed: int = 0) -> Evidence:
    """x ← LN(x + F(x)) after each sublayer is exactly torch's default TransformerEncoderLayer (norm_first=False)."""
    return Evidence(
        measured=_torch_post_norm_gap(norm_first=False, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.TransformerEncoderLayer with its default norm_first=False",
        counterfactual="the same weights arranged pre-norm, x ← x + F(LN(x))",
        counterfactual_measured=_torch_post_norm_gap(norm_first=True, seed=seed),
    )


SHALLOW, DEEP, STACKS = 1, 16, 3


def _last_layer_gradient_and_top_rms(norm_first: bool, depth: int, seed: int) -> tuple[float, float]:
    """‖∂L/∂W‖ for the last layer's FFN output projection, and the RMS of the residual stream at the top,
    at initialisation; the first layers of a deep stack are the same as the shallow one's (same seeds)."""
    layers = [
        seeded_module(lambda: EncoderLayer(D, HEADS, 4 * D, norm_first=norm_first), seed=1000 * seed + i)
        for i in range(depth)
    ]
    final = nn.LayerNorm(D).to(torch.float64) if norm_first else nn.Identity()
    x = randn(1, TOKENS, D, seed=1000 * seed + 900)
    for layer in layers:
        x = layer(x)
    (final(x) * randn(1, TOKENS, D, seed=1000 * seed + 901)).sum().backward()
    return layers[-1].ffn.down.weight.grad.norm().item(), x.detach().pow(2).mean().sqrt().item()


def _deep_over_shallow(norm_first: bool, seed: int) -> tuple[float, float]:
    """Mean over STACKS random stacks of (last-layer gradient at DEEP / at SHALLOW, top RMS at SHALLOW / at DEEP)."""
    gradient_ratios, rms_ratios = [], []
    for k in range(STACKS):
        g_shallow, rms_shallow = _last_layer_gradient_and_top_rms(norm_first, SHALLOW, STACKS * seed + k)
        g_deep, rms_deep = _last_layer_gradient_and_top_rms(norm_first, DEEP, STACKS * seed + k)
        gradient_ratios.append(g_deep / g_shallow)
        rms_ratios.append(rms_shallow / rms_deep)
    return sum(gradient_ratios) / STACKS, sum(rms_ratios) / STACKS


def pre_norm_top_gradients_shrink_as_the_stream_grows(seed: int = 0) -> Evidence:
    """At initialisation, going from 1 to 16 layers shrinks the gradient of pre-norm's last layer in proportion
    to the growth of its residual stream (the final LayerNorm divides by the stream's size); post-norm's
    last-layer gradient stays at one level whatever the depth (Xiong et al. 2020, section 3)."""
    gradient_ratio, rms_ratio = _deep_over_shallow(norm_first=True, seed=seed)
    return Evidence(
        measured=gradient_ratio,
        expected=rms_ratio,
        comparison="rel",
        tolerance=0.2,  # seeds 0-9 within 10 %: the sublayer's own gradient adds scatter to the 1/RMS law
        derivation="theory: ∂LN(x)/∂x ∝ 1/RMS(x), so the top gradient scales as RMS(x_1)/RMS(x_16) (measured stream)",
        counterfactual="post-norm, x ← LN(x + F(x)), same seeds: the gradient ratio, 16 vs 1 layers",
        counterfactual_measured=_deep_over_shallow(norm_first=False, seed=seed)[0],
        details={"pre-norm stream RMS, 1 layer / 16 layers": rms_ratio},
    )


def _top_stream_rms(norm_first: bool, seed: int = 0) -> float:
    """Root-mean-square of the residual stream per feature at the top of the (random-init) stack."""
    with torch.no_grad():
        x = randn(1, TOKENS, D, seed=1000 * seed + 100)
        for layer in _stack(norm_first, seed=seed):
            x = layer(x)
    return x.pow(2).mean().sqrt().item()


def post_norm_pins_the_stream_while_pre_norm_lets_it_grow(seed: int = 0) -> Evidence:
    """Post-norm's stream leaves every layer with unit RMS per token (the LN output); pre-norm's stream is never
    normalised and grows as the layers add to it — which is why pre-norm models need a final LayerNorm."""
    return Evidence(
        measured=_top_stream_rms(norm_first=False, seed=seed),
        expected=1.0,
        comparison="rel",
        tolerance=1e-4,  # LN divides by √(var + ε), ε = 1e-5: the RMS is √(var/(var+ε)), within 1e-5 of 1
        derivation="theory: LayerNorm with gain 1, bias 0 outputs zero mean and unit variance per token",
        counterfactual="pre-norm, x ← x + F(LN(x)), read before the final LN",
        counterfactual_measured=_top_stream_rms(norm_first=True, seed=seed),
        details={"input RMS": randn(1, TOKENS, D, seed=1000 * seed + 100).pow(2).mean().sqrt().item()},
    )


def figure_gradient_profiles():
    """Gradient norm on the residual stream at the input of each layer of a 24-layer stack at initialisation,
    pre-norm vs post-norm. In pre-norm the identity path adds each block's gradient to what flows down, so the
    gradient grows steadily towards the input; in post-norm every step passes through LayerNorms and nothing
    accumulates — the profile just wanders around one level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for norm_first, label in ((True, "pre-norm: x + F(LN(x))"), (False, "post-norm: LN(x + F(x))")):
        _, norms = _run(_stack(norm_first, FIGURE_DEPTH), norm_first)
        ax.plot(range(FIGURE_DEPTH + 1), norms, "o-", ms=3, label=label)
    ax.set_xlabel("layer input l (0 = embeddings, 24 = top)")
    ax.set_ylabel("‖∂L/∂x_l‖")
    ax.set_title(f"Gradient on the residual stream at initialisation, d = {D}")
    ax.legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
