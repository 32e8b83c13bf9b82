"""Linear attention: replace exp(q·k) by φ(q)·φ(k) and reassociate, for O(n·d²) instead of O(n²·d).

With a feature map φ (here elu + 1, Katharopoulos et al. 2020) the weights φ(q_i)·φ(k_j) / Σ_j φ(q_i)·φ(k_j)
let the product be regrouped as φ(Q)(φ(K)ᵀV): the n×n matrix disappears, and the causal version becomes an
RNN with a d×d state. It is a different attention, not a faster way to compute softmax attention.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.reference import causal_mask, count_flops, elu_plus_one, linear_attention, randn

N, D = 128, 16
_phi = elu_plus_one  # positive features, so the normaliser never vanishes


def _quadratic(fq: torch.Tensor, fk: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(n, d) → (n, d): weights φ(q_i)·φ(k_j), normalised per row, built as an n×n matrix."""
    weights = fq @ fk.T  # (n, n)
    if mask is not None:
        weights = weights * mask
    return (weights / weights.sum(-1, keepdim=True)) @ v


def _qkv(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(randn(N, D, seed=3 * seed + i) for i in range(3))


def regrouping_is_exact_for_a_feature_map_kernel(seed: int = 0) -> Evidence:
    """φ(Q)(φ(K)ᵀV), divided by φ(Q)(Σ_j φ(k_j)), equals the n×n form of kernel attention exactly; the
    regrouped product without that per-query normaliser does not."""
    q, k, v = _qkv(seed)
    quadratic = _quadratic(_phi(q), _phi(k), v)
    unnormalised = _phi(q) @ (_phi(k).T @ v)
    return Evidence(
        measured=(linear_attention(q, k, v) - quadratic).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; matrix products are associative up to rounding
        derivation="the n×n form of the same kernel attention, float64",
        counterfactual="φ(Q)(φ(K)ᵀV) without dividing by φ(Q)·Σ_j φ(k_j)",
        counterfactual_measured=(unnormalised - quadratic).abs().max().item(),
    )


def _weight_rank(softmax: bool, seed: int) -> int:
    q, k, _ = _qkv(seed)
    weights = torch.exp(q @ k.T / D**0.5) if softmax else _phi(q) @ _phi(k).T
    return int(torch.linalg.matrix_rank(weights))


def softmax_weights_have_full_rank_so_no_feature_map_regroups_them(seed: int = 0) -> Evidence:
    """A kernel φ(q)·φ(k) with d features gives an n×n weight matrix of rank at most d (16 here). The
    unnormalised softmax weights exp(q·k/√d) on the same 128 queries and keys have rank 128, so no
    feature map narrower than n reproduces them: softmax attention cannot be regrouped exactly."""
    return Evidence(
        measured=_weight_rank(softmax=False, seed=seed),
        expected=D,
        comparison="at_most",
        derivation="theory: φ(Q)φ(K)ᵀ is a product through a d-wide inner dimension, rank ≤ d",
        counterfactual="softmax attention's weights exp(QKᵀ/√d), the kernel one would like to regroup",
        counterfactual_measured=_weight_rank(softmax=True, seed=seed),
        unit="rank",
        details={"n": N, "d": D},
    )


def _counted_flops(linear: bool) -> int:
    shapes = torch.empty(N, D, device="meta")  # FLOPs depend on shapes only
    if linear:
        return count_flops(linear_attention, shapes, shapes, shapes)
    return count_flops(_quadratic, shapes, shapes, shapes)


def regrouping_cuts_the_flops_from_n_squared_d_to_n_d_squared() -> Evidence:
    """FlopCounterMode counts 4·n·d² + 2·n·d matmul FLOPs for the regrouped form (linear in n), against
    4·n²·d for the n×n form."""
    return Evidence(
        measured=_counted_flops(linear=True),
        expected=2 * N * D * D + 2 * N * D * D + 2 * N * D,
        comparison="equal",
        derivation="theory: φ(K)ᵀV 2nd², φ(Q)·(that) 2nd², normaliser φ(Q)·z 2nd",
        counterfactual="the n×n form",
        counterfactual_measured=_counted_flops(linear=False),
        unit="FLOPs",
        details={"n·d² vs n²·d at n = 2048, d = 64": (4 * 2048 * 64**2) / (4 * 2048**2 * 64)},
    )


def _recurrent(include_current: bool, seed: int) -> torch.Tensor:
    """Causal linear attention as an RNN: state S = Σ φ(k_j) v_jᵀ (d×d) and z = Σ φ(k_j) (d)."""
    q, k, v = _qkv(seed)
    fq, fk = _phi(q), _phi(k)
    state, z, outputs = torch.zeros(D, D, dtype=q.dtype), torch.zeros(D, dtype=q.dtype), []
    for t in range(N):
        if include_current:
            state, z = state + torch.outer(fk[t], v[t]), z + fk[t]
        outputs.append(fq[t] @ state / (fq[t] @ z) if t or include_current else torch.zeros(D, dtype=q.dtype))
        if not include_current:  # the slip: token t's key and value enter the state only after its output
            state, z = state + torch.outer(fk[t], v[t]), z + fk[t]
    return torch.stack(outputs)


def causal_linear_attention_is_an_rnn_with_a_d_by_d_state(seed: int = 0) -> Evidence:
    """Updating a d×d state token by token gives exactly the causally masked kernel attention; updating
    the state after reading it (leaving out the current token) does not."""
    q, k, v = _qkv(seed)
    masked = _quadratic(_phi(q), _phi(k), v, causal_mask(N).to(q.dtype))
    return Evidence(
        measured=(_recurrent(include_current=True, seed=seed) - masked).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of running sums over 128 tokens
        derivation="the n×n form with a causal mask, float64",
        counterfactual="state updated after the output (current token left out)",
        counterfactual_measured=(_recurrent(include_current=False, seed=seed) - masked).abs().max().item(),
        details={"state size (floats)": D * D + D, "KV cache after n tokens (floats)": 2 * N * D, "d": D},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
