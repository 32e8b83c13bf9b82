"""Exercise speculative-accept: the accept/reject step of speculative sampling, which emits exactly the target's p."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception

ID = "speculative-accept"
CARD = "speculative-decoding"
DIFFICULTY = "hard"
TITLE = "Speculative sampling: accept with min(1, p/q), else resample the residual"
FUNCTION = "speculative_accept"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def speculative_accept(p, q, draft, u_accept, u_resample):
    """The token speculative sampling emits at one position, given the draft model's proposal.

    p: (N, V) the target model's probabilities; q: (N, V) the draft model's; both float, rows summing to 1.
    draft: (N,) int64, the token the draft model sampled from q (so q[n, draft[n]] > 0).
    u_accept, u_resample: (N,) uniform numbers in [0, 1), the randomness, passed in so the step is a function.
    For each row n, with x = draft[n]:
      accept x if u_accept[n] < p[x] / q[x]   (probability min(1, p[x]/q[x]));
      otherwise emit a sample of the residual r = max(0, p − q), renormalised: the smallest token i whose
      cumulative residual r[0] + … + r[i] exceeds u_resample[n] · (r[0] + … + r[V−1])
      (inverse-CDF sampling; torch.searchsorted(cumsum, value, right=True) finds it).
    Returns (N,) int64 tokens. Over draft ~ q and uniform u's the emitted token is distributed exactly as p
    (Leviathan et al. 2023, appendix A.1; Chen et al. 2023, theorem 1).

    Example: p = [[0.5, 0.5, 0.0]], q = [[0.25, 0.25, 0.5]], draft = [2]: p/q = 0, so it is rejected
        whatever u_accept is; r = [0.25, 0.25, 0], total 0.5. u_resample = [0.6]: 0.6 · 0.5 = 0.3,
        cumulative r = [0.25, 0.5, 0.5], the first entry above 0.3 is at 1: emits [1].
        With draft = [0] instead, p/q = 2 and it is accepted: emits [0].
    """
    rows = torch.arange(p.shape[0])
    accepted = u_accept < p[rows, draft] / q[rows, draft]
    cumulative = (p - q).clamp(min=0).cumsum(-1)
    target = (u_resample * cumulative[:, -1]).unsqueeze(-1)
    resampled = torch.searchsorted(cumulative, target, right=True).squeeze(-1)
    return torch.where(accepted, draft, resampled)


# ------------------------------------------------------------------------------------------ the checks


def _loop(p: Tensor, q: Tensor, draft: Tensor, u_accept: Tensor, u_resample: Tensor) -> Tensor:
    """Row by row in Python floats, the rule as the papers state it."""
    out = []
    for pr, qr, x, ua, ur in zip(p.tolist(), q.tolist(), draft.tolist(), u_accept.tolist(), u_resample.tolist(),
                                 strict=True):  # fmt: skip
        if ua < min(1.0, pr[x] / qr[x]):
            out.append(x)
            continue
        residual = [max(0.0, a - b) for a, b in zip(pr, qr, strict=True)]
        running, cumulative = 0.0, []
        for r in residual:
            running += r
            cumulative.append(running)
        out.append(next(i for i, c in enumerate(cumulative) if c > ur * cumulative[-1]))
    return torch.tensor(out, dtype=torch.int64)


def _frequencies(tokens: Tensor, vocab: int) -> Tensor:
    return torch.bincount(tokens, minlength=vocab).double() / tokens.numel()


def _stratified() -> tuple[tuple[Tensor, ...], Tensor]:
    """Every (draft, u_accept, u_resample) in proportion: drafts in q's twentieths, u's at midpoints of a grid
    fine enough that each acceptance probability (1, 1, 1/3, 1/2, 0) and the residual (4/5, 1/5) are hit
    exactly. The emitted tokens' histogram is then p itself, with no sampling error."""
    p = torch.tensor([10, 6, 2, 2, 0], dtype=torch.float64) / 20
    q = torch.tensor([2, 4, 6, 4, 4], dtype=torch.float64) / 20
    drafts = torch.repeat_interleave(torch.arange(5), (q * 20).round().long())  # 20 drafts, as q weighs them
    u_a = (torch.arange(6, dtype=torch.float64) + 0.5) / 6
    u_r = (torch.arange(10, dtype=torch.float64) + 0.5) / 10
    d, a, r = torch.meshgrid(drafts.double(), u_a, u_r, indexing="ij")
    n = d.numel()
    return (p.expand(n, 5), q.expand(n, 5), d.reshape(-1).long(), a.reshape(-1), r.reshape(-1)), p


MC_SAMPLES = 20_000


def _monte_carlo(seed: int = 0) -> tuple[tuple[Tensor, ...], Tensor, float]:
    """Seeded draws: drafts from q, uniform u's. The histogram of the emitted tokens estimates p; each frequency
    has standard deviation √(p(1 − p)/N), and the tolerance is 5 of the largest (0.0173 for N = 20,000 and p = 0.4)."""
    g = torch.Generator().manual_seed(seed)
    p = torch.tensor([0.40, 0.25, 0.15, 0.10, 0.06, 0.04], dtype=torch.float64)
    q = torch.tensor([0.10, 0.15, 0.30, 0.05, 0.25, 0.15], dtype=torch.float64)
    n = MC_SAMPLES
    drafts = torch.searchsorted(q.cumsum(0), torch.rand(n, generator=g, dtype=torch.float64), right=True)
    u_a, u_r = torch.rand(n, generator=g, dtype=torch.float64), torch.rand(n, generator=g, dtype=torch.float64)
    tolerance = 5 * math.sqrt(float((p * (1 - p)).max()) / n)
    return (p.expand(n, 6), q.expand(n, 6), drafts.clamp(max=5), u_a, u_r), p, tolerance


def cases() -> list[Case]:
    names = ("p", "q", "draft", "u_accept", "u_resample")
    f64 = torch.float64
    ex_p, ex_q = torch.tensor([[0.5, 0.5, 0.0]], dtype=f64), torch.tensor([[0.25, 0.25, 0.5]], dtype=f64)
    example_reject = (ex_p, ex_q, torch.tensor([2]), torch.tensor([0.3], dtype=f64), torch.tensor([0.6], dtype=f64))
    example_accept = (ex_p, ex_q, torch.tensor([0]), torch.tensor([0.9], dtype=f64), torch.tensor([0.6], dtype=f64))
    g = torch.Generator().manual_seed(1)
    p_rows = torch.softmax(1.5 * torch.randn(9, 7, generator=g, dtype=f64), -1)
    q_rows = torch.softmax(1.5 * torch.randn(9, 7, generator=g, dtype=f64), -1)
    drafts = torch.multinomial(q_rows, 1, generator=g).squeeze(-1)
    rows = (p_rows, q_rows, drafts, torch.rand(9, generator=g, dtype=f64), torch.rand(9, generator=g, dtype=f64))
    stratified, p_exact = _stratified()
    mc, p_mc, tolerance = _monte_carlo()
    return [
        Case("the worked example: a rejected draft", example_reject, _loop(*example_reject),
             "rejected, then sampled from max(0, p − q)", arg_names=names),
        Case("the worked example: an accepted draft", example_accept, _loop(*example_accept),
             "p/q ≥ 1: always accepted", arg_names=names),
        Case("9 rows, V = 7, different p and q per row", rows, _loop(*rows), "the rule, row by row (a float64 loop)",
             arg_names=names),
        Case("every draft and u in proportion (1200 rows): the histogram is p exactly", stratified, p_exact,
             "the theorem: accept-or-resample emits the target distribution, with no sampling error",
             atol=1e-12, rtol=0.0, arg_names=names, post=lambda out: _frequencies(out, 5),
             post_label="histogram of your tokens"),
        Case(f"{MC_SAMPLES:,} seeded samples: the histogram is p within 5σ = {tolerance:.4f}", mc, p_mc,
             "the emitted tokens follow p, not q", atol=tolerance, rtol=0.0, arg_names=names,
             post=lambda out: _frequencies(out, 6), post_label="histogram of your tokens"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _rows(p: Tensor) -> Tensor:
    return torch.arange(p.shape[0])


def _inverse_cdf(weights: Tensor, u: Tensor) -> Tensor:
    cumulative = weights.cumsum(-1)
    return torch.searchsorted(cumulative, (u * cumulative[:, -1]).unsqueeze(-1), right=True).squeeze(-1)


def accept_every_draft(p, q, draft, u_accept, u_resample):
    return draft.clone()


def resample_from_p(p, q, draft, u_accept, u_resample):
    accepted = u_accept < p[_rows(p), draft] / q[_rows(p), draft]
    return torch.where(accepted, draft, _inverse_cdf(p, u_resample))


def ratio_inverted(p, q, draft, u_accept, u_resample):
    accepted = u_accept < q[_rows(p), draft] / p[_rows(p), draft]
    return torch.where(accepted, draft, _inverse_cdf((p - q).clamp(min=0), u_resample))


def accept_when_p_at_least_q(p, q, draft, u_accept, u_resample):
    accepted = p[_rows(p), draft] >= q[_rows(p), draft]
    return torch.where(accepted, draft, _inverse_cdf((p - q).clamp(min=0), u_resample))


MISCONCEPTIONS = [
    Misconception("every draft accepted", accept_every_draft,
                  "you emit the draft token unconditionally: the output then follows the draft model's q, not the "
                  "target's p. Accept with probability min(1, p/q)",
                  "speculative-decoding: sampled_tokens_follow_the_target_distribution"),
    Misconception("resampled from p", resample_from_p,
                  "after a rejection you sample from p itself. The accepted drafts already supply min(p, q), so this "
                  "double-counts it; the fallback is the residual max(0, p − q), renormalised",
                  "speculative-decoding: “After a rejection, just sample from the target distribution p.”"),
    Misconception("the ratio inverted (q/p)", ratio_inverted,
                  "you accept with probability min(1, q/p): tokens the draft over-proposes are kept and those the "
                  "target prefers are thrown away. The ratio is target over draft, p/q",
                  "speculative-decoding: accept_reject_with_residual_resampling_reproduces_the_target"),
    Misconception("accepted only when p ≥ q, with no coin", accept_when_p_at_least_q,
                  "you accept a draft exactly when p[x] ≥ q[x] and reject it otherwise; a draft with p[x] < q[x] must "
                  "still be accepted with probability p[x]/q[x], or its share of p is lost",
                  "speculative-decoding: accept_reject_with_residual_resampling_reproduces_the_target"),
]  # fmt: skip
