"""PagedAttention: the KV cache in fixed-size blocks found through a block table, like virtual memory.

Reserving a contiguous max-length buffer per request wastes every slot the request never fills.
vLLM instead hands out blocks of B token slots on demand, anywhere in a shared pool, and records them in
a per-sequence block table; a sequence then wastes less than one block, and attention reads K and V by
gathering its blocks through the table, with exactly the same result.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.serving import contiguous_waste_tokens, paged_blocks, paged_waste_tokens
from answers.reference import generator, randn

__all__ = ["contiguous_waste_tokens", "paged_blocks", "paged_waste_tokens"]

REQUESTS, MIN_LEN, MAX_LEN, BLOCK = 200, 50, 2048, 16


def _request_lengths(seed: int = 0) -> list[int]:
    """Seeded request lengths, uniform on [MIN_LEN, MAX_LEN]."""
    return torch.randint(MIN_LEN, MAX_LEN + 1, (REQUESTS,), generator=generator(seed)).tolist()


def _allocate(block_size: int, seed: int, slip: str | None = None) -> list[int]:
    """Grow every request token by token, taking a new block when the token about to be written finds
    the last block full (or none yet); return the blocks each request ends with.

    slip="floor": blocks reserved up front as n // B, the integer division that forgets the last,
    partly filled block. slip="eager": the "is it full?" test made after writing a token instead of
    before the next one, so a request whose length is a multiple of B holds one extra, empty block.
    """
    allocated = []
    for length in _request_lengths(seed):
        if slip == "floor":
            allocated.append(length // block_size)
            continue
        blocks = 1 if slip == "eager" else 0
        for filled in range(length):  # write token number `filled`
            if slip is None and filled == blocks * block_size:  # it finds the last block full (or none)
                blocks += 1
            if slip == "eager" and filled + 1 == blocks * block_size:  # it just filled one: take the next
                blocks += 1
        allocated.append(blocks)
    return allocated


def _wasted_slots(block_size: int, seed: int, slip: str | None = None) -> list[int]:
    allocated = _allocate(block_size, seed, slip)
    return [b * block_size - n for b, n in zip(allocated, _request_lengths(seed), strict=True)]


def allocator_blocks_and_waste_match_the_block_formulas(seed: int = 0) -> Evidence:
    """The on-demand allocator hands 200 requests exactly Σ ⌈n/B⌉ blocks and leaves Σ (⌈n/B⌉·B − n)
    slots empty; reserving ⌊n/B⌋ blocks (integer division) forgets every partly filled last block."""
    lengths = _request_lengths(seed)
    return Evidence(
        measured=(sum(_allocate(BLOCK, seed)), sum(_wasted_slots(BLOCK, seed))),
        expected=(sum(paged_blocks(n, BLOCK) for n in lengths), sum(paged_waste_tokens(n, BLOCK) for n in lengths)),
        comparison="equal",
        derivation="formulas paged_blocks ⌈n / B⌉ and paged_waste_tokens ⌈n / B⌉·B − n, summed over requests",
        counterfactual="blocks reserved as n // B (floor), forgetting the partly filled last block",
        counterfactual_measured=(sum(_allocate(BLOCK, seed, "floor")), sum(_wasted_slots(BLOCK, seed, "floor"))),
        unit="(blocks, tokens)",
        details={
            "paged waste, share of reserved slots": sum(_wasted_slots(BLOCK, seed))
            / (BLOCK * sum(_allocate(BLOCK, seed))),
            "contiguous max_len reservation, empty slots": sum(_wasted_slots(MAX_LEN, seed)),
        },
    )


def paged_waste_is_below_one_block_per_sequence(seed: int = 0) -> Evidence:
    """No request wastes more than B − 1 slots with blocks of B: only the last, partly filled block has
    empty slots. An allocator that takes the next block as soon as one fills (after the write instead
    of before the next) leaves a whole empty block on every request whose length is a multiple of B."""
    return Evidence(
        measured=max(_wasted_slots(BLOCK, seed)),
        expected=BLOCK - 1,
        comparison="at_most",
        derivation="theory: only the last, partly filled block has empty slots, at most B − 1",
        counterfactual="a new block taken right after the last one fills (eager), not when the next token needs it",
        counterfactual_measured=max(_wasted_slots(BLOCK, seed, "eager")),
        unit="tokens",
        details={"contiguous max_len reservation, worst request": max(_wasted_slots(MAX_LEN, seed))},
    )


def _empty_slots_in_buffers(seed: int, block_size: int | None = None) -> int:
    """Reserve a real KV buffer per request (NaN = never written), write the request's tokens into it,
    and count the slots left NaN. ``block_size=None``: one contiguous buffer of max_len; otherwise the
    blocks the paged allocator handed out."""
    empty = 0
    reserved = [b * block_size for b in _allocate(block_size, seed)] if block_size else [MAX_LEN] * REQUESTS
    for slots, n in zip(reserved, _request_lengths(seed), strict=True):
        buffer = torch.full((slots,), float("nan"))
        buffer[:n] = 1.0  # the n tokens' K/V land in the first n slots
        empty += int(buffer.isnan().sum())
    return empty


def contiguous_waste_formula_counts_the_empty_slots_of_real_buffers(seed: int = 0) -> Evidence:
    """Reserving one max_len buffer per request leaves exactly Σ (max_len − n) slots never written,
    counted in real buffers: about half the memory for lengths uniform on [50, 2048] (theory:
    1 − 1049/2048 ≈ 49%). The blocks a paged allocator hands out leave under 1% empty."""
    lengths = _request_lengths(seed)
    return Evidence(
        measured=_empty_slots_in_buffers(seed),
        expected=sum(contiguous_waste_tokens(n, MAX_LEN) for n in lengths),
        comparison="equal",
        derivation="formula contiguous_waste_tokens: max_len − n, summed over requests",
        counterfactual="the buffers a paged allocator hands out (blocks of 16)",
        counterfactual_measured=_empty_slots_in_buffers(seed, BLOCK),
        unit="tokens",
        details={
            "contiguous waste, share of reserved slots": _empty_slots_in_buffers(seed) / (REQUESTS * MAX_LEN),
            "theory for uniform lengths, 1 − (50 + 2048) / 2 / 2048": 1 - (MIN_LEN + MAX_LEN) / 2 / MAX_LEN,
        },
    )


H, D, B_SMALL, LENGTHS = 2, 8, 4, (13, 7, 20)  # a toy pool: 3 sequences, blocks of 4 slots


def _fill_pool(seed: int) -> tuple[torch.Tensor, torch.Tensor, list[list[int]], list[torch.Tensor], list[torch.Tensor]]:
    """Decode the sequences in turn, one token each, taking free blocks in a shuffled order; return the
    K/V pools (blocks, B, h, d), the block tables and each sequence's contiguous K and V (h, n, d)."""
    n_blocks = sum(paged_blocks(n, B_SMALL) for n in LENGTHS)
    free = torch.randperm(n_blocks, generator=generator(seed)).tolist()
    k_pool, v_pool = torch.zeros(2, n_blocks, B_SMALL, H, D, dtype=torch.float64)
    tables: list[list[int]] = [[] for _ in LENGTHS]
    keys = [randn(H, n, D, seed=seed + 10 + s) for s, n in enumerate(LENGTHS)]
    values = [randn(H, n, D, seed=seed + 20 + s) for s, n in enumerate(LENGTHS)]
    for t in range(max(LENGTHS)):
        for s, n in enumerate(LENGTHS):
            if t >= n:
                continue
            if t % B_SMALL == 0:
                tables[s].append(free.pop())
            k_pool[tables[s][-1], t % B_SMALL] = keys[s][:, t]
            v_pool[tables[s][-1], t % B_SMALL] = values[s][:, t]
    return k_pool, v_pool, tables, keys, values


def _gather(pool: torch.Tensor, table: list[int], n: int) -> torch.Tensor:
    """(blocks, B, h, d) pool → the sequence's (h, n, d) keys or values, in token order."""
    return pool[table].reshape(-1, H, D)[:n].transpose(0, 1)


def _largest_error(follow_table: bool, seed: int) -> float:
    k_pool, v_pool, tables, keys, values = _fill_pool(seed)
    worst = 0.0
    for s, n in enumerate(LENGTHS):
        # The slip: assume a sequence's blocks are adjacent in the pool, starting at its first block.
        table = tables[s] if follow_table else [(tables[s][0] + i) % len(k_pool) for i in range(len(tables[s]))]
        q = randn(H, 1, D, seed=seed + 30 + s)  # the newest token's query
        paged = F.scaled_dot_product_attention(q, _gather(k_pool, table, n), _gather(v_pool, table, n))
        contiguous = F.scaled_dot_product_attention(q, keys[s], values[s])
        worst = max(worst, (paged - contiguous).abs().max().item())
    return worst


def block_table_gather_equals_a_contiguous_cache(seed: int = 0) -> Evidence:
    """Attention over K/V gathered block by block through the block table equals attention over a
    contiguous cache, although the blocks lie scattered in the pool (here exactly: the gather feeds the
    same kernel the same numbers in the same order; a fused paged kernel agrees to rounding)."""
    return Evidence(
        measured=_largest_error(follow_table=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64; the gathered tensors are the same numbers in the same order
        derivation="F.scaled_dot_product_attention over each sequence's contiguous K/V, float64",
        counterfactual="blocks read as if adjacent in the pool, ignoring the table",
        counterfactual_measured=_largest_error(follow_table=False, seed=seed),
    )


def figure_paged_waste_against_block_size():
    """Share of reserved KV-cache slots left empty for 200 requests of 50–2048 tokens, against the
    block size. Contiguous max-length reservation is the right end (one block of 2048); small blocks
    leave under one block per request empty."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lengths = _request_lengths()
    sizes = [2**i for i in range(12)]
    share = [
        sum(paged_waste_tokens(n, b) for n in lengths) / sum(paged_blocks(n, b) * b for n in lengths) for b in sizes
    ]
    contiguous = sum(contiguous_waste_tokens(n, MAX_LEN) for n in lengths) / (REQUESTS * MAX_LEN)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(sizes, [100 * s for s in share], marker="o", label="paged, blocks of B tokens")
    ax.axhline(100 * contiguous, color="C3", linestyle="--", label="contiguous, max_len = 2048")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("block size B (tokens)")
    ax.set_ylabel("reserved slots left empty (%)")
    ax.set_title("KV-cache waste: paged blocks vs contiguous reservation")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
