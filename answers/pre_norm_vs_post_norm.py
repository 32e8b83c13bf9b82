"""Pre-norm vs post-norm: where the LayerNorm sits decides whether the residual stream is a clean identity path.

Post-norm (the 2017 paper, torch's default) computes x ← LN(x + F(x)): every path from the input to the output,
the residual one included, passes through a LayerNorm. Pre-norm (GPT-2, GPT-3, Llama) computes
x ← x + F(LN(x)) and adds one final LN: the residual stream itself is never normalised, so gradients reach
the bottom layers through a pure identity — at the price of a stream whose size grows with depth.
"""

from __future__ import annotations

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import EncoderLayer, randn, seeded_module

D, HEADS, DEPTH, TOKENS = 32, 4, 8, 8  # the figure uses FIGURE_DEPTH; claims hold at any depth
FIGURE_DEPTH = 24


def _stack(norm_first: bool, depth: int = DEPTH, *, silent_sublayers: bool = False) -> list[EncoderLayer]:
    """``depth`` seeded encoder layers; ``silent_sublayers`` zeroes the output projections of attention and
    the FFN, so every sublayer outputs exactly 0 (the limit that zero-initialised residual branches start from)."""
    layers = [seeded_module(lambda: EncoderLayer(D, HEADS, 4 * D, norm_first=norm_first), seed=i) for i in range(depth)]
    if silent_sublayers:
        with torch.no_grad():
            for layer in layers:
                for projection in (layer.self_attn.w_o, layer.ffn.down):
                    projection.weight.zero_(), projection.bias.zero_()
    return layers


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


def _torch_post_norm_gap(norm_first: bool) -> float:
    """Largest difference between our layer and torch's default nn.TransformerEncoderLayer (post-norm)."""
    reference = seeded_module(lambda: nn.TransformerEncoderLayer(D, HEADS, 4 * D, dropout=0.0, batch_first=True))
    ours = EncoderLayer(D, HEADS, 4 * D, norm_first=norm_first).to(torch.float64).copy_from(reference)
    x = randn(2, TOKENS, D, seed=3)
    with torch.no_grad():
        return (ours(x) - reference(x)).abs().max().item()


def post_norm_is_layernorm_of_x_plus_sublayer() -> Evidence:
    """x ← LN(x + F(x)) after each sublayer is exactly torch's default TransformerEncoderLayer (norm_first=False)."""
    return Evidence(
        measured=_torch_post_norm_gap(norm_first=False),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.TransformerEncoderLayer with its default norm_first=False",
        counterfactual="the same weights arranged pre-norm, x ← x + F(LN(x))",
        counterfactual_measured=_torch_post_norm_gap(norm_first=True),
    )


def _identity_path_gap(norm_first: bool) -> float:
    """‖∂L/∂x_0 − ∂L/∂x_L‖ / ‖∂L/∂x_L‖ for a stack whose sublayers output zero: 0 if the stream is a pure identity."""
    states, grads = _run(_stack(norm_first, silent_sublayers=True), norm_first)
    return (states[0].grad - states[-1].grad).norm().item() / grads[-1]


def pre_norm_residual_stream_is_a_pure_identity_path() -> Evidence:
    """With its sublayers silent, an 8-layer pre-norm stack passes the gradient from the top of the stream to
    the input unchanged; a post-norm stack still sends it through its LayerNorms, which reshape it."""
    return Evidence(
        measured=_identity_path_gap(norm_first=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # x_L = x_0 exactly, so the two gradients are the same tensor up to rounding
        derivation="theory: pre-norm x_L = x_0 + Σ F_l(LN(x_l)), so ∂x_L/∂x_0 = I when every F_l = 0",
        counterfactual="post-norm, x ← LN(x + F(x))",
        counterfactual_measured=_identity_path_gap(norm_first=False),
    )


def _top_stream_rms(norm_first: bool) -> float:
    """Root-mean-square of the residual stream per feature at the top of the (random-init) stack."""
    with torch.no_grad():
        x = randn(1, TOKENS, D, seed=100)
        for layer in _stack(norm_first):
            x = layer(x)
    return x.pow(2).mean().sqrt().item()


def post_norm_pins_the_stream_while_pre_norm_lets_it_grow() -> Evidence:
    """Post-norm's stream leaves every layer with unit RMS per token (the LN output); pre-norm's stream is never
    normalised and grows as the layers add to it — which is why pre-norm models need a final LayerNorm."""
    return Evidence(
        measured=_top_stream_rms(norm_first=False),
        expected=1.0,
        comparison="rel",
        tolerance=1e-4,  # LN divides by √(var + ε), ε = 1e-5: the RMS is √(var/(var+ε)), within 1e-5 of 1
        derivation="theory: LayerNorm with gain 1, bias 0 outputs zero mean and unit variance per token",
        counterfactual="pre-norm, x ← x + F(LN(x)), read before the final LN",
        counterfactual_measured=_top_stream_rms(norm_first=True),
        details={"input RMS": randn(1, TOKENS, D, seed=100).pow(2).mean().sqrt().item()},
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
