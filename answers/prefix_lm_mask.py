"""The prefix-LM mask (T5's "prefix LM", UniLM's sequence-to-sequence mask, UL2): bidirectional over a
prefix of p tokens, causal after it.

Query i may attend to key j when j < p (every token sees the whole prefix) or j ≤ i (causal). So prefix
tokens see each other in both directions, targets see the prefix and the targets up to themselves, and
nothing sees a later target. The next-token loss is taken on the targets only: a prefix position sees the
next prefix token, which is its own label.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.packing import prefix_lm_score_count
from answers.reference import EncoderLayer, causal_mask, generator, seeded_module

N, PREFIX, D_MODEL, HEADS, D_FF = 10, 4, 16, 2, 32


def prefix_lm_mask(n: int, prefix: int) -> torch.Tensor:
    """(n, n) boolean: i may attend to j when j < prefix or j ≤ i."""
    keys = torch.arange(n)
    return causal_mask(n) | (keys < prefix)[None, :]


def _dependence(mask: torch.Tensor, seed: int) -> torch.Tensor:
    """(n, n) boolean, measured: does output i of a two-layer pre-norm encoder stack under ``mask`` change
    when input j is perturbed? Weights outside the mask are exactly 0, so 'unchanged' is bit-for-bit."""
    layers = [
        seeded_module(lambda: EncoderLayer(D_MODEL, HEADS, D_FF, norm_first=True), seed=seed + i) for i in range(2)
    ]
    g = generator(seed)
    x = torch.randn(1, N, D_MODEL, generator=g, dtype=torch.float64)

    def run(inputs: torch.Tensor) -> torch.Tensor:
        for layer in layers:
            inputs = layer(inputs, mask=mask)
        return inputs[0]

    with torch.no_grad():
        base = run(x)
        depends = torch.zeros(N, N, dtype=torch.bool)
        for j in range(N):
            bumped = x.clone()
            bumped[0, j] += torch.randn(D_MODEL, generator=g, dtype=torch.float64)
            depends[:, j] = (run(bumped) != base).any(-1)
    return depends


def _expected_dependence(n: int, prefix: int) -> torch.Tensor:
    """The definition, as a loop: output i depends on input j exactly when j < prefix or j ≤ i."""
    return torch.tensor([[j < prefix or j <= i for j in range(n)] for i in range(n)])


def _mismatches(mask: torch.Tensor, seed: int) -> int:
    return int((_dependence(mask, seed) != _expected_dependence(N, PREFIX)).sum())


def prefix_tokens_see_the_whole_prefix(seed: int = 0) -> Evidence:
    """Through two layers, output i depends on input j exactly when j < p or j ≤ i: the first prefix token
    already depends on the last one. A causal mask everywhere (a plain decoder) misses the p(p−1)/2
    backward links inside the prefix."""
    return Evidence(
        measured=_mismatches(prefix_lm_mask(N, PREFIX), seed),
        expected=0,
        comparison="equal",
        derivation="definition, as a loop: i depends on j iff j < p or j ≤ i",
        counterfactual="causal mask everywhere",
        counterfactual_measured=_mismatches(causal_mask(N), seed),
        details={"p(p − 1)/2": PREFIX * (PREFIX - 1) // 2},
    )


def targets_cannot_see_later_targets(seed: int = 0) -> Evidence:
    """No output depends on a later target token (j ≥ p and j > i): the pairs (i, j) where it does are
    counted. A fully bidirectional mask (an encoder) lets every position see every later target."""

    def future_links(mask: torch.Tensor) -> int:
        depends = _dependence(mask, seed)
        later_target = torch.tensor([[j >= PREFIX and j > i for j in range(N)] for i in range(N)])
        return int((depends & later_target).sum())

    return Evidence(
        measured=future_links(prefix_lm_mask(N, PREFIX)),
        expected=0,
        comparison="equal",
        derivation="theory: keys j ≥ p with j > i are masked to −∞, weight exactly 0",
        counterfactual="fully bidirectional mask",
        counterfactual_measured=future_links(torch.ones(N, N, dtype=torch.bool)),
        details={"later-target pairs that exist": sum(1 for i in range(N) for j in range(PREFIX, N) if j > i)},
    )


def _positions_that_see_their_label(loss_positions: range, seed: int) -> int:
    """How many loss positions i have an output that depends on input i + 1, the token they must predict."""
    depends = _dependence(prefix_lm_mask(N, PREFIX), seed)
    return sum(bool(depends[i, i + 1]) for i in loss_positions if i + 1 < N)


def loss_on_targets_only_never_sees_its_label(seed: int = 0) -> Evidence:
    """With the next-token loss on target predictions only (positions p−1 … n−2, whose labels are the
    targets), no loss position can see its own label. A loss on every position includes the p−1 prefix
    positions, which see the next prefix token and can copy it."""
    return Evidence(
        measured=_positions_that_see_their_label(range(PREFIX - 1, N - 1), seed),
        expected=0,
        comparison="equal",
        derivation="theory: the label of position i ≥ p−1 is target i+1, masked for query i",
        counterfactual="next-token loss on every position, prefix included",
        counterfactual_measured=_positions_that_see_their_label(range(N - 1), seed),
        details={"p − 1": PREFIX - 1},
    )


def prefix_lm_mask_keeps_prefix_squared_plus_the_causal_rest(tokens: int = 512, prefix: int = 128) -> Evidence:
    """The prefix-LM mask keeps p² + (n(n+1) − p(p+1))/2 scores: between the n(n+1)/2 of a causal mask and
    the n² of a bidirectional one."""
    return Evidence(
        measured=int(prefix_lm_mask(tokens, prefix).sum()),
        expected=prefix_lm_score_count(tokens, prefix),
        comparison="equal",
        derivation="formula prefix_lm_score_count: p² for the prefix block + Σ_{i=p}^{n−1}(i + 1) for the targets",
        counterfactual="causal mask everywhere",
        counterfactual_measured=int(causal_mask(tokens).sum()),
        details={"n²": tokens * tokens},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
