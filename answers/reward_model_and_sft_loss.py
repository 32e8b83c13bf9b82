"""The reward model's Bradley–Terry loss and SFT's prompt masking.

A reward model scores a (prompt, response) pair; trained on human comparisons, its loss is the Bradley–Terry
negative log-likelihood −log σ(r_w − r_l) (Ouyang et al. 2022, eq. 1). Only reward differences enter it, so
a reward is defined up to a per-prompt constant. Supervised fine-tuning trains on prompt + response but
computes the loss on the response tokens only: the prompt's labels are set to ignore_index = −100.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.optimization import bradley_terry_probability

__all__ = ["bradley_terry_probability"]


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """−log σ(r_w − r_l), mean over pairs (logsigmoid is the stable form)."""
    return -F.logsigmoid(chosen - rejected).mean()


def bradley_terry_loss_ignores_a_common_shift(seed: int = 0) -> Evidence:
    """Adding the same constant (here 100) to the chosen and rejected rewards of each pair leaves the loss
    unchanged to float64 rounding; a pointwise regression of rewards to labels 1/0 changes by thousands."""
    g = torch.Generator().manual_seed(seed)
    chosen, rejected = (
        torch.randn(64, generator=g, dtype=torch.float64),
        torch.randn(64, generator=g, dtype=torch.float64),
    )
    shift = 100.0 * torch.ones(64, dtype=torch.float64)

    def pointwise(c: torch.Tensor, r: torch.Tensor) -> float:
        return (F.mse_loss(c, torch.ones_like(c)) + F.mse_loss(r, torch.zeros_like(r))).item()

    return Evidence(
        measured=abs(
            (bradley_terry_loss(chosen + shift, rejected + shift) - bradley_terry_loss(chosen, rejected)).item()
        ),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: the loss depends on r_w − r_l only",
        counterfactual="pointwise regression of rewards to 1 (chosen) and 0 (rejected)",
        counterfactual_measured=abs(pointwise(chosen + shift, rejected + shift) - pointwise(chosen, rejected)),
    )


TRUE_REWARDS = torch.tensor([1.5, 0.7, 0.0, -0.4, -1.2, 2.1], dtype=torch.float64)


def _fit_rewards(seed: int) -> torch.Tensor:
    """Free rewards for 6 responses fitted by L-BFGS to every pair's preference probability σ(r*_i − r*_j)
    (the infinite-data limit of human labels drawn from the Bradley–Terry model), started at a random offset."""
    g = torch.Generator().manual_seed(seed)
    i, j = torch.triu_indices(6, 6, offset=1)
    prefer = torch.sigmoid(TRUE_REWARDS[i] - TRUE_REWARDS[j])
    rewards = (3.0 + torch.randn(6, generator=g, dtype=torch.float64)).requires_grad_()
    opt = torch.optim.LBFGS(
        [rewards], max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(rewards[i] - rewards[j], prefer)  # BT loss with soft labels
        loss.backward()
        return loss

    opt.step(closure)
    return rewards.detach()


def bradley_terry_recovers_rewards_up_to_a_constant(seed: int = 0) -> Evidence:
    """Fitted to Bradley–Terry preference probabilities, the rewards match the true ones after centring
    (max error < 1e-5); uncentred they are off by the arbitrary offset they started from, since the loss
    cannot see it: a reward model's scores are comparable within a prompt, not in absolute value."""
    fitted = _fit_rewards(seed)
    centred = (fitted - fitted.mean()) - (TRUE_REWARDS - TRUE_REWARDS.mean())
    return Evidence(
        measured=centred.abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-5,
        derivation="theory: the BT likelihood is maximised at r = r* + c for any constant c",
        counterfactual="the raw fitted rewards compared with the true ones (no centring)",
        counterfactual_measured=(fitted - TRUE_REWARDS).abs().max().item(),
    )


def bradley_terry_gradient_is_the_probability_of_the_wrong_order(seed: int = 0) -> Evidence:
    """∂L/∂r_w = −(1 − σ(r_w − r_l)): a pair ranked wrongly by 2 gets gradient −0.881, a tie −0.5, a pair already
    right by 2 only −0.119 — the loss keeps pushing (never 0), unlike a margin hinge, which stops at margin 1."""
    del seed
    gaps = torch.tensor([-2.0, 0.0, 2.0], dtype=torch.float64)
    chosen = gaps.clone().requires_grad_()
    (-F.logsigmoid(chosen - 0.0)).sum().backward()
    hinge = gaps.clone().requires_grad_()
    F.relu(1 - hinge).sum().backward()
    return Evidence(
        measured=tuple(round(v, 9) for v in chosen.grad.tolist()),
        expected=tuple(round(-(1 - bradley_terry_probability(gap)), 9) for gap in gaps.tolist()),
        comparison="equal",
        derivation="theory (formula bradley_terry_probability): d/dΔ −log σ(Δ) = −(1 − σ(Δ))",
        counterfactual="a margin hinge max(0, 1 − Δ)",
        counterfactual_measured=tuple(round(v, 9) for v in hinge.grad.tolist()),
    )


PROMPT, RESPONSE, VOCAB = 6, 4, 11


def sft_loss_counts_only_the_response_tokens(seed: int = 0) -> Evidence:
    """With the prompt's labels set to −100, F.cross_entropy(ignore_index=−100) on the shifted sequence equals the
    float64 mean NLL of the 4 response tokens alone; without the mask the 5 prompt predictions are averaged in."""
    g = torch.Generator().manual_seed(seed)
    n = PROMPT + RESPONSE
    tokens = torch.randint(0, VOCAB, (n,), generator=g)
    logits = torch.randn(n, VOCAB, generator=g, dtype=torch.float64)
    labels = tokens.clone()
    labels[:PROMPT] = -100
    # Position t predicts token t + 1: drop the last logit and the first label.
    masked = F.cross_entropy(logits[:-1], labels[1:], ignore_index=-100).item()
    unmasked = F.cross_entropy(logits[:-1], tokens[1:]).item()
    log_probs = logits.log_softmax(-1)
    loop = [-log_probs[t - 1, tokens[t]].item() for t in range(PROMPT, n)]
    return Evidence(
        measured=masked,
        expected=math.fsum(loop) / len(loop),
        comparison="abs",
        tolerance=1e-12,
        derivation="float64 loop over the response tokens: −log p(token_t | tokens_<t), t in the response",
        counterfactual="labels not masked: prompt predictions averaged into the loss",
        counterfactual_measured=unmasked,
        unit="nats",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
