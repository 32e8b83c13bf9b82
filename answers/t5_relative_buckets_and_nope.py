"""T5's bucketed relative position bias, and what a decoder without any position encoding (NoPE) can see.

T5 adds to every score a learned scalar per head indexed by a bucket of the offset key − query: one bucket per
distance below B/2, then logarithmically wider buckets up to max_distance, then one shared bucket. An encoder
splits the buckets between left and right; a decoder spends them all on the past. A causal layer with no
positions at all sees its visible prefix as a set (one layer cannot tell the order of earlier tokens), but the
mask makes positions differ, and a second layer turns that into order.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.positional import t5_relative_position_bucket
from answers.reference import DecoderBlock, generator, seeded_module

OFFSETS = range(-1000, 1001)


def bucket_by_boundaries(relative_position: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """The bucket from the definition, in exact integer arithmetic: within a half of B buckets with E = B/2 exact
    ones and K = B − E log-spaced ones, distance r ≥ E lies past boundary b (1 ≤ b < K) when
    E·(D/E)^(b/K) ≤ r, i.e. when D^b · E^(K−b) ≤ r^K. No logarithm, no rounding."""
    half = num_buckets // 2 if bidirectional else num_buckets
    offset = half if bidirectional and relative_position > 0 else 0
    r = abs(relative_position) if bidirectional else max(-relative_position, 0)
    exact, log_spaced = half // 2, half - half // 2
    if r < exact:
        return offset + r
    passed = sum(1 for b in range(1, log_spaced) if max_distance**b * exact ** (log_spaced - b) <= r**log_spaced)
    return offset + exact + passed


def _hf_vectorised(relative_position: torch.Tensor, bidirectional: bool, num_buckets: int, max_distance: int):
    """Hugging Face's T5Attention._relative_position_bucket as written there, torch and float32 logs included."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = relative_position.abs()
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(max_distance / max_exact)  # a Python float64 log, as in modeling_t5.py
        * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(relative_position < max_exact, relative_position, large)


def _mismatches(bucket_of, bidirectional: bool, num_buckets: int = 32, max_distance: int = 128) -> int:
    return sum(bucket_of(r) != bucket_by_boundaries(r, bidirectional, num_buckets, max_distance) for r in OFFSETS)


def t5_buckets_are_exact_then_log_spaced() -> Evidence:
    """For an encoder (bidirectional, 32 buckets, max distance 128), the bucket formula agrees with the exact
    boundary definition on every offset from −1000 to 1000, for several bucket counts and distances. Feeding
    it query − key instead of key − query (the sign convention slip) swaps left and right."""
    configurations = ((32, 128), (32, 64), (64, 256), (128, 128))
    measured = sum(
        _mismatches(lambda r, nb=nb, md=md: t5_relative_position_bucket(r, True, nb, md), True, nb, md)
        for nb, md in configurations
    )
    hf = _hf_vectorised(torch.tensor(list(OFFSETS)), True, 32, 128).tolist()
    return Evidence(
        measured=measured,
        expected=0,
        comparison="equal",
        derivation="definition, exact integers: boundary b at E·(D/E)^(b/K), E = K = 8 for 32 buckets",
        counterfactual="offsets given as query − key",
        counterfactual_measured=_mismatches(lambda r: t5_relative_position_bucket(-r, True, 32, 128), True),
        details={
            "Hugging Face's float32 torch version, mismatches": sum(
                a != bucket_by_boundaries(r, True, 32, 128) for r, a in zip(OFFSETS, hf, strict=True)
            ),
            "buckets used by offsets −7 … 7": len({t5_relative_position_bucket(r) for r in range(-7, 8)}),
            "buckets used by offsets 128 … 1000": len({t5_relative_position_bucket(r) for r in range(128, 1001)}),
        },
    )


def t5_decoder_buckets_spend_all_buckets_on_the_past() -> Evidence:
    """For a decoder (bidirectional=False) the formula agrees with the exact definition on every offset, and
    the past gets all 32 buckets (16 exact distances). Bucketing a decoder as if it were an encoder leaves the
    past only 16 buckets and so disagrees with the decoder's definition."""
    return Evidence(
        measured=_mismatches(lambda r: t5_relative_position_bucket(r, False), False),
        expected=0,
        comparison="equal",
        derivation="definition, exact integers, one half of 32 buckets for the past",
        counterfactual="the encoder's bidirectional bucketing used in the decoder",
        counterfactual_measured=_mismatches(lambda r: t5_relative_position_bucket(r, True), False),
        details={
            "buckets the past uses, decoder": len({t5_relative_position_bucket(r, False) for r in range(-1000, 1)}),
            "buckets the past uses, encoder bucketing": len({t5_relative_position_bucket(r) for r in range(-1000, 1)}),
            "later keys share bucket": t5_relative_position_bucket(5, False),
        },
    )


N, D_MODEL, HEADS, D_FF = 8, 16, 2, 32


def _unmasked(block: DecoderBlock, x: torch.Tensor) -> torch.Tensor:
    """The same block with its causal mask removed: every position sees every other, as in an encoder."""
    x = x + block.attn(block.norm1(x), mask=None)
    return x + block.ffn(block.norm2(x))


def _last_output_change_under_prefix_shuffle(blocks: list[DecoderBlock], seed: int, *, causal: bool = True) -> float:
    """Largest change of the last position's output when the tokens before it are put in another order."""
    g = generator(seed)
    x = torch.randn(1, N, D_MODEL, generator=g, dtype=torch.float64)
    order = torch.cat([torch.randperm(N - 1, generator=g), torch.tensor([N - 1])])
    with torch.no_grad():
        outs = []
        for inputs in (x, x[:, order]):
            for block in blocks:
                inputs = block(inputs) if causal else _unmasked(block, inputs)
            outs.append(inputs[0, -1])
    return (outs[0] - outs[1]).abs().max().item()


def _blocks(seed: int, count: int, rope_base: float | None) -> list[DecoderBlock]:
    return [
        seeded_module(lambda: DecoderBlock(D_MODEL, HEADS, D_FF, rope_base=rope_base), seed=seed + i)
        for i in range(count)
    ]


def one_nope_causal_layer_sees_its_prefix_as_a_set(seed: int = 0) -> Evidence:
    """In one causal decoder block without position encoding, the last output is unchanged (to rounding) when
    the earlier tokens are shuffled: attention sums over the visible keys, and a sum has no order. With RoPE
    the same shuffle changes it. Two NoPE blocks already see the order (details, and the next claim)."""
    return Evidence(
        measured=_last_output_change_under_prefix_shuffle(_blocks(seed, 1, None), seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # only the order of a float64 sum changes
        derivation="theory: Σ_j softmax(q·k_j) v_j over a set of keys is symmetric in them",
        counterfactual="the same block with RoPE",
        counterfactual_measured=_last_output_change_under_prefix_shuffle(_blocks(seed, 1, 10000.0), seed),
        details={
            "two NoPE blocks, same shuffle": _last_output_change_under_prefix_shuffle(_blocks(seed, 2, None), seed)
        },
    )


def two_nope_causal_layers_see_the_order(seed: int = 0) -> Evidence:
    """Two causal decoder blocks without position encoding do respond to the order of the earlier tokens: the
    block-1 output at position s averages over the s + 1 tokens up to s, so which tokens precede s matters, and
    block 2 reads those outputs. The same two blocks without the mask (a NoPE encoder) are permutation-equivariant,
    so their last output ignores the shuffle: the causal mask is what gives a NoPE decoder its order."""
    return Evidence(
        measured=_last_output_change_under_prefix_shuffle(_blocks(seed, 2, None), seed),
        expected=1e-6,
        comparison="at_least",
        derivation="theory: a change far above float64 rounding (a reordered sum moves the output by ~1e-16)",
        counterfactual="the same two blocks with the causal mask removed (bidirectional, no positions)",
        counterfactual_measured=_last_output_change_under_prefix_shuffle(_blocks(seed, 2, None), seed, causal=False),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
