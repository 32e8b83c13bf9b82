"""One readable reference Transformer, in the order data flows through it.

Every proof module builds on these blocks, and ``tests/test_reference.py`` checks each block against
torch's own implementation (``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer``), so a proof that uses them is a proof
about the real mechanism, not about a private variant of it.

Conventions: tensors are batch-first, ``(B, n, d)``; per-head tensors are ``(B, h, n, d_head)``. A mask
is boolean and True means "may attend", the same convention as ``F.scaled_dot_product_attention``
(``nn.MultiheadAttention`` uses the opposite one; ``copy_from`` and the tests handle that).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Two OpenMP threads on a two-core machine make small matmuls several times slower, and results
# reproducible only per thread count; every proof runs single-threaded.
torch.set_num_threads(1)

F64 = torch.float64


# --------------------------------------------------------------------------------------------------
# Random inputs: every proof draws from its own seeded generator, never from the global RNG.


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = F64) -> Tensor:
    return torch.randn(*shape, generator=generator(seed), dtype=dtype)


def seeded_module(module_factory, seed: int = 0, dtype: torch.dtype = F64):
    """Build a module with its weights initialised from ``seed``, in eval mode (no dropout)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = module_factory()
    return module.to(dtype).eval()


# --------------------------------------------------------------------------------------------------
# Masks


def causal_mask(n: int, *, include_diagonal: bool = True) -> Tensor:
    """(n, n) boolean: position i may attend to j ≤ i. Without the diagonal, i sees only j < i, and
    the first row sees nothing at all."""
    return torch.tril(torch.ones(n, n, dtype=torch.bool), diagonal=0 if include_diagonal else -1)


def additive_mask(allowed: Tensor, fill: float = -math.inf, dtype: torch.dtype = F64) -> Tensor:
    """0 where attention is allowed, ``fill`` elsewhere; added to the scores before the softmax."""
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, fill)


# --------------------------------------------------------------------------------------------------
# Scaled dot-product attention: softmax(Q Kᵀ / √d_k) V


def attention_scores(q: Tensor, k: Tensor, *, scale: bool = True) -> Tensor:
    """Q Kᵀ / √d_k, shape (..., n_q, n_k)."""
    scores = q @ k.transpose(-2, -1)
    return scores / math.sqrt(q.shape[-1]) if scale else scores


def attention_weights(
    q: Tensor, k: Tensor, mask: Tensor | None = None, *, scale: bool = True, fill: float = -math.inf
) -> Tensor:
    """Row-stochastic attention weights: each query's distribution over the keys it may see."""
    scores = attention_scores(q, k, scale=scale)
    if mask is not None:
        scores = scores.masked_fill(~mask, fill)
    return torch.softmax(scores, dim=-1)


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, *, scale: bool = True) -> Tensor:
    """The attention output: each query's weighted average of the value vectors."""
    return attention_weights(q, k, mask, scale=scale) @ v


def repeat_kv(x: Tensor, n_rep: int) -> Tensor:
    """(B, h_kv, n, d) → (B, h_kv·n_rep, n, d): KV head g serves query heads g·n_rep … g·n_rep+n_rep−1.

    This is the grouping ``F.scaled_dot_product_attention(enable_gqa=True)`` uses; ``x.repeat`` would
    instead hand KV head g to query heads g, g+h_kv, g+2·h_kv, … — a different model.
    """
    return x.repeat_interleave(n_rep, dim=1)


def online_softmax_attention(
    q: Tensor, k: Tensor, v: Tensor, *, block: int = 16, rescale: bool = True, return_logsumexp: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √d_k) V computed one block of keys at a time (the online softmax of FlashAttention).

    For every query it keeps a running maximum m, a running normaliser ℓ = Σ exp(s − m) and a running
    weighted sum a = Σ exp(s − m)·v; when a block raises the maximum to m', the earlier sums are
    multiplied by exp(m − m') so that every term is relative to the same reference. No more than an
    (n_q × block) slice of the scores exists at once. ``rescale=False`` is the classic bug of omitting
    that correction. Shapes (..., n, d) like ``attend``; no mask. With ``return_logsumexp`` it also returns
    L = m + log ℓ = log Σ_j exp(s_j), (..., n_q, 1): all a FlashAttention backward keeps of the softmax.
    """
    scale = 1 / math.sqrt(q.shape[-1])
    running_max = torch.full((*q.shape[:-1], 1), -math.inf, dtype=q.dtype)  # (..., n_q, 1)
    normaliser = torch.zeros_like(running_max)
    out = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=q.dtype)
    for start in range(0, k.shape[-2], block):
        scores = q @ k[..., start : start + block, :].transpose(-2, -1) * scale  # (..., n_q, block)
        new_max = torch.maximum(running_max, scores.amax(-1, keepdim=True))
        correction = torch.exp(running_max - new_max) if rescale else torch.ones_like(new_max)
        weights = torch.exp(scores - new_max)
        normaliser = normaliser * correction + weights.sum(-1, keepdim=True)
        out = out * correction + weights @ v[..., start : start + block, :]
        running_max = new_max
    if return_logsumexp:
        return out / normaliser, running_max + torch.log(normaliser)
    return out / normaliser


def elu_plus_one(x: Tensor) -> Tensor:
    """φ(x) = elu(x) + 1 > 0, the feature map of Katharopoulos et al. (2020)."""
    return F.elu(x) + 1


def linear_attention(q: Tensor, k: Tensor, v: Tensor, feature_map=elu_plus_one) -> Tensor:
    """Kernelised (non-causal) attention φ(Q)(φ(K)ᵀV) / φ(Q)(Σ_j φ(k_j)): weights φ(q_i)·φ(k_j) instead of
    exp(q_i·k_j), regrouped so that only an (m × d_v) state and an m-vector exist, never an n × n matrix
    (m = the width of φ's output). Shapes (..., n, d)."""
    phi_q, phi_k = feature_map(q), feature_map(k)
    state = phi_k.transpose(-2, -1) @ v  # (..., m, d_v)
    normaliser = phi_q @ phi_k.sum(-2, keepdim=True).transpose(-2, -1)  # (..., n, 1)
    return (phi_q @ state) / normaliser


# --------------------------------------------------------------------------------------------------
# Measuring cost


def count_flops(fn, *args, **kwargs) -> int:
    """FLOPs torch's ``FlopCounterMode`` counts for ``fn(*args, **kwargs)``, backward included if ``fn`` calls it.

    It counts matrix products (2 FLOPs per multiply-add) and ignores element-wise work such as exp and
    softmax. On the CPU it counts nothing for the fused ``F.scaled_dot_product_attention``, so attention is
    counted on explicit matmuls. The first use imports torch's compiler stack (about a second).
    """
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    return counter.get_total_flops()


def largest_intermediate(fn, *args, **kwargs) -> int:
    """Elements of the largest tensor any op creates while ``fn(*args, **kwargs)`` runs (inputs excluded),
    recorded at dispatch level, so no implementation can hide a temporary from it."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Largest(TorchDispatchMode):
        largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for tensor in out if isinstance(out, tuple | list) else (out,):
                if isinstance(tensor, Tensor):
                    self.largest = max(self.largest, tensor.numel())
            return out

    with _Largest() as mode:
        fn(*args, **kwargs)
    return mode.largest


# --------------------------------------------------------------------------------------------------
# Positional information


def sinusoidal_encoding(n_positions: int, d_model: int, base: float = 10000.0) -> Tensor:
    """PE[pos, 2i] = sin(pos·ω_i), PE[pos, 2i+1] = cos(pos·ω_i), ω_i = base^(−2i/d_model)."""
    positions = torch.arange(n_positions, dtype=F64)[:, None]
    omega = base ** (-torch.arange(0, d_model, 2, dtype=F64) / d_model)
    pe = torch.zeros(n_positions, d_model, dtype=F64)
    pe[:, 0::2] = torch.sin(positions * omega)
    pe[:, 1::2] = torch.cos(positions * omega)
    return pe


def rope_frequencies(d_head: int, base: float = 10000.0) -> Tensor:
    """θ_i = base^(−2i/d_head), one per pair of dimensions."""
    return base ** (-torch.arange(0, d_head, 2, dtype=F64) / d_head)


def apply_rope(x: Tensor, positions: Tensor, base: float = 10000.0) -> Tensor:
    """Rotate each (even, odd) pair of the last dimension of ``x`` by angle position·θ_i.

    ``x`` is (..., n, d_head) and ``positions`` is (n,). Rotations are orthogonal, so
    ⟨R_m q, R_n k⟩ = ⟨q, R_(n−m) k⟩: the score depends only on the offset n − m.
    """
    angles = positions.to(F64)[:, None] * rope_frequencies(x.shape[-1], base)  # (n, d_head/2)
    cos, sin = torch.cos(angles).to(x.dtype), torch.sin(angles).to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    rotated = torch.empty_like(x)
    rotated[..., 0::2] = even * cos - odd * sin
    rotated[..., 1::2] = even * sin + odd * cos
    return rotated


def alibi_slopes(n_heads: int) -> Tensor:
    """Head h's slope is 2^(−8h/n_heads), h = 1 … n_heads (a geometric sequence; n_heads a power of 2)."""
    return torch.tensor([2.0 ** (-8.0 * h / n_heads) for h in range(1, n_heads + 1)], dtype=F64)


def alibi_bias(n: int, n_heads: int) -> Tensor:
    """(n_heads, n, n): −slope·(i − j), added to the scores; it depends only on the distance i − j."""
    distance = torch.arange(n)[:, None] - torch.arange(n)[None, :]
    return -alibi_slopes(n_heads)[:, None, None] * distance.to(F64)


# --------------------------------------------------------------------------------------------------
# Multi-head attention with any number of KV heads (MHA, GQA, MQA), an optional KV cache and RoPE


@dataclass
class KVCache:
    """The keys and values of every token seen so far, per layer: (B, h_kv, n_seen, d_head) each."""

    keys: Tensor | None = None
    values: Tensor | None = None
    appended: list[int] = field(default_factory=list)  # tokens added per call, for step counting

    @property
    def length(self) -> int:
        return 0 if self.keys is None else self.keys.shape[2]

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        self.keys = k if self.keys is None else torch.cat([self.keys, k], dim=2)
        self.values = v if self.values is None else torch.cat([self.values, v], dim=2)
        self.appended.append(k.shape[2])
        return self.keys, self.values

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.keys, self.values) if t is not None)


class MultiHeadAttention(nn.Module):
    """h query heads of size d_model/h sharing n_kv_heads key/value heads.

    n_kv_heads = n_heads is standard multi-head attention, 1 is multi-query attention, anything
    between that divides n_heads is grouped-query attention.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        *,
        bias: bool = True,
        rope_base: float | None = None,
    ) -> None:
        super().__init__()
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if d_model % n_heads or n_heads % n_kv_heads:
            raise ValueError("d_model must divide into n_heads, and n_heads into n_kv_heads groups")
        self.n_heads, self.n_kv_heads, self.d_head = n_heads, n_kv_heads, d_model // n_heads
        self.rope_base = rope_base
        self.w_q = nn.Linear(d_model, n_heads * self.d_head, bias=bias)
        self.w_k = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.w_v = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.w_o = nn.Linear(n_heads * self.d_head, d_model, bias=bias)

    def split_heads(self, x: Tensor, n_heads: int) -> Tensor:
        batch, n, _ = x.shape
        return x.view(batch, n, n_heads, self.d_head).transpose(1, 2)  # (B, h, n, d_head)

    def heads(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        mask: Tensor | None = None,
        cache: KVCache | None = None,
    ) -> Tensor:
        """Per-head outputs before W_O: (B, h, n, d_head). Queries come from ``x``; keys and values
        from ``memory`` (cross-attention) or from ``x`` itself (self-attention)."""
        source = x if memory is None else memory
        q = self.split_heads(self.w_q(x), self.n_heads)
        k = self.split_heads(self.w_k(source), self.n_kv_heads)
        v = self.split_heads(self.w_v(source), self.n_kv_heads)
        if self.rope_base is not None:
            offset = 0 if cache is None else cache.length
            positions = torch.arange(offset, offset + x.shape[1])
            q, k = apply_rope(q, positions, self.rope_base), apply_rope(k, positions, self.rope_base)
        if cache is not None:
            k, v = cache.append(k, v)
        group = self.n_heads // self.n_kv_heads
        return attend(q, repeat_kv(k, group), repeat_kv(v, group), mask)

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        mask: Tensor | None = None,
        cache: KVCache | None = None,
    ) -> Tensor:
        out = self.heads(x, memory, mask, cache)  # (B, h, n, d_head)
        batch, _, n, _ = out.shape
        return self.w_o(out.transpose(1, 2).reshape(batch, n, self.n_heads * self.d_head))

    @torch.no_grad()
    def copy_from(self, reference: nn.MultiheadAttention) -> MultiHeadAttention:
        """Take the weights of a torch ``nn.MultiheadAttention`` (packed as one (3d, d) in-projection)."""
        if self.n_kv_heads != self.n_heads:
            raise ValueError("nn.MultiheadAttention has one KV head per query head")
        w_q, w_k, w_v = reference.in_proj_weight.chunk(3)
        for mine, theirs in ((self.w_q, w_q), (self.w_k, w_k), (self.w_v, w_v)):
            mine.weight.copy_(theirs)
        if reference.in_proj_bias is not None:
            for mine, theirs in zip((self.w_q, self.w_k, self.w_v), reference.in_proj_bias.chunk(3), strict=True):
                mine.bias.copy_(theirs)
        self.w_o.weight.copy_(reference.out_proj.weight)
        if reference.out_proj.bias is not None:
            self.w_o.bias.copy_(reference.out_proj.bias)
        return self


# --------------------------------------------------------------------------------------------------
# Position-wise feed-forward network and normalisation


class FeedForward(nn.Module):
    """FFN(x) = act(x W1 + b1) W2 + b2, applied to every position independently (d → d_ff → d)."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", *, bias: bool = True) -> None:
        super().__init__()
        self.activation = activation
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)
        # SwiGLU (Llama) multiplies a SiLU-gated branch by a second up-projection.
        self.gate = nn.Linear(d_model, d_ff, bias=bias) if activation == "swiglu" else None

    def forward(self, x: Tensor) -> Tensor:
        hidden = self.up(x)
        if self.activation == "relu":
            hidden = F.relu(hidden)
        elif self.activation == "gelu":
            hidden = F.gelu(hidden)
        elif self.activation == "swiglu":
            hidden = F.silu(self.gate(x)) * hidden
        elif self.activation != "identity":
            raise ValueError(f"unknown activation {self.activation!r}")
        return self.down(hidden)


class RMSNorm(nn.Module):
    """x / rms(x) · g: LayerNorm without the mean subtraction and the bias (Llama, Mistral)."""

    def __init__(self, d_model: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


# --------------------------------------------------------------------------------------------------
# Encoder and decoder layers


class EncoderLayer(nn.Module):
    """Self-attention and an FFN, each wrapped in a residual connection and a LayerNorm.

    Post-norm (the 2017 paper, torch's default): x ← LN(x + Sublayer(x)).
    Pre-norm (GPT-2 onwards):                    x ← x + Sublayer(LN(x)).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, *, norm_first: bool = False, eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1, self.norm2 = nn.LayerNorm(d_model, eps=eps), nn.LayerNorm(d_model, eps=eps)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if self.norm_first:
            x = x + self.self_attn(self.norm1(x), mask=mask)
            return x + self.ffn(self.norm2(x))
        x = self.norm1(x + self.self_attn(x, mask=mask))
        return self.norm2(x + self.ffn(x))

    @torch.no_grad()
    def copy_from(self, reference: nn.TransformerEncoderLayer) -> EncoderLayer:
        self.self_attn.copy_from(reference.self_attn)
        _copy_ffn(self.ffn, reference)
        self.norm1.load_state_dict(reference.norm1.state_dict())
        self.norm2.load_state_dict(reference.norm2.state_dict())
        return self


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the encoder's output, and an FFN, each with a
    residual connection and a LayerNorm (post-norm, as in the paper and torch's default)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = FeedForward(d_model, d_ff)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model, eps=eps) for _ in range(3))

    def forward(self, x: Tensor, memory: Tensor, mask: Tensor | None = None) -> Tensor:
        x = self.norm1(x + self.self_attn(x, mask=mask))
        x = self.norm2(x + self.cross_attn(x, memory=memory))
        return self.norm3(x + self.ffn(x))

    @torch.no_grad()
    def copy_from(self, reference: nn.TransformerDecoderLayer) -> DecoderLayer:
        self.self_attn.copy_from(reference.self_attn)
        self.cross_attn.copy_from(reference.multihead_attn)
        _copy_ffn(self.ffn, reference)
        norms = zip(
            (self.norm1, self.norm2, self.norm3), (reference.norm1, reference.norm2, reference.norm3), strict=True
        )
        for mine, theirs in norms:
            mine.load_state_dict(theirs.state_dict())
        return self


class DecoderBlock(nn.Module):
    """A decoder-only (GPT/Llama-style) block: pre-norm causal self-attention and an FFN, no
    cross-attention. Structurally an encoder layer with a causal mask."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        *,
        n_kv_heads: int | None = None,
        rope_base: float | None = None,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(d_model, n_heads, n_kv_heads, rope_base=rope_base)
        self.ffn = FeedForward(d_model, d_ff, activation)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        past = 0 if cache is None else cache.length
        n = x.shape[1]
        # New tokens see every cached token and the new tokens up to themselves.
        mask = torch.ones(n, past + n, dtype=torch.bool).tril(diagonal=past)
        x = x + self.attn(self.norm1(x), mask=mask, cache=cache)
        return x + self.ffn(self.norm2(x))


def _copy_ffn(ffn: FeedForward, reference: nn.TransformerEncoderLayer | nn.TransformerDecoderLayer) -> None:
    ffn.up.load_state_dict(reference.linear1.state_dict())
    ffn.down.load_state_dict(reference.linear2.state_dict())


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
