"""Continuous batching and chunked prefill: schedule per decoding step, not per request.

Static (request-level) batching admits B requests and runs until the longest one finishes, so the slots of
the short ones idle while other requests wait. Iteration-level scheduling (Orca) refills a slot the step
after it frees. Chunked prefill (Sarathi) splits a long prompt into chunks that ride in the same forward
pass as other sequences' decode tokens; because attention over a cache is exact, the outputs are the same
as a one-shot prefill, provided every chunk sees the whole cache and every sequence only its own keys.
"""

from __future__ import annotations

import random

import torch

from answers.evidence import Evidence
from answers.formulas.serving import chunked_prefill_cached_token_reads
from answers.reference import DecoderBlock, KVCache, MultiHeadAttention, attend, randn, seeded_module

__all__ = ["chunked_prefill_cached_token_reads"]

SLOTS, REQUESTS = 4, 24  # batch capacity and offline workload (all requests waiting at step 0)
D_MODEL, HEADS, D_FF, LAYERS, PROMPT, CHUNK = 32, 4, 64, 2, 20, 6


def _output_lengths(seed: int) -> list[int]:
    """A chat-like mix: two in three requests answer in 1–16 tokens, one in three in 32–128."""
    rng = random.Random(seed)
    return [rng.choice([rng.randint(1, 16), rng.randint(1, 16), rng.randint(32, 128)]) for _ in range(REQUESTS)]


def _schedule(lengths: list[int], iteration_level: bool) -> tuple[int, int]:
    """Run the requests through SLOTS slots, one token per active request per step. Iteration-level: free
    slots are refilled before every step. Request-level (static): only once the whole batch has finished.
    Returns (steps, slot-steps left idle while some request was still waiting)."""
    queue, active, steps, idle = list(lengths), [], 0, 0
    while queue or active:
        if iteration_level or not active:
            while queue and len(active) < SLOTS:
                active.append(queue.pop(0))
        if queue:
            idle += SLOTS - len(active)
        steps += 1
        active = [left - 1 for left in active if left > 1]
    return steps, idle


def iteration_level_scheduling_never_idles_a_slot_while_requests_wait(seed: int = 0) -> Evidence:
    """Refilling a slot the step after it frees leaves no slot idle while a request waits; static batching
    idles every finished request's slot until the batch's longest request is done."""
    lengths = _output_lengths(seed)
    continuous, static = _schedule(lengths, True), _schedule(lengths, False)
    return Evidence(
        measured=continuous[1],
        expected=0,
        comparison="equal",
        derivation="theory: iteration-level scheduling admits a waiting request into every slot freed (Orca, §3)",
        counterfactual="request-level (static) batching of the same 24 requests, 4 slots",
        counterfactual_measured=static[1],
        unit="slot-steps",
        details={"steps, continuous / static": f"{continuous[0]} / {static[0]}", "tokens generated": sum(lengths)},
    )


def continuous_batching_finishes_within_the_list_scheduling_bound(seed: int = 0) -> Evidence:
    """With 4 slots, continuous batching finishes in at most T/B + (1 − 1/B)·max steps (Graham's bound for
    greedy list scheduling, T the tokens to generate); static batching, Σ over batches of their longest
    request, exceeds it."""
    lengths = _output_lengths(seed)
    static_steps = _schedule(lengths, False)[0]
    batch_maxima = sum(max(lengths[i : i + SLOTS]) for i in range(0, REQUESTS, SLOTS))
    return Evidence(
        measured=_schedule(lengths, True)[0],
        expected=sum(lengths) / SLOTS + (1 - 1 / SLOTS) * max(lengths),
        comparison="at_most",
        derivation="theory: Graham (1966), a greedy list schedule on m machines takes ≤ Σp/m + (1 − 1/m)·max p",
        counterfactual="request-level (static) batching: each batch runs for its longest request",
        counterfactual_measured=static_steps,
        unit="steps",
        details={
            "static steps = Σ of batch maxima": f"{static_steps} = {batch_maxima}",
            "lower bound ⌈T/B⌉": -(-sum(lengths) // SLOTS),
        },
    )


def _decoder(seed: int) -> list[DecoderBlock]:
    def block() -> DecoderBlock:
        return DecoderBlock(D_MODEL, HEADS, D_FF, rope_base=10000.0)

    return [seeded_module(block, seed=seed + i) for i in range(LAYERS)]


def _block_without_offset(block: DecoderBlock, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """DecoderBlock.forward with the slip of a square causal mask laid over (new, past + new) scores: the
    chunk's i-th token sees only the first i + 1 keys, most of them the oldest cached tokens."""
    n = x.shape[1]
    mask = torch.ones(n, cache.length + n, dtype=torch.bool).tril()
    x = x + block.attn(block.norm1(x), mask=mask, cache=cache)
    return x + block.ffn(block.norm2(x))


def _prefill(seed: int, chunk: int, offset_mask: bool = True) -> tuple[torch.Tensor, int]:
    """Hidden states of every prompt position after LAYERS blocks, prefilling ``chunk`` tokens per pass, and
    the key rows the first layer's attention read over all passes (its cache right after each append)."""
    blocks, prompt = _decoder(seed), randn(1, PROMPT, D_MODEL, seed=seed + 100)
    caches = [KVCache() for _ in blocks]
    outputs, keys_read = [], 0
    with torch.no_grad():
        for start in range(0, PROMPT, chunk):
            x = prompt[:, start : start + chunk]
            for block, cache in zip(blocks, caches, strict=True):
                x = block(x, cache=cache) if offset_mask else _block_without_offset(block, x, cache)
            keys_read += caches[0].length  # this pass attended to every key the cache held after its append
            outputs.append(x)
    return torch.cat(outputs, dim=1), keys_read


def chunked_prefill_equals_one_shot_prefill(seed: int = 0) -> Evidence:
    """Prefilling a 20-token prompt in chunks of 6 through a 2-layer RoPE decoder, each chunk attending to
    the cache and causally to itself, gives the one-shot prefill's hidden states to rounding error."""
    one_shot = _prefill(seed, chunk=PROMPT)[0]
    return Evidence(
        measured=(_prefill(seed, chunk=CHUNK)[0] - one_shot).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only the order of summation differs
        derivation="the same decoder run over the whole prompt in one pass (causal mask), float64",
        counterfactual="chunks masked with a square causal mask that ignores the cache offset",
        counterfactual_measured=(_prefill(seed, chunk=CHUNK, offset_mask=False)[0] - one_shot).abs().max().item(),
    )


def chunked_prefill_rereads_the_cache_of_earlier_chunks(seed: int = 0) -> Evidence:
    """Chunking is exact but not free: the 20-token prompt in chunks of 6 makes each layer attend to
    6 + 12 + 18 + 20 = 56 key rows over its four passes, C·k(k − 1)/2 + n, against 20 for one pass."""
    return Evidence(
        measured=_prefill(seed, chunk=CHUNK)[1],
        expected=chunked_prefill_cached_token_reads(PROMPT, CHUNK),
        comparison="equal",
        derivation="formula chunked_prefill_cached_token_reads: C · k(k − 1)/2 + n with k = ⌈n / C⌉ chunks",
        counterfactual="the same prompt prefilled in one pass (as if chunking cost no extra cache reads)",
        counterfactual_measured=_prefill(seed, chunk=PROMPT)[1],
        unit="key rows",
    )


# A prefill chunk of sequence A rides with decode tokens of B and C: (tokens already cached, new tokens).
PACKED = ((5, 4), (7, 1), (3, 1))


def _packed_vs_separate(seed: int, boundaries: bool) -> float:
    """One attention layer: each sequence run alone with its own cache, against one packed pass over all new
    tokens (queries concatenated, keys = every sequence's cache + new keys, one after another)."""
    layer = seeded_module(lambda: MultiHeadAttention(D_MODEL, HEADS), seed=seed)
    sequences = [randn(1, past + new, D_MODEL, seed=seed + 10 + i) for i, (past, new) in enumerate(PACKED)]
    separate, queries, keys, values, allowed = [], [], [], [], []
    key_start, total_keys = 0, sum(p + n for p, n in PACKED)
    with torch.no_grad():
        for x, (past, new) in zip(sequences, PACKED, strict=True):
            cache = KVCache()
            layer(x[:, :past], mask=torch.ones(past, past, dtype=torch.bool).tril(), cache=cache)
            own = torch.ones(new, past + new, dtype=torch.bool).tril(past)  # the cache, then itself causally
            separate.append(layer.heads(x[:, past:], mask=own, cache=cache))
            queries.append(layer.split_heads(layer.w_q(x[:, past:]), HEADS))
            keys.append(layer.split_heads(layer.w_k(x), HEADS))
            values.append(layer.split_heads(layer.w_v(x), HEADS))
            rows = torch.zeros(new, total_keys, dtype=torch.bool)
            for i in range(new):  # token i of this sequence's new ones sits at key position key_start + past + i
                first = key_start if boundaries else 0
                rows[i, first : key_start + past + i + 1] = True
            allowed.append(rows)
            key_start += past + new
        packed = attend(torch.cat(queries, 2), torch.cat(keys, 2), torch.cat(values, 2), torch.cat(allowed, 0))
    return (packed - torch.cat(separate, dim=2)).abs().max().item()


def a_packed_step_of_a_prefill_chunk_and_decodes_matches_separate_runs(seed: int = 0) -> Evidence:
    """One forward pass over a 4-token prefill chunk of one sequence and the decode tokens of two others,
    masked so each token sees its own sequence's keys causally, equals running the three separately."""
    return Evidence(
        measured=_packed_vs_separate(seed, boundaries=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="each sequence through the same attention layer alone, with its own KV cache, float64",
        counterfactual="the packed pass with a causal mask over the packed keys but no sequence boundaries",
        counterfactual_measured=_packed_vs_separate(seed, boundaries=False),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
