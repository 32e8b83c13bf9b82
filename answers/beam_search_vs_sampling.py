"""Beam search versus sampling, length normalisation, and the order of the logits processors.

Beam search keeps the k most probable prefixes at every step: it looks for the mode of the sequence
distribution, which greedy decoding misses when a likely first token leads to a flat continuation. The
mode is often short, because every extra token multiplies the probability by less than one, so beam search
divides the log-probability by a power of the length. Sampling draws from the distribution, after logits
processors: repetition penalty, temperature, top-k, top-p, in that order in Hugging Face's `generate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from itertools import product

import torch

from answers.evidence import Evidence
from answers.formulas.decoding import repetition_penalised_logit, repetition_penalty_odds_factor
from answers.reference import randn

__all__ = ["repetition_penalised_logit", "repetition_penalty_odds_factor"]

EOS = "</s>"
Table = dict[tuple[str, ...], dict[str, Fraction]]

# Greedy trap: "a" is the likelier first token, but after it the model is unsure; after "b" it is not.
TRAP: Table = {
    (): {"a": Fraction(5, 10), "b": Fraction(4, 10), "c": Fraction(1, 10)},
    ("a",): {"a": Fraction(4, 10), "b": Fraction(3, 10), "c": Fraction(3, 10)},
    ("b",): {"a": Fraction(9, 10), "b": Fraction(1, 20), "c": Fraction(1, 20)},
    ("c",): {"a": Fraction(1, 3), "b": Fraction(1, 3), "c": Fraction(1, 3)},
}
# Length trap: stopping at once (0.45) beats any single answer, though "the cat sat" is fluent token by token.
SHORT: Table = {
    (): {EOS: Fraction(45, 100), "the": Fraction(55, 100)},
    ("the",): {"cat": Fraction(9, 10), EOS: Fraction(1, 10)},
    ("the", "cat"): {"sat": Fraction(9, 10), EOS: Fraction(1, 10)},
    ("the", "cat", "sat"): {EOS: Fraction(9, 10), "down": Fraction(1, 10)},
    ("the", "cat", "sat", "down"): {EOS: Fraction(1)},
}


def _probability(table: Table, sequence: tuple[str, ...]) -> Fraction:
    p = Fraction(1)
    for i, token in enumerate(sequence):
        p *= table[sequence[:i]].get(token, Fraction(0))
    return p


def _score(table: Table, sequence: tuple[str, ...], alpha: float) -> float:
    """log p(sequence) / length^alpha: alpha 0 is the raw log-probability, 1 the mean per token."""
    return math.log(_probability(table, sequence)) / len(sequence) ** alpha


def _beam(table: Table, width: int, max_len: int, alpha: float = 0.0) -> tuple[str, ...]:
    """Beam search: extend every live prefix by every token, keep the ``width`` most probable extensions;
    a prefix that emits EOS (or reaches max_len, or has no continuation) is finished. The answer is the
    finished hypothesis of best length-normalised score."""
    live, finished = [()], []
    for _ in range(max_len):
        candidates = [(*prefix, token) for prefix in live for token in table.get(prefix, {})]
        candidates.sort(key=lambda c: _probability(table, c), reverse=True)
        live = []
        for sequence in candidates[:width]:
            done = sequence[-1] == EOS or sequence not in table or len(sequence) == max_len
            (finished if done else live).append(sequence)
        if not live:
            break
    return max(finished, key=lambda s: _score(table, s, alpha))


def _all_sequences(table: Table, max_len: int) -> list[tuple[str, ...]]:
    """Every complete sequence of positive probability, by brute force over all token strings."""
    vocabulary = sorted({t for dist in table.values() for t in dist})
    found = []
    for n in range(1, max_len + 1):
        for sequence in product(vocabulary, repeat=n):
            complete = sequence[-1] == EOS or sequence not in table
            prefixes_open = all(sequence[:i] in table and sequence[i - 1] != EOS for i in range(1, n))
            if complete and prefixes_open and _probability(table, sequence) > 0:
                found.append(sequence)
    return found


def _words(sequence: tuple[str, ...]) -> str:
    return " ".join(sequence)


def beam_search_finds_the_likeliest_sequence_greedy_misses() -> Evidence:
    """On a two-step model where the likelier first token (a, 0.5) leads to an unsure continuation, beam
    search of width 2 returns the most probable sequence "b a" (0.36), found by brute force; greedy
    decoding returns "a a" (0.2)."""
    best = max(_all_sequences(TRAP, 2), key=lambda s: _probability(TRAP, s))
    return Evidence(
        measured=_words(_beam(TRAP, width=2, max_len=2)),
        expected=_words(best),
        comparison="equal",
        derivation="brute force: the argmax of p over all 9 two-token sequences",
        counterfactual="greedy decoding (beam width 1)",
        counterfactual_measured=_words(_beam(TRAP, width=1, max_len=2)),
        details={
            "p(b a)": float(_probability(TRAP, ("b", "a"))),
            "p(a a)": float(_probability(TRAP, ("a", "a"))),
        },
    )


def length_normalised_beam_search_does_not_stop_at_once() -> Evidence:
    """By raw log-probability the best answer is to stop at once (p = 0.45 > 0.40 for "the cat sat"):
    each extra token costs a factor < 1. Dividing the log-probability by the length (alpha = 1), beam
    search of width 2 returns "the cat sat </s>", the brute-force optimum of the normalised score."""
    sequences = _all_sequences(SHORT, 5)
    best = max(sequences, key=lambda s: _score(SHORT, s, 1.0))
    return Evidence(
        measured=_words(_beam(SHORT, width=2, max_len=5, alpha=1.0)),
        expected=_words(best),
        comparison="equal",
        derivation="brute force: the argmax of log p / length over every complete sequence",
        counterfactual="the same beam search ranking finished hypotheses by raw log-probability",
        counterfactual_measured=_words(_beam(SHORT, width=2, max_len=5, alpha=0.0)),
        details={
            "p(</s>)": float(_probability(SHORT, (EOS,))),
            "p(the cat sat </s>)": float(_probability(SHORT, ("the", "cat", "sat", EOS))),
            "raw-score argmax by brute force": _words(max(sequences, key=lambda s: _probability(SHORT, s))),
        },
    )


# --------------------------------------------------------------------------------------------------
# Logits processors, written as Hugging Face's are: each maps logits to logits, filters set −∞.


def _repetition_penalty(logits: torch.Tensor, seen: list[int], theta: float, sign_aware: bool = True) -> torch.Tensor:
    """The penalty as transformers implements it: a seen token's logit is divided by θ if positive and
    multiplied by θ if negative, so it always falls. ``sign_aware=False`` divides every seen logit, as
    CTRL's formula is written (Keskar et al. 2019, section 4.1)."""
    out = logits.clone()
    for i in seen:
        z = out[i].item()
        out[i] = repetition_penalised_logit(z, theta) if sign_aware else z / theta
    return out


def _temperature(logits: torch.Tensor, t: float) -> torch.Tensor:
    return logits / t


def _top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    kth = logits.topk(k).values[-1]
    return logits.masked_fill(logits < kth, -math.inf)


def _top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability (of the distribution these logits
    define, i.e. after the filters before it) reaches p."""
    probs = torch.softmax(logits, -1)
    order = probs.argsort(descending=True)
    before = probs[order].cumsum(0) - probs[order]  # mass of the strictly likelier tokens
    drop = torch.zeros_like(probs, dtype=torch.bool)
    drop[order] = before >= p
    return logits.masked_fill(drop, -math.inf)


def _pipeline(logits: torch.Tensor, steps: list[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
    for step in steps:
        logits = step(logits)
    return torch.softmax(logits, -1)


PENALTY_LOGITS, PENALTY_SEEN, PENALTY_UNSEEN, THETA = (2.0, -1.0, 0.5, -0.5, 1.0), (0, 1, 4), 2, 1.3


def _odds_factors(sign_aware: bool) -> tuple[float, ...]:
    """For each seen token, (p'_i / p'_u) / (p_i / p_u) from the softmax before and after the penalty, u an
    unseen token: how much less (or more) likely the penalty makes it relative to a token not yet generated."""
    logits = torch.tensor(PENALTY_LOGITS, dtype=torch.float64)
    before = torch.softmax(logits, -1)
    after = torch.softmax(_repetition_penalty(logits, list(PENALTY_SEEN), THETA, sign_aware), -1)
    u = PENALTY_UNSEEN
    return tuple(((after[i] / after[u]) / (before[i] / before[u])).item() for i in PENALTY_SEEN)


def repetition_penalty_lowers_a_seen_token_even_with_a_negative_logit() -> Evidence:
    """With θ = 1.3, the sign-aware penalty makes all three seen tokens (logits 2.0, −1.0 and 1.0) less
    likely relative to every unseen token; dividing every seen logit by θ raises the odds of the one whose
    logit is negative (−1.0 → −0.77) by 1.26. (A seen token's probability itself can still rise when the
    other seen tokens lose more mass: here the −1.0 token's goes from 0.0289 to 0.0292, so the odds against
    unseen tokens are the quantity that must fall.)"""
    logits = torch.tensor(PENALTY_LOGITS, dtype=torch.float64)
    return Evidence(
        measured=max(_odds_factors(sign_aware=True)),
        expected=1.0,
        comparison="at_most",
        derivation="theory: a penalty must not make a seen token likelier relative to an unseen one, whatever its sign",
        counterfactual="every seen logit divided by θ, whatever its sign (CTRL's formula as written)",
        counterfactual_measured=max(_odds_factors(sign_aware=False)),
        unit="ratio",
        details={
            "p(token with logit −1.0): before / sign-aware / divided": " / ".join(
                f"{torch.softmax(z, -1)[1].item():.4f}"
                for z in (
                    logits,
                    _repetition_penalty(logits, list(PENALTY_SEEN), THETA),
                    _repetition_penalty(logits, list(PENALTY_SEEN), THETA, False),
                )
            )
        },
    )


def the_penalty_scales_a_seen_tokens_odds_by_e_to_the_logit_change() -> Evidence:
    """Measured through the softmax, the penalty multiplies the odds of the seen tokens (logits 2.0, −1.0,
    1.0) against an unseen one by e^(2/1.3 − 2) = 0.63, e^(−1.3 + 1) = 0.74 and e^(1/1.3 − 1) = 0.79, as
    repetition_penalty_odds_factor says; CTRL's division gives the negative one e^(−1/1.3 + 1) = 1.26."""
    expected = [repetition_penalty_odds_factor(PENALTY_LOGITS[i], THETA) for i in PENALTY_SEEN]

    def gap(sign_aware: bool) -> float:
        return max(abs(m - e) for m, e in zip(_odds_factors(sign_aware), expected, strict=True))

    return Evidence(
        measured=gap(sign_aware=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 softmax
        derivation="formula repetition_penalty_odds_factor: e^(z' − z), z' = z/θ if z > 0 else z·θ",
        counterfactual="every seen logit divided by θ (CTRL's formula as written)",
        counterfactual_measured=gap(sign_aware=False),
        unit="ratio",
        details={"odds factors, logits 2.0 / −1.0 / 1.0": " / ".join(f"{f:.4f}" for f in _odds_factors(True))},
    )


def top_k_before_top_p_keeps_fewer_tokens_than_the_reverse() -> Evidence:
    """For probabilities (0.4, 0.3, 0.2, 0.1), top-k 3 then top-p 0.75 keeps 2 tokens: the nucleus is taken
    of the renormalised top-3 (4/9 + 3/9 ≥ 3/4). Top-p first keeps 3 (0.4 + 0.3 < 0.75), then top-k 3."""
    logits = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64).log()
    k_then_p = _pipeline(logits, [lambda z: _top_k(z, 3), lambda z: _top_p(z, 0.75)])
    p_then_k = _pipeline(logits, [lambda z: _top_p(z, 0.75), lambda z: _top_k(z, 3)])
    # Exact nucleus of the renormalised top-3: the smallest prefix of (4/9, 3/9, 2/9) reaching 3/4.
    kept, mass = 0, Fraction(0)
    for q in (Fraction(4, 9), Fraction(3, 9), Fraction(2, 9)):
        if mass >= Fraction(3, 4):
            break
        kept, mass = kept + 1, mass + q
    return Evidence(
        measured=int((k_then_p > 0).sum()),
        expected=kept,
        comparison="equal",
        derivation="exact fractions: top-3 renormalised is (4/9, 3/9, 2/9); 4/9 + 3/9 = 7/9 ≥ 3/4",
        counterfactual="top-p applied before top-k",
        counterfactual_measured=int((p_then_k > 0).sum()),
        unit="tokens",
    )


def temperature_commutes_with_top_k_and_the_penalty_but_not_with_top_p(seed: int = 0) -> Evidence:
    """Temperature (T = 0.5) is monotone and positive, so moving it after the repetition penalty or after
    top-k gives the same distribution; moving it after top-p changes the kept set."""
    logits = 2 * randn(32, seed=seed)
    seen = [0, 1, 2, 3]

    def gap(a: list, b: list) -> float:
        return (_pipeline(logits, a) - _pipeline(logits, b)).abs().max().item()

    def pen(z):
        return _repetition_penalty(z, seen, 1.3)

    def temp(z):
        return _temperature(z, 0.5)

    def tk(z):
        return _top_k(z, 10)

    def tp(z):
        return _top_p(z, 0.8)

    commuting = max(gap([pen, temp, tk], [temp, pen, tk]), gap([temp, tk], [tk, temp]))
    return Evidence(
        measured=commuting,
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="theory: z ↦ z/T preserves signs and order, so it commutes with θ-scaling and with top-k",
        counterfactual="temperature moved from before top-p to after it",
        counterfactual_measured=gap([temp, tp], [tp, temp]),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
