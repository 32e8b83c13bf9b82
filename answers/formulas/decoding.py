"""Logits processors of sampling: what the repetition penalty does to a seen token."""

from __future__ import annotations

from answers.formulas._trace import exp


def repetition_penalised_logit(logit: float, theta: float) -> float:
    """transformers' repetition penalty for a token already generated: a positive logit is divided by θ, a
    negative one multiplied by it, so the logit falls whatever its sign (θ > 1)."""
    return logit / theta if logit > 0 else logit * theta


def repetition_penalty_odds_factor(logit: float, theta: float) -> float:
    """The factor by which the penalty multiplies a seen token's odds against any unseen token: the softmax
    odds are e^(z_i − z_u), so the factor is e^(z' − z), below one for either sign of z."""
    return exp(repetition_penalised_logit(logit, theta) - logit)
