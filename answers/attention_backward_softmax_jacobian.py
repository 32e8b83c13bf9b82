"""The backward pass of attention: the softmax Jacobian diag(p) − ppᵀ and what must be kept for it.

For one row p = softmax(s), ∂p_i/∂s_j = p_i(δ_ij − p_j), so J = diag(p) − ppᵀ and the gradient reaching the
scores is ds = J dp = p ∘ (dp − ⟨p, dp⟩). For a whole attention matrix, with dP = dO Vᵀ:
dS = P ∘ (dP − rowsum(dP ∘ P)), dQ = dS K/√d, dK = dSᵀ Q/√d, dV = Pᵀ dO. The backward therefore needs P, which
either is stored (n² numbers per head) or is recomputed from Q, K and the per-query log-sum-exp (n numbers).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import attend, attention_scores, generator

N, D = 12, 8


def _draws(seed: int, count: int, *shape: int) -> list[torch.Tensor]:
    g = generator(seed)
    return [torch.randn(*shape, generator=g, dtype=torch.float64) for _ in range(count)]


def softmax_jacobian_is_diag_p_minus_p_p_transpose(seed: int = 0) -> Evidence:
    """torch.autograd.functional.jacobian of torch.softmax equals diag(p) − ppᵀ to float64 rounding; the
    'elementwise' guess diag(p(1 − p)), or diag(p) alone, misses the off-diagonal −p_i p_j."""
    rows = _draws(seed, 1, 4, N)[0] * 3  # scores of spread ~3, so p is far from uniform

    def error(jacobian_of) -> float:
        worst = 0.0
        for scores in rows:
            autograd = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), scores)
            worst = max(worst, (autograd - jacobian_of(torch.softmax(scores, -1))).abs().max().item())
        return worst

    return Evidence(
        measured=error(lambda p: torch.diag(p) - torch.outer(p, p)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-14,
        derivation="torch.autograd.functional.jacobian of torch.softmax, float64, 4 rows of 12 scores",
        counterfactual="diag(p(1 − p)): the diagonal right, the −p_i p_j off the diagonal dropped",
        counterfactual_measured=error(lambda p: torch.diag(p * (1 - p))),
        details={"diag(p) alone, largest error": error(torch.diag)},
    )


def _rank_and_null_direction(jacobian: torch.Tensor) -> tuple[int, bool]:
    """The rank, and whether 1 is a null vector: together, rank n − 1 and J·1 = 0 say the null space is span(1)."""
    ones = torch.ones(jacobian.shape[-1], dtype=jacobian.dtype)
    return int(torch.linalg.matrix_rank(jacobian)), bool((jacobian @ ones).abs().max() < 1e-12)


def softmax_jacobian_is_singular_along_the_all_ones_direction(seed: int = 0) -> Evidence:
    """autograd's softmax Jacobian over n scores has rank n − 1 and J·1 = 0, so its null space is exactly the
    direction 1, a constant added to every score (it is also symmetric positive semi-definite: details).
    diag(p(1 − p)), the diagonal alone, has full rank n and no null direction."""
    scores = _draws(seed, 1, N)[0] * 3
    autograd = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), scores)
    p = torch.softmax(scores, -1)
    return Evidence(
        measured=_rank_and_null_direction(autograd),
        expected=(N - 1, True),
        comparison="equal",
        derivation="theory: diag(p) − ppᵀ has null vector 1, and is positive definite on its complement",
        counterfactual="diag(p(1 − p)), the diagonal alone",
        counterfactual_measured=_rank_and_null_direction(torch.diag(p * (1 - p))),
        details={
            "smallest eigenvalue": torch.linalg.eigvalsh(autograd).min().item(),
            "asymmetry max |J − Jᵀ|": (autograd - autograd.T).abs().max().item(),
        },
    )


def _manual_backward(q, k, v, d_out, *, subtract_rowsum: bool = True):
    """Standard attention's backward with P stored: dS = P ∘ (dP − rowsum(dP ∘ P)).
    ``subtract_rowsum=False`` is dS = P ∘ dP, the Jacobian without its −ppᵀ part."""
    scale = 1 / math.sqrt(q.shape[-1])
    p = torch.softmax(attention_scores(q, k), -1)  # what autograd keeps: (n, n)
    dp = d_out @ v.transpose(-2, -1)
    ds = p * (dp - (dp * p).sum(-1, keepdim=True)) if subtract_rowsum else p * dp
    return ds @ k * scale, ds.transpose(-2, -1) @ q * scale, p.transpose(-2, -1) @ d_out


def _autograd_gradients(q, k, v, d_out) -> tuple[torch.Tensor, ...]:
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    F.scaled_dot_product_attention(*leaves).backward(d_out)
    return tuple(t.grad for t in leaves)


def attention_backward_matches_autograd(seed: int = 0) -> Evidence:
    """dQ, dK, dV from dS = P ∘ (dP − rowsum(dP ∘ P)) equal torch's autograd through
    F.scaled_dot_product_attention (float64); with dS = P ∘ dP they do not."""
    q, k, v, d_out = _draws(seed, 4, 2, N, D)
    exact = _autograd_gradients(q, k, v, d_out)

    def error(subtract_rowsum: bool) -> float:
        mine = _manual_backward(q, k, v, d_out, subtract_rowsum=subtract_rowsum)
        return max((a - b).abs().max().item() for a, b in zip(mine, exact, strict=True))

    return Evidence(
        measured=error(True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="torch's own autograd through F.scaled_dot_product_attention, float64",
        counterfactual="dS = P ∘ dP (the −ppᵀ term of the Jacobian dropped)",
        counterfactual_measured=error(False),
    )


def score_gradient_rows_sum_to_zero(seed: int = 0) -> Evidence:
    """Each row of dS = ∂loss/∂S, taken by autograd, sums to zero: adding a constant to a row of scores leaves
    the softmax unchanged, so J·1 = 0. P ∘ dP, the Jacobian without −ppᵀ, has rows that do not sum to zero."""
    q, k, v, d_out = _draws(seed, 4, 2, N, D)
    scores = attention_scores(q, k).requires_grad_()
    (torch.softmax(scores, -1) @ v).backward(d_out)
    p, dp = torch.softmax(scores.detach(), -1), d_out @ v.transpose(-2, -1)
    return Evidence(
        measured=scores.grad.sum(-1).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-13,
        derivation="theory: softmax(s + c·1) = softmax(s), so every row of the Jacobian sums to zero",
        counterfactual="rows of P ∘ dP (no −ppᵀ term)",
        counterfactual_measured=(p * dp).sum(-1).abs().max().item(),
    )


def p_is_recomputed_exactly_from_q_k_and_the_logsumexp(seed: int = 0) -> Evidence:
    """Storing one number per query, L_i = log Σ_j exp(s_ij), is enough to rebuild P = exp(S − L) exactly
    from Q and K in the backward. Storing only the row maximum m_i (the stability shift) is not: exp(S − m)
    is unnormalised."""
    q, k = _draws(seed, 2, 2, N, D)
    scores = attention_scores(q, k)
    p = torch.softmax(scores, -1)
    logsumexp = torch.logsumexp(scores, -1, keepdim=True)  # (n, 1): what a fused kernel saves
    row_max = scores.amax(-1, keepdim=True)
    recomputed = torch.exp(attention_scores(q, k) - logsumexp)
    return Evidence(
        measured=(recomputed - p).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-14,
        derivation="torch.softmax of the same scores, float64",
        counterfactual="P rebuilt as exp(S − row max), the stability shift without the normaliser",
        counterfactual_measured=(torch.exp(attention_scores(q, k) - row_max) - p).abs().max().item(),
    )


def _saved_for_backward(attention, n: int, seed: int) -> list[int]:
    """Element counts of the tensors autograd saves for the backward of ``attention``, largest first."""
    q, k, v = (t.requires_grad_() for t in _draws(seed, 3, 1, 1, n, D))
    saved: list[int] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        attention(q, k, v)
    return sorted(saved, reverse=True)


def fused_attention_saves_no_n_by_n_matrix(seed: int = 0, n: int = 64) -> Evidence:
    """Hand-written attention makes autograd save the n × n weights P for the backward; torch's fused
    F.scaled_dot_product_attention (its CPU flash kernel) saves nothing larger than n·d: Q, K, V, the output,
    and a log-sum-exp of n numbers."""
    fused = _saved_for_backward(F.scaled_dot_product_attention, n, seed)
    return Evidence(
        measured=fused[0],
        expected=n * D,
        comparison="at_most",
        derivation="theory: Q, K, V and the output O are n·d elements each, the log-sum-exp n",
        counterfactual="softmax(QKᵀ/√d)V written out, autograd saving P",
        counterfactual_measured=_saved_for_backward(attend, n, seed)[0],
        details={"n²": n * n, "n·d": n * D, "tensors SDPA saves, elements": tuple(fused)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
