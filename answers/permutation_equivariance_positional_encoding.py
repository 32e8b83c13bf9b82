"""Why a Transformer needs positional information: self-attention is permutation-equivariant.

Without positions, an encoder layer treats its input as a set: permuting the tokens permutes the outputs
the same way, f(PX) = P f(X). It is *equivariant*, not invariant — only a symmetric pooling (mean, sum)
of the outputs is invariant. Each word therefore gets the same vector in "dog bites man" and "man bites
dog". Adding a position encoding breaks the symmetry, and so does a causal mask: a decoder with no
position encoding at all (NoPE) can still tell positions apart.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.reference import EncoderLayer, attend, causal_mask, randn, seeded_module, sinusoidal_encoding

N, D, HEADS, D_FF = 6, 16, 2, 32
PERMUTATION = torch.tensor([3, 0, 5, 1, 4, 2])  # a fixed shuffle of 6 positions, no fixed point


def _layer(seed: int) -> EncoderLayer:
    return seeded_module(lambda: EncoderLayer(D, HEADS, D_FF), seed=seed)


@torch.no_grad()
def _equivariance_error(seed: int, *, positions: bool = False, mask: torch.Tensor | None = None) -> float:
    """max |f(PX) − P f(X)| for one encoder layer; with ``positions`` the PE is added after permuting,
    as a model does (position 0 is always the first slot, whatever token sits there)."""
    layer, x = _layer(seed), randn(1, N, D, seed=seed + 1)  # x: (1, n, d)
    pe = sinusoidal_encoding(N, D) if positions else torch.zeros(N, D)
    permuted_first = layer(x[:, PERMUTATION] + pe, mask=mask)
    permuted_after = layer(x + pe, mask=mask)[:, PERMUTATION]
    return (permuted_first - permuted_after).abs().max().item()


@torch.no_grad()
def _invariance_error(pool: bool, seed: int) -> float:
    """max |g(PX) − g(X)|, where g is the layer followed (or not) by a mean over the positions."""
    layer, x = _layer(seed), randn(1, N, D, seed=seed + 1)
    a, b = layer(x[:, PERMUTATION]), layer(x)
    if pool:
        a, b = a.mean(dim=1), b.mean(dim=1)
    return (a - b).abs().max().item()


def self_attention_is_permutation_equivariant(seed: int = 0) -> Evidence:
    """Permuting the input rows of an encoder layer (attention, FFN, residuals, LayerNorm) permutes its
    output rows identically, to float64 rounding; a causal mask destroys the symmetry."""
    return Evidence(
        measured=_equivariance_error(seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only summation order changes, so errors are ~1e-16
        derivation="theory: softmax(PQKᵀPᵀ)PV = P·softmax(QKᵀ)V, and the FFN and LayerNorm act per row",
        counterfactual="same layer with a causal mask",
        counterfactual_measured=_equivariance_error(seed, mask=causal_mask(N)),
        details={
            "equivariance error with sinusoidal PE added": _equivariance_error(seed, positions=True),
            "invariance error |f(PX) − f(X)|": _invariance_error(pool=False, seed=seed),
        },
    )


def only_pooled_outputs_are_permutation_invariant(seed: int = 0) -> Evidence:
    """The mean of the outputs over positions does not change when the tokens are shuffled; the
    per-token outputs themselves do (they move with their tokens)."""
    return Evidence(
        measured=_invariance_error(pool=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of a 6-term mean
        derivation="theory: mean over rows of P f(X) = mean over rows of f(X)",
        counterfactual="per-token outputs, no pooling (what 'invariant' would require)",
        counterfactual_measured=_invariance_error(pool=False, seed=seed),
    )


@torch.no_grad()
def _word_vector_change(*, positions: bool, seed: int) -> float:
    """Largest change in any word's output vector between "dog bites man" and "man bites dog"."""
    embed = randn(3, D, seed=seed + 2)  # rows: dog, bites, man
    orders = {"dog bites man": [0, 1, 2], "man bites dog": [2, 1, 0]}
    layer, pe = _layer(seed), sinusoidal_encoding(3, D) if positions else torch.zeros(3, D)
    per_word = []
    for order in orders.values():
        out = layer((embed[order] + pe)[None])[0]  # (3, d), row j is the word order[j]
        per_word.append(out[torch.argsort(torch.tensor(order))])  # back to rows dog, bites, man
    return (per_word[0] - per_word[1]).abs().max().item()


def without_positions_word_order_is_invisible(seed: int = 0) -> Evidence:
    """Without a position encoding, "dog" gets exactly the same output vector in "dog bites man" and in
    "man bites dog" (so does every word); adding the sinusoidal encoding makes them differ."""
    return Evidence(
        measured=_word_vector_change(positions=False, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: equivariance — the swap permutes the rows and moves each word's vector with it",
        counterfactual="sinusoidal position encoding added to the embeddings",
        counterfactual_measured=_word_vector_change(positions=True, seed=seed),
    )


def _uniform_attention_to_a_start_marker(mask: torch.Tensor | None, seed: int) -> torch.Tensor:
    """(n,) output of a head with zero queries (so uniform weights) whose value is 1 on the first token
    and 0 elsewhere: a NoPE layer with a start-of-sequence token and no other position signal."""
    q = torch.zeros(1, N, D, dtype=torch.float64)  # every score is 0 → uniform over the visible keys
    k = randn(1, N, D, seed=seed + 3)
    v = torch.zeros(1, N, 1, dtype=torch.float64)
    v[0, 0, 0] = 1.0  # only the start marker carries the value 1
    return attend(q, k, v, mask)[0, :, 0]


def causal_mask_alone_reveals_position(seed: int = 0) -> Evidence:
    """A causal layer with no position encoding (NoPE) can still compute position: uniform attention
    over t visible tokens, one of them the start marker, outputs exactly 1/t at position t."""
    one_over_t = 1.0 / torch.arange(1, N + 1, dtype=torch.float64)
    outputs = _uniform_attention_to_a_start_marker(causal_mask(N), seed)

    def error(mask: torch.Tensor | None) -> float:
        return (_uniform_attention_to_a_start_marker(mask, seed) - one_over_t).abs().max().item()

    return Evidence(
        measured=error(causal_mask(N)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of a 6-term average
        derivation="theory: token t sees t tokens with equal weight 1/t, one of which has value 1",
        counterfactual="no causal mask: every position averages all n tokens and gets 1/n",
        counterfactual_measured=error(None),
        details={"outputs with the mask": str([round(x, 4) for x in outputs.tolist()])},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
