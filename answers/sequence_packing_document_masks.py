"""Sequence packing: several documents in one row, a block-diagonal causal mask, positions reset per document.

Query i may attend to key j exactly when both belong to the same document and j ≤ i. With that mask, and
position ids restarting at 0 at each document (needed for absolute positions; RoPE only sees offsets, so it
is indifferent within a document), a packed row computes exactly what each document would compute alone.
A plain causal mask over the packed row lets later documents attend to earlier ones.
"""

from __future__ import annotations

import torch

from answers.evidence import Evidence
from answers.formulas.attention import attention_score_count
from answers.formulas.packing import document_masked_score_count
from answers.reference import (
    DecoderBlock,
    apply_rope,
    attend,
    causal_mask,
    generator,
    repeat_kv,
    seeded_module,
    sinusoidal_encoding,
)

D_MODEL, HEADS, D_FF = 16, 2, 32
LENGTHS = (5, 3, 7)  # three documents packed into one row of 15 tokens


def document_ids(lengths: tuple[int, ...]) -> torch.Tensor:
    """(n,) the index of the document each packed position belongs to."""
    return torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))


def document_causal_mask(lengths: tuple[int, ...]) -> torch.Tensor:
    """(n, n) boolean: i may attend to j when j ≤ i and both lie in the same document (block-diagonal causal)."""
    ids = document_ids(lengths)
    return (ids[:, None] == ids[None, :]) & causal_mask(len(ids))


def reset_positions(lengths: tuple[int, ...]) -> torch.Tensor:
    """Position ids 0 … l−1 restarting at every document: [0, 1, 2, 3, 4, 0, 1, 2, 0, …]."""
    return torch.cat([torch.arange(length) for length in lengths])


def _block_forward(block: DecoderBlock, x: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The reference DecoderBlock's computation with an explicit mask and explicit RoPE positions (the
    block itself always uses a plain causal mask and positions 0 … n−1)."""
    attn = block.attn
    h = block.norm1(x)
    q, k, v = (
        attn.split_heads(w(h), n)
        for w, n in ((attn.w_q, attn.n_heads), (attn.w_k, attn.n_kv_heads), (attn.w_v, attn.n_kv_heads))
    )
    if attn.rope_base is not None:
        q, k = apply_rope(q, positions, attn.rope_base), apply_rope(k, positions, attn.rope_base)
    group = attn.n_heads // attn.n_kv_heads
    heads = attend(q, repeat_kv(k, group), repeat_kv(v, group), mask)  # (B, h, n, d_head)
    x = x + attn.w_o(heads.transpose(1, 2).reshape(x.shape))
    return x + block.ffn(block.norm2(x))


def _model(seed: int, rope: bool) -> list[DecoderBlock]:
    base = 10000.0 if rope else None
    return [seeded_module(lambda: DecoderBlock(D_MODEL, HEADS, D_FF, rope_base=base), seed=seed + i) for i in range(2)]


def _documents(seed: int) -> list[torch.Tensor]:
    g = generator(seed)
    return [torch.randn(1, length, D_MODEL, generator=g, dtype=torch.float64) for length in LENGTHS]


def _separately(blocks: list[DecoderBlock], docs: list[torch.Tensor], absolute: bool) -> torch.Tensor:
    """Each document through the reference blocks' own forward, alone, then concatenated."""
    outs = []
    for doc in docs:
        x = doc + sinusoidal_encoding(doc.shape[1], D_MODEL) if absolute else doc
        for block in blocks:
            x = block(x)
        outs.append(x)
    return torch.cat(outs, dim=1)


def _packed(blocks, docs, mask: torch.Tensor, positions: torch.Tensor, absolute: bool) -> torch.Tensor:
    x = torch.cat(docs, dim=1)
    if absolute:
        x = x + sinusoidal_encoding(int(positions.max()) + 1, D_MODEL)[positions]
    for block in blocks:
        x = _block_forward(block, x, mask, positions)
    return x


def _distance(seed: int, *, rope: bool, absolute: bool, mask: torch.Tensor, positions: torch.Tensor) -> float:
    blocks, docs = _model(seed, rope), _documents(seed)
    with torch.no_grad():
        packed = _packed(blocks, docs, mask, positions, absolute)
        alone = _separately(blocks, docs, absolute)
    return (packed - alone).abs().max().item()


def packed_row_equals_each_document_alone(seed: int = 0) -> Evidence:
    """Three documents packed into one row through two RoPE decoder blocks, with the block-diagonal causal
    mask and reset positions, give each document's own outputs; a plain causal mask over the row does not."""
    positions = reset_positions(LENGTHS)
    n = sum(LENGTHS)
    return Evidence(
        measured=_distance(seed, rope=True, absolute=False, mask=document_causal_mask(LENGTHS), positions=positions),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="the reference DecoderBlock's own forward on each document alone, float64",
        counterfactual="plain causal mask over the packed row (positions still reset)",
        counterfactual_measured=_distance(seed, rope=True, absolute=False, mask=causal_mask(n), positions=positions),
    )


def _leakage(mask: torch.Tensor, seed: int) -> tuple[float, float]:
    """Change in documents 2 and 3's outputs when document 1 is replaced, and the attention mass their
    queries put on earlier documents' keys (first head of the first block)."""
    blocks, docs = _model(seed, rope=True), _documents(seed)
    positions = reset_positions(LENGTHS)
    other = [torch.randn(docs[0].shape, generator=generator(seed + 50), dtype=torch.float64), *docs[1:]]
    with torch.no_grad():
        change = _packed(blocks, docs, mask, positions, False) - _packed(blocks, other, mask, positions, False)
        attn = blocks[0].attn
        h = blocks[0].norm1(torch.cat(docs, dim=1))
        q = apply_rope(attn.split_heads(attn.w_q(h), HEADS), positions)
        k = apply_rope(attn.split_heads(attn.w_k(h), HEADS), positions)
        weights = torch.softmax((q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).masked_fill(~mask, float("-inf")), -1)
    ids = document_ids(LENGTHS)
    later = ids > 0
    earlier_mass = (weights[0, 0][later] * (ids[None, :] < ids[later][:, None])).sum(-1).mean().item()
    return change[0, LENGTHS[0] :].abs().max().item(), earlier_mass


def plain_causal_mask_leaks_across_documents(seed: int = 0) -> Evidence:
    """Replacing document 1 leaves documents 2 and 3's outputs bit-for-bit unchanged under the document mask;
    under a plain causal mask their outputs change, because their queries put weight on document 1's keys."""
    masked_change, _ = _leakage(document_causal_mask(LENGTHS), seed)
    causal_change, leaked_mass = _leakage(causal_mask(sum(LENGTHS)), seed)
    return Evidence(
        measured=masked_change,
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # masked keys get exp(−∞) = 0 weight: nothing may leak, not even rounding
        derivation="theory: a key outside the query's document gets weight exp(−∞) = 0",
        counterfactual="plain causal mask over the packed row",
        counterfactual_measured=causal_change,
        details={"plain causal: mean attention mass on earlier documents (documents 2, 3; head 1)": leaked_mass},
    )


def rope_needs_no_position_reset_within_a_document(seed: int = 0) -> Evidence:
    """With the document mask, RoPE gives each document's own outputs even if positions run on 0 … n−1
    across the row, because a RoPE score depends only on the offset between query and key, and offsets
    inside a document are the same either way. Absolute (sinusoidal) positions without the reset change
    every document after the first."""
    mask, running = document_causal_mask(LENGTHS), torch.arange(sum(LENGTHS))
    return Evidence(
        measured=_distance(seed, rope=True, absolute=False, mask=mask, positions=running),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="the reference DecoderBlock's own forward on each document alone (positions from 0), float64",
        counterfactual="sinusoidal absolute positions 0 … n−1 across the row, no reset",
        counterfactual_measured=_distance(seed, rope=False, absolute=True, mask=mask, positions=running),
    )


def absolute_positions_must_restart_at_each_document(seed: int = 0) -> Evidence:
    """With absolute (sinusoidal) positions added to the inputs, the packed row gives each document's own
    outputs only if position ids restart at 0 for every document."""
    mask = document_causal_mask(LENGTHS)
    return Evidence(
        measured=_distance(seed, rope=False, absolute=True, mask=mask, positions=reset_positions(LENGTHS)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="the reference DecoderBlock's own forward on each document alone, sinusoidal positions from 0",
        counterfactual="position ids 0 … n−1 running across the row",
        counterfactual_measured=_distance(
            seed, rope=False, absolute=True, mask=mask, positions=torch.arange(sum(LENGTHS))
        ),
    )


def document_mask_keeps_about_one_kth_of_the_causal_scores(tokens: int = 1024, documents: int = 8) -> Evidence:
    """A block-diagonal causal mask over k equal documents of l = n/k tokens keeps k·l(l+1)/2 scores, close
    to 1/k of the n(n+1)/2 a plain causal mask keeps: the work a varlen kernel can skip."""
    lengths = (tokens // documents,) * documents
    return Evidence(
        measured=int(document_causal_mask(lengths).sum()),
        expected=document_masked_score_count(tokens, documents),
        comparison="equal",
        derivation="formula document_masked_score_count: k · l(l+1)/2",
        counterfactual="the plain causal mask of the packed row",
        counterfactual_measured=int(causal_mask(tokens).sum()),
        details={"causal formula n(n+1)/2": attention_score_count(tokens, causal=True)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
