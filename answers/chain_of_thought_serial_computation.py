"""Chain of thought as serial computation: a forward pass has fixed depth; generated tokens add depth.

Every output of a Transformer forward pass is at most L layers (a fixed number of operations) away from
its inputs, whatever the context length: attention reads all positions in one step. Recurrence is the
opposite: its last state is n steps from the first input. Generating a token and reading it back stacks a
whole forward pass on top of the previous one, so k chain-of-thought tokens give about k + 1 passes of
serial depth. Filler tokens that are not generated from the model's own output add width, not depth.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.expressivity import cot_serial_layers
from answers.reference import DecoderBlock, randn, seeded_module

__all__ = ["cot_serial_layers"]

D_MODEL, HEADS, D_FF, LAYERS = 16, 2, 32, 2
SHORT, LONG, PROMPT, THOUGHTS = 4, 64, 5, 3


def _graph_depth(output: torch.Tensor) -> int:
    """Operations on the longest path of the autograd graph that produced ``output`` (leaves count one)."""
    memo: dict[object, int] = {}

    def depth(fn) -> int:
        if fn is None:
            return 0
        if fn not in memo:
            memo[fn] = 1 + max((depth(child) for child, _ in fn.next_functions), default=0)
        return memo[fn]

    return depth(output.grad_fn)


class _LayerMark(torch.autograd.Function):
    """An identity whose node in the autograd graph marks "one decoder block ends here", so the longest
    path can be counted in layers rather than in operations."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


def _layers_on_longest_path(output: torch.Tensor) -> int:
    """Block ends (_LayerMark nodes) on the path of the autograd graph that crosses the most of them."""
    memo: dict[object, int] = {}

    def layers(fn) -> int:
        if fn is None:
            return 0
        if fn not in memo:
            here = int(type(fn).__name__ == "_LayerMarkBackward")
            memo[fn] = here + max((layers(child) for child, _ in fn.next_functions), default=0)
        return memo[fn]

    return layers(output.grad_fn)


class _Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(DecoderBlock(D_MODEL, HEADS, D_FF) for _ in range(LAYERS))
        self.feedback = nn.Linear(D_MODEL, D_MODEL)  # output state → next input embedding (a soft token)
        self.mark_layers = False  # off for the operation counts, which the marks would lengthen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
            if self.mark_layers:
                x = _LayerMark.apply(x)
        return x


def _transformer_depth(n: int, seed: int) -> int:
    model = seeded_module(_Decoder, seed=seed)
    x = randn(1, n, D_MODEL, seed=seed + 1).requires_grad_()
    return _graph_depth(model(x)[:, -1])


def _recurrent_depth(n: int, seed: int) -> int:
    cell = seeded_module(lambda: nn.RNNCell(D_MODEL, D_MODEL), seed=seed)
    x = randn(n, D_MODEL, seed=seed + 1).requires_grad_()
    h = torch.zeros(1, D_MODEL, dtype=x.dtype)
    for t in range(n):
        h = cell(x[t : t + 1], h)
    return _graph_depth(h)


def a_forward_pass_has_the_same_depth_at_every_context_length(seed: int = 0) -> Evidence:
    """The last position's output of a 2-block causal Transformer is as many operations from its inputs at
    64 tokens as at 4; an RNN's last state is 60 cell steps deeper at 64 tokens."""
    return Evidence(
        measured=_transformer_depth(LONG, seed) - _transformer_depth(SHORT, seed),
        expected=0,
        comparison="equal",
        derivation="theory: each layer reads every position in one step, so depth is O(L), independent of n",
        counterfactual="a recurrent network (nn.RNNCell) over the same inputs",
        counterfactual_measured=_recurrent_depth(LONG, seed) - _recurrent_depth(SHORT, seed),
        unit="operations",
        details={"depth of one pass (ops)": _transformer_depth(SHORT, seed)},
    )


def _depths_with_thoughts(seed: int, generated: bool, in_layers: bool = False) -> list[int]:
    """Depth of the final output after k = 0 … THOUGHTS extra tokens, in operations (or in layers). Generated:
    each extra token is the feedback of the previous pass's last output (a soft chain of thought). Filler:
    fixed extra inputs."""
    model = seeded_module(_Decoder, seed=seed)
    model.mark_layers = in_layers
    measure = _layers_on_longest_path if in_layers else _graph_depth
    x = randn(1, PROMPT, D_MODEL, seed=seed + 1).requires_grad_()
    fillers = randn(1, THOUGHTS, D_MODEL, seed=seed + 2)
    depths = []
    for k in range(THOUGHTS + 1):
        out = model(x)[:, -1:]
        depths.append(measure(out))
        extra = model.feedback(out) if generated else fillers[:, k : k + 1]
        x = torch.cat([x, extra], dim=1)
    return depths


def _one_pass_plus_feedback(seed: int) -> int:
    """Depth one more generated token adds, from its parts: a forward pass from its (new) input to the
    output, plus the feedback map and the concatenation that make that input."""
    model = seeded_module(_Decoder, seed=seed)
    y = randn(1, 1, D_MODEL, seed=seed + 3).requires_grad_()
    fed = torch.cat([randn(1, PROMPT, D_MODEL, seed=seed + 1), model.feedback(y)], dim=1)
    pass_from_fed = _graph_depth(model(fed)[:, -1:])  # leaf y → feedback → cat → blocks → output
    return pass_from_fed - 1  # y's own leaf node is not a new operation


def each_generated_token_adds_a_forward_pass_of_depth(seed: int = 0) -> Evidence:
    """With 1, 2 and 3 chain-of-thought tokens fed back from the model's own output, the final output's
    depth grows by one forward pass (plus the feedback) per token, 81 operations here; filler tokens given
    as inputs add one (the concatenation), not a pass."""
    generated = _depths_with_thoughts(seed, generated=True)
    filler = _depths_with_thoughts(seed, generated=False)
    step = _one_pass_plus_feedback(seed)
    return Evidence(
        measured=tuple(b - a for a, b in pairwise(generated)),
        expected=(step,) * THOUGHTS,
        comparison="equal",
        derivation="the parts measured alone: one forward pass from a fed-back input, plus the feedback map",
        counterfactual="the same number of filler tokens given as inputs (not generated from the output)",
        counterfactual_measured=tuple(b - a for a, b in pairwise(filler)),
        unit="operations",
        details={"depths, generated": str(generated), "depths, filler": str(filler)},
    )


def k_thought_tokens_put_l_times_k_plus_1_layers_on_the_longest_path(seed: int = 0) -> Evidence:
    """Counted in layers, the final output of the 2-layer decoder after 0, 1, 2 and 3 fed-back thought
    tokens lies 2, 4, 6 and 8 blocks deep: L·(k + 1). With the same number of filler tokens it stays at 2."""
    return Evidence(
        measured=tuple(_depths_with_thoughts(seed, generated=True, in_layers=True)),
        expected=tuple(cot_serial_layers(LAYERS, k) for k in range(THOUGHTS + 1)),
        comparison="equal",
        derivation="formula cot_serial_layers: layers · (thought tokens + 1), for k = 0 … 3",
        counterfactual="the same number of filler tokens given as inputs (not generated from the output)",
        counterfactual_measured=tuple(_depths_with_thoughts(seed, generated=False, in_layers=True)),
        unit="layers",
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
