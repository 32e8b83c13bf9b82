"""HBM traffic of attention, counted in elements, after Dao et al. (2022), Algorithms 0 and 1 and Theorem 2."""

from __future__ import annotations


def standard_attention_hbm_accesses(tokens: int, head_dim: int) -> int:
    """Algorithm 0: read Q, K and write S; read S and write P; read P, V and write O:
    (2nd + n²) + (n² + n²) + (n² + nd + nd) = 4n² + 4nd, one head."""
    return 4 * tokens * tokens + 4 * tokens * head_dim


def flash_attention_hbm_accesses(tokens: int, head_dim: int, sram: int) -> int:
    """Algorithm 1 with SRAM of ``sram`` elements: key blocks of B_c = ⌈M/4d⌉, query blocks of B_r = min(B_c, d).
    O, ℓ, m are initialised in HBM (nd + 2n writes); K and V are read once (2nd); for each of the
    T_c = ⌈n/B_c⌉ key blocks every query block reads Q_i, O_i, ℓ_i, m_i and writes O_i, ℓ_i, m_i
    (3nd + 4n per key block). Total nd + 2n + 2nd + T_c·(3nd + 4n) = Θ(n²d²/M), one head."""
    key_block = -(-sram // (4 * head_dim))  # ⌈M / 4d⌉
    key_blocks = -(-tokens // key_block)  # T_c
    return 3 * tokens * head_dim + 2 * tokens + key_blocks * (3 * tokens * head_dim + 4 * tokens)


def flash_attention_backward_hbm_accesses(tokens: int, head_dim: int, sram: int) -> int:
    """The recomputing backward (Algorithm 2/4, with FlashAttention-2's single log-sum-exp L per query): compute
    D = rowsum(dO ∘ O) (2nd reads, n writes); zero dQ in HBM (nd); read K, V once (2nd) and write dK, dV once
    (2nd); for each of the T_c key blocks every query block reads Q_i, dO_i, dQ_i, L_i, D_i and writes dQ_i
    (4nd + 2n per key block). Total 7nd + n + T_c·(4nd + 2n) = Θ(n²d²/M): no n × n matrix is read or written."""
    key_block = -(-sram // (4 * head_dim))  # ⌈M / 4d⌉
    key_blocks = -(-tokens // key_block)  # T_c
    return 7 * tokens * head_dim + tokens + key_blocks * (4 * tokens * head_dim + 2 * tokens)
