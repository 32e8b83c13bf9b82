"""How a Transformer reads an image: Vision Transformer patch tokens.

ViT cuts a 224 × 224 RGB image into 16 × 16 patches, flattens each into 3·16·16 = 768 numbers and
projects it linearly: 196 tokens (+1 class token) for an unchanged Transformer encoder. The linear
patch projection is exactly a stride-16 convolution, and the encoder itself knows nothing about 2-D
layout — that comes only from the position embeddings added to the tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from answers.evidence import Evidence
from answers.reference import randn, seeded_module

PATCH = 16


def _patches(image: torch.Tensor, patch: int = PATCH) -> torch.Tensor:
    """(C, H, W) → (H·W/p², C·p²): one row per non-overlapping patch, in raster order."""
    return F.unfold(image.unsqueeze(0), kernel_size=patch, stride=patch)[0].T


def _patch_loop(image: torch.Tensor, patch: int = PATCH) -> torch.Tensor:
    """The patches cut one by one, in raster order: token i·(W/p) + j is patch (i, j), channel by channel."""
    _, height, width = image.shape
    return torch.stack(
        [
            image[:, i : i + patch, j : j + patch].flatten()
            for i in range(0, height, patch)
            for j in range(0, width, patch)
        ]
    )


def _gap(tokens: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest element difference, or infinity when the shapes (token count, token size) differ."""
    return (tokens - reference).abs().max().item() if tokens.shape == reference.shape else float("inf")


def image_becomes_196_tokens_of_768_values(seed: int = 0) -> Evidence:
    """A 3 × 224 × 224 image in 16 × 16 patches is a sequence of (224/16)² = 196 tokens of 3·16·16 = 768
    values, token 14·i + j holding patch (i, j). A plain reshape to (196, 768) has the same shape but each of
    its rows is a strip of one channel's pixels, not a patch: the shape alone proves nothing."""
    image = randn(3, 224, 224, seed=seed)
    reference = _patch_loop(image)
    return Evidence(
        measured=_gap(_patches(image), reference),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the same pixels copied, no arithmetic
        derivation="a Python loop slicing image[:, 16i:16i+16, 16j:16j+16] for i, j in raster order",
        counterfactual="image.reshape(196, 768): the right shape from a plain reshape",
        counterfactual_measured=_gap(image.reshape(-1, 3 * PATCH * PATCH), reference),
        details={
            "tokens × values per token": tuple(reference.shape),
            "tokens with the class token": (224 // PATCH) ** 2 + 1,
            "attention scores per head, patches": 196**2,
            "attention scores per head, pixels": (224 * 224) ** 2,
        },
    )


def patch_embedding_is_a_strided_convolution(d_model: int = 64, seed: int = 0) -> Evidence:
    """Projecting flattened patches with one shared matrix equals Conv2d(kernel = stride = 16), as ViT implements it."""
    image = randn(3, 64, 64, seed=1000 * seed + 1)
    conv = seeded_module(lambda: nn.Conv2d(3, d_model, PATCH, stride=PATCH), seed=seed)
    with torch.no_grad():
        by_conv = conv(image.unsqueeze(0)).flatten(2)[0].T  # (16 patches, d_model)
        weight, bias = conv.weight.flatten(1), conv.bias  # (d_model, 3·16·16)
        by_matmul = _patches(image) @ weight.T + bias
        # Natural mistake: "patches" by reshaping the image row-major, which mixes distant pixels.
        naive = image.reshape(-1, 3 * PATCH * PATCH) @ weight.T + bias
    return Evidence(
        measured=(by_matmul - by_conv).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: the same sums in a different order
        derivation="torch's own nn.Conv2d with kernel_size = stride = 16",
        counterfactual="patches made by a plain reshape of the image tensor",
        counterfactual_measured=(naive - by_conv).abs().max().item(),
    )


def encoder_alone_ignores_where_patches_are(d_model: int = 96, seed: int = 0) -> Evidence:
    """Without position embeddings, shuffling the patches only shuffles the encoder's outputs: the 2-D
    layout reaches the model solely through the positions ViT adds."""
    layer = seeded_module(
        lambda: nn.TransformerEncoderLayer(d_model, 4, 2 * d_model, dropout=0.0, batch_first=True), seed=seed
    )
    tokens = randn(1, 16, d_model, seed=1000 * seed + 2)  # 16 patch embeddings
    positions = randn(1, 16, d_model, seed=1000 * seed + 3)  # a learned position table, one row per patch
    order = torch.randperm(16, generator=torch.Generator().manual_seed(1000 * seed + 4))

    def shuffle_gap(pos: torch.Tensor) -> float:
        with torch.no_grad():
            # Positions stay attached to slots, not to patch contents, as in ViT.
            return (layer(tokens[:, order] + pos) - layer(tokens + pos)[:, order]).abs().max().item()

    return Evidence(
        measured=shuffle_gap(torch.zeros_like(positions)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="theory: self-attention and the FFN are permutation-equivariant",
        counterfactual="position embeddings added to the patch tokens",
        counterfactual_measured=shuffle_gap(positions),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
