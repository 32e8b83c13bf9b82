"""Exercise sampling-filter: temperature, then top-k, then top-p, to the distribution a sampler draws from."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "sampling-filter"
CARD = "sampling-temperature-top-p"
DIFFICULTY = "medium"
TITLE = "Temperature + top-k + top-p filtering of logits"
FUNCTION = "filter_logits"
IMPORTS = "import torch\n"
# softmax, sort, cumsum and topk are the building blocks; no torch function does the filtering itself.
FORBIDDEN: dict[str, str] = {}


def filter_logits(logits, temperature: float = 1.0, top_k=None, top_p=None):
    """The distribution to sample the next token from, after temperature, top-k and top-p, in that order.

    logits: (..., V) float; temperature > 0; top_k: None or an int ≥ 1; top_p: None or a float in (0, 1].
    1. Divide the logits by the temperature and take the softmax.
    2. top-k: keep the k most probable tokens, zero the rest, renormalise (k ≥ V keeps all).
    3. top-p (nucleus): on the distribution after step 2, keep the smallest set of most probable tokens
       whose total probability is ≥ top_p (so the token that crosses top_p is kept, and at least one
       token always is), zero the rest, renormalise.
    Returns probabilities (..., V) in logits' dtype, each row summing to 1, zeros outside the kept set.
    The checks have no ties between probabilities and no cumulative sum within rounding of top_p.
    This is Hugging Face's order (temperature, top-k, top-p warpers).

    Example: probabilities [1/2, 1/4, 1/8, 1/16, 1/16] (logits = their logs)
        top_p = 0.8: 1/2 + 1/4 = 0.75 < 0.8, adding 1/8 reaches 0.875: keep 3 → [4/7, 2/7, 1/7, 0, 0]
        top_k = 2 → [2/3, 1/3, 0, 0, 0]
        temperature = 0.5, top_p = 0.8: squared and renormalised, [0.744, 0.186, 0.047, ...]:
            keep 2 → [0.8, 0.2, 0, 0, 0]
    """
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_k is not None and top_k < probs.shape[-1]:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
        probs = probs / probs.sum(-1, keepdim=True)
    if top_p is not None:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # the mass of the more probable tokens
        keep_sorted = before < top_p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


# ------------------------------------------------------------------------------------------ the checks


def _filter_row(row: list[float], temperature: float, top_k: int | None, top_p: float | None) -> list[float]:
    """One row in Python floats, the three steps written out."""
    top = max(row)
    e = [math.exp((v - top) / temperature) for v in row]
    p = [v / sum(e) for v in e]
    ranked = sorted(range(len(p)), key=lambda i: -p[i])
    kept = ranked[: top_k or len(p)]
    if top_p is not None:
        mass = sum(p[i] for i in kept)
        nucleus, total = [], 0.0
        for i in kept:
            nucleus.append(i)
            total += p[i] / mass
            if total >= top_p:
                break
        kept = nucleus
    mass = sum(p[i] for i in kept)
    return [p[i] / mass if i in kept else 0.0 for i in range(len(p))]


def _loop(logits: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> Tensor:
    rows = [_filter_row(r, temperature, top_k, top_p) for r in logits.reshape(-1, logits.shape[-1]).tolist()]
    return torch.tensor(rows, dtype=logits.dtype).reshape(logits.shape)


def cases() -> list[Case]:
    names = ("logits", "temperature", "top_k", "top_p")
    dyadic = torch.tensor([[1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 16]], dtype=torch.float64).log()
    confident = torch.tensor([[4.0, 1.0, 0.5, 0.0, -1.0, 0.2]], dtype=torch.float64)  # top token has p ≈ 0.89
    batched = 1.5 * randn(2, 3, 9, seed=1)
    wide = randn(4, 7, seed=2)
    f32 = randn(3, 8, seed=3, dtype=torch.float32)
    return [
        Case("the dyadic example, top_p = 0.8", (dyadic, 1.0, None, 0.8), _loop(dyadic, 1.0, None, 0.8),
             "the nucleus includes the token that crosses p, then is renormalised", arg_names=names),
        Case("the dyadic example, top_k = 2", (dyadic, 1.0, 2, None), _loop(dyadic, 1.0, 2, None),
             "the k kept tokens are renormalised", arg_names=names),
        Case("the dyadic example, temperature 0.5 and top_p = 0.8", (dyadic, 0.5, None, 0.8),
             _loop(dyadic, 0.5, None, 0.8), "temperature first: it changes which tokens are in the nucleus",
             arg_names=names),
        Case("temperature 1.5 alone, (4, 7)", (wide, 1.5, None, None), torch.softmax(wide / 1.5, dim=-1),
             "softmax(logits / T)", arg_names=names),
        Case("top token above top_p = 0.5", (confident, 1.0, None, 0.5), _loop(confident, 1.0, None, 0.5),
             "the nucleus is never empty: the top token alone", arg_names=names),
        Case("(2, 3, 9), temperature 0.7, top_k = 6, top_p = 0.7", (batched, 0.7, 6, 0.7),
             _loop(batched, 0.7, 6, 0.7), "all three, over leading dims, top-p on the top-k distribution",
             arg_names=names),
        Case("float32 in, float32 out: temperature 2, top_k = 5, top_p = 0.8", (f32, 2.0, 5, 0.8),
             _loop(f32.double(), 2.0, 5, 0.8).float(), "the dtype is kept", atol=1e-6, rtol=1e-5,
             arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _kept(probs: Tensor, top_k: int | None, top_p: float | None, crossing: bool = True) -> Tensor:
    """The kept set, as a bool mask, top-p on the renormalised top-k distribution."""
    keep = torch.ones_like(probs, dtype=torch.bool)
    if top_k is not None and top_k < probs.shape[-1]:
        keep = probs >= probs.topk(top_k, dim=-1).values[..., -1:]
    if top_p is not None:
        renormalised = probs * keep / (probs * keep).sum(-1, keepdim=True)
        sorted_probs, order = renormalised.sort(dim=-1, descending=True)
        cumulative = sorted_probs.cumsum(-1)
        inside = (cumulative - sorted_probs < top_p) if crossing else (cumulative <= top_p)
        inside[..., 0] = True
        keep = keep & torch.zeros_like(inside).scatter(-1, order, inside)
    return keep


def _renormalised(probs: Tensor, keep: Tensor) -> Tensor:
    kept = probs * keep
    return kept / kept.sum(-1, keepdim=True)


def crossing_token_dropped(logits, temperature: float = 1.0, top_k=None, top_p=None):
    probs = torch.softmax(logits / temperature, dim=-1)
    return _renormalised(probs, _kept(probs, top_k, top_p, crossing=False))


def temperature_last(logits, temperature: float = 1.0, top_k=None, top_p=None):
    keep = _kept(torch.softmax(logits, dim=-1), top_k, top_p)
    return torch.softmax((logits / temperature).masked_fill(~keep, -math.inf), dim=-1)


def not_renormalised(logits, temperature: float = 1.0, top_k=None, top_p=None):
    probs = torch.softmax(logits / temperature, dim=-1)
    return probs * _kept(probs, top_k, top_p)


def multiplied_by_temperature(logits, temperature: float = 1.0, top_k=None, top_p=None):
    probs = torch.softmax(logits * temperature, dim=-1)
    return _renormalised(probs, _kept(probs, top_k, top_p))


MISCONCEPTIONS = [
    Misconception("the crossing token dropped", crossing_token_dropped,
                  "you keep the tokens whose cumulative probability is ≤ p, so the token that carries the sum past p "
                  "is dropped and the nucleus holds less than p (the classic missing shift of the removal mask by "
                  "one). Keep a token when the mass before it is < p",
                  "sampling-temperature-top-p: top_p_renormalises_the_nucleus"),
    Misconception("temperature after top-p", temperature_last,
                  "you choose the top-k / top-p set on the untempered distribution and apply the temperature "
                  "afterwards. Temperature comes first, and it changes which tokens the nucleus holds",
                  "sampling-temperature-top-p: temperature_is_applied_before_top_p"),
    Misconception("not renormalised", not_renormalised,
                  "you zero the filtered tokens but never divide by the kept mass, so the rows sum to less than 1",
                  "sampling-temperature-top-p: “Top-p sampling just zeroes the tokens outside the nucleus.”"),
    Misconception("logits multiplied by the temperature", multiplied_by_temperature,
                  "you compute softmax(logits · T): T < 1 then flattens the distribution instead of sharpening it. "
                  "Divide by T",
                  "sampling-temperature-top-p: “Temperature 0 means the model samples at random.”"),
]  # fmt: skip
