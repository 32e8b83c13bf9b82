"""Linear attention: replace exp(q·k) by φ(q)·φ(k) and reassociate, for O(n·d²) instead of O(n²·d).

With a feature map φ (here elu + 1, Katharopoulos et al. 2020) the weights φ(q_i)·φ(k_j) / Σ_j φ(q_i)·φ(k_j)
let the product be regrouped as φ(Q)(φ(K)ᵀV): the n×n matrix disappears, and the causal version becomes an
RNN with a d×d state. It is a different attention, not a faster way to compute softmax attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.reference import attend, causal_mask, randn

N, D = 128, 16


def _phi(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x) + 1  # positive features, so the normaliser never vanishes


def _quadratic(fq: torch.Tensor, fk: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(n, d) → (n, d): weights φ(q_i)·φ(k_j), normalised per row, built as an n×n matrix."""
    weights = fq @ fk.T  # (n, n)
    if mask is not None:
        weights = weights * mask
    return (weights / weights.sum(-1, keepdim=True)) @ v


def _linear(fq: torch.Tensor, fk: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The same output regrouped: φ(Q)(φ(K)ᵀV) / φ(Q)(Σ_j φ(k_j)); no n×n matrix."""
    return (fq @ (fk.T @ v)) / (fq @ fk.sum(0, keepdim=True).T)  # (d, d) and (d, 1) summaries


def _qkv():
    return (randn(N, D, seed=s) for s in (1, 2, 3))


def _regrouping_error(kernel: str) -> float:
    """Linear-time regrouping against the attention it is meant to equal: kernel attention, or softmax
    attention (regrouped as if exp(q·k) were exp(q)·exp(k))."""
    q, k, v = _qkv()
    if kernel == "elu+1":
        return (_linear(_phi(q), _phi(k), v) - _quadratic(_phi(q), _phi(k), v)).abs().max().item()
    scale = D**-0.25  # split 1/√d between q and k
    return (_linear(torch.exp(q * scale), torch.exp(k * scale), v) - attend(q, k, v)).abs().max().item()


def regrouping_is_exact_for_a_feature_map_kernel() -> Evidence:
    """φ(Q)(φ(K)ᵀV), normalised, equals the n×n form of kernel attention exactly; the same regrouping
    applied to softmax attention is wrong, because exp(q·k) ≠ exp(q)·exp(k)."""
    return Evidence(
        measured=_regrouping_error("elu+1"),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; matrix products are associative up to rounding
        derivation="the n×n form of the same kernel attention, float64",
        counterfactual="regrouping softmax attention (exp(q)·exp(k) in place of exp(q·k))",
        counterfactual_measured=_regrouping_error("softmax"),
    )


def _counted_flops(linear: bool) -> int:
    fq, fk, v = (_phi(t) for t in _qkv())
    with FlopCounterMode(display=False) as counter:
        (_linear if linear else _quadratic)(fq, fk, v)
    return counter.get_total_flops()


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


def _recurrent(include_current: bool) -> torch.Tensor:
    """Causal linear attention as an RNN: state S = Σ φ(k_j) v_jᵀ (d×d) and z = Σ φ(k_j) (d)."""
    q, k, v = _qkv()
    fq, fk = _phi(q), _phi(k)
    state, z, outputs = torch.zeros(D, D, dtype=q.dtype), torch.zeros(D, dtype=q.dtype), []
    for t in range(N):
        if include_current:
            state, z = state + torch.outer(fk[t], v[t]), z + fk[t]
        outputs.append(fq[t] @ state / (fq[t] @ z) if t or include_current else torch.zeros(D, dtype=q.dtype))
        if not include_current:  # the slip: token t's key and value enter the state only after its output
            state, z = state + torch.outer(fk[t], v[t]), z + fk[t]
    return torch.stack(outputs)


def causal_linear_attention_is_an_rnn_with_a_d_by_d_state() -> Evidence:
    """Updating a d×d state token by token gives exactly the causally masked kernel attention; updating
    the state after reading it (leaving out the current token) does not."""
    q, k, v = _qkv()
    masked = _quadratic(_phi(q), _phi(k), v, causal_mask(N).to(q.dtype))
    return Evidence(
        measured=(_recurrent(include_current=True) - masked).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding of running sums over 128 tokens
        derivation="the n×n form with a causal mask, float64",
        counterfactual="state updated after the output (current token left out)",
        counterfactual_measured=(_recurrent(include_current=False) - masked).abs().max().item(),
        details={"state size (floats)": D * D + D, "KV cache after n tokens (floats)": 2 * N * D, "d": D},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
