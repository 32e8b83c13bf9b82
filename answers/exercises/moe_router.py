"""Exercise moe-router: top-k expert routing with renormalised gates and the Switch load-balancing loss."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "moe-router"
CARD = "mixture-of-experts"
DIFFICULTY = "medium"
TITLE = "A top-k MoE router and its load-balancing loss"
FUNCTION = "moe_router"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def moe_router(logits, k: int):
    """Route each token to its k most probable experts; return the gates, the experts and the balancing loss.

    logits: (T, E) float, the router's scores of T tokens for E experts; 1 ≤ k ≤ E.
    probs = softmax(logits) over the experts. For each token, experts: the indices of its k largest probs,
    most probable first (as torch.topk orders them), (T, k) int64; gates: those k probs divided by their
    sum, so each token's gates sum to 1 (Mixtral, GShard), (T, k) in logits' dtype.
    aux_loss: the Switch Transformer's load-balancing loss (Fedus et al. 2021, eq. 4-6),
        E · Σ_e f_e · P_e,  f_e = the fraction of the T·k assignments that go to expert e (Σ_e f_e = 1),
                            P_e = the mean over tokens of probs[:, e] (the full softmax, not the gates);
    a 0-dim tensor in logits' dtype, 1 when routing is perfectly balanced, up to E when collapsed.
    (Hugging Face's Mixtral load_balancing_loss_func divides the counts by T only, which is k times this.)
    The checks have no ties between a token's probabilities. Returns (gates, experts, aux_loss).

    Example: logits = [[2, 1, 0], [0, 0, 3]], k = 1, E = 3
        probs ≈ [[0.665, 0.245, 0.090], [0.045, 0.045, 0.910]], experts = [[0], [2]], gates = [[1.], [1.]]
        f = [1/2, 0, 1/2], P = [0.355, 0.145, 0.500], aux_loss = 3 · (0.1775 + 0.2499) = 1.282
    """
    probs = torch.softmax(logits, dim=-1)
    top, experts = probs.topk(k, dim=-1)
    gates = top / top.sum(-1, keepdim=True)
    n_experts = logits.shape[-1]
    f = torch.bincount(experts.reshape(-1), minlength=n_experts).to(logits.dtype) / experts.numel()
    aux_loss = n_experts * (f * probs.mean(dim=0)).sum()
    return gates, experts, aux_loss


# ------------------------------------------------------------------------------------------ the checks


def _loop(logits: Tensor, k: int) -> tuple[Tensor, Tensor, Tensor]:
    """Token by token in Python floats: sort each token's probabilities, keep k, renormalise, count."""
    rows = logits.tolist()
    n_experts = len(rows[0])
    probs = []
    for row in rows:
        top = max(row)
        e = [math.exp(v - top) for v in row]
        probs.append([v / sum(e) for v in e])
    experts = [sorted(range(n_experts), key=lambda i, p=p: -p[i])[:k] for p in probs]
    gates = [[p[i] / sum(p[j] for j in chosen) for i in chosen] for p, chosen in zip(probs, experts, strict=True)]
    f = [sum(chosen.count(e) for chosen in experts) / (len(rows) * k) for e in range(n_experts)]
    mean_p = [sum(p[e] for p in probs) / len(rows) for e in range(n_experts)]
    aux = n_experts * sum(fe * pe for fe, pe in zip(f, mean_p, strict=True))
    dtype = logits.dtype
    return torch.tensor(gates, dtype=dtype), torch.tensor(experts, dtype=torch.int64), torch.tensor(aux, dtype=dtype)


def cases() -> list[Case]:
    names = ("logits", "k")
    example = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]], dtype=torch.float64)
    top2 = randn(7, 5, seed=1)
    switch = 2 * randn(6, 8, seed=2)
    top3 = randn(9, 6, seed=3)
    collapsed = randn(5, 4, seed=4) + torch.tensor([6.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    f32 = randn(8, 6, seed=5, dtype=torch.float32)
    return [
        Case("the worked example, k = 1", (example, 1), _loop(example, 1), "the definitions", arg_names=names),
        Case("7 tokens, 5 experts, top-2", (top2, 2), _loop(top2, 2), "gates renormalised over the two kept experts",
             arg_names=names),
        Case("6 tokens, 8 experts, top-1 (Switch)", (switch, 1), _loop(switch, 1), "Switch's own setting",
             arg_names=names),
        Case("9 tokens, 6 experts, top-3", (top3, 3), _loop(top3, 3), "f counts all T·k assignments",
             arg_names=names),
        Case("a collapsed router: expert 0 always first, top-2", (collapsed, 2), _loop(collapsed, 2),
             "the loss grows as one expert takes the tokens", arg_names=names),
        Case("float32 in, float32 gates and loss", (f32, 2), _loop(f32, 2), "the dtype is kept", atol=1e-6,
             rtol=1e-5, arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _balance(probs: Tensor, experts: Tensor, per_expert_prob: Tensor, assignments: int) -> Tensor:
    n_experts = probs.shape[-1]
    counts = torch.bincount(experts.reshape(-1), minlength=n_experts).to(probs.dtype)
    return n_experts * (counts / assignments * per_expert_prob).sum()


def gates_not_renormalised(logits, k: int):
    probs = torch.softmax(logits, dim=-1)
    top, experts = probs.topk(k, dim=-1)
    return top, experts, _balance(probs, experts, probs.mean(0), experts.numel())


def p_from_the_gates(logits, k: int):
    probs = torch.softmax(logits, dim=-1)
    top, experts = probs.topk(k, dim=-1)
    gates = top / top.sum(-1, keepdim=True)
    dispatched = torch.zeros_like(probs).scatter(-1, experts, gates)
    return gates, experts, _balance(probs, experts, dispatched.mean(0), experts.numel())


def softmax_over_tokens(logits, k: int):
    probs = torch.softmax(logits, dim=0)
    top, experts = probs.topk(k, dim=-1)
    return top / top.sum(-1, keepdim=True), experts, _balance(probs, experts, probs.mean(0), experts.numel())


def fractions_over_tokens(logits, k: int):
    probs = torch.softmax(logits, dim=-1)
    top, experts = probs.topk(k, dim=-1)
    return top / top.sum(-1, keepdim=True), experts, _balance(probs, experts, probs.mean(0), logits.shape[0])


MISCONCEPTIONS = [
    Misconception("gates not renormalised", gates_not_renormalised,
                  "your gates are the raw softmax probabilities of the k chosen experts, which sum to less than 1. "
                  "Divide them by their sum (Mixtral's and GShard's top-k routing)",
                  "mixture-of-experts (no card claim covers the gates yet; its router renormalises the top-k)"),
    Misconception("P from the gates", p_from_the_gates,
                  "your P_e averages the dispatched gates; Switch's P_e averages the full softmax probability of "
                  "expert e over all tokens, so that every router logit gets a gradient from the loss",
                  "mixture-of-experts (no card claim covers the balancing loss yet)"),
    Misconception("softmax over the tokens", softmax_over_tokens,
                  "your softmax runs over dim 0, the tokens; each token's router distribution is over the experts, "
                  "dim -1", "mixture-of-experts (no card claim covers the router's softmax yet)"),
    Misconception("f summing to k (counts over T)", fractions_over_tokens,
                  "you divide each expert's count by the T tokens, not the T·k assignments, so Σ f = k and the loss "
                  "is k times Switch's (the convention of Hugging Face's Mixtral loss). It is asked for here with "
                  "Σ f = 1, equal to 1 at perfect balance for any k",
                  "mixture-of-experts (no card claim covers the balancing loss yet)"),
]  # fmt: skip
