"""Adapters for other libraries' modules (docs/masking.md, "Other libraries' layers"),
named by module path and class name so that eoi_ext never imports the library (a model
that holds one has imported it already): transformers' Conv1D (stored transposed), the
fused q/k/v attention of timm and torchvision (split by PARENT_BLOCKS), and timm's
weight-standardizing convs (dense, with the reason). Paths checked against timm 1.0.31,
torchvision 0.29.1 and transformers 5.24 (tests/zoo, tests/test_transformers.py).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .weight_slot import Adapter, WeightSlot

__all__ = ["LIBRARY", "PARENT_BLOCKS"]


def _conv1d_transposed(module: nn.Module) -> list[WeightSlot]:
    """transformers' Conv1D: y = x @ W + b with W stored (in, out)."""
    return [WeightSlot("weight", bias="bias", transposed=True)]


def _position_tables(module: nn.Module) -> list[WeightSlot]:
    """Attention whose own parameters are relative-position bias tables and q/v biases, not
    maps (its fused qkv child is split by PARENT_BLOCKS)."""
    return []


def _standardized(module: nn.Module) -> str:
    return "standardizes its weight in every forward (weight standardization)"


# Library types by (module path, class name): never imported here.
LIBRARY: dict[tuple[str, str], Adapter] = {
    ("transformers.pytorch_utils", "Conv1D"): _conv1d_transposed,
    **{
        (path, name): _standardized
        for path in ("timm.layers.std_conv", "timm.models.layers.std_conv")
        for name in ("StdConv2d", "StdConv2dSame", "ScaledStdConv2d", "ScaledStdConv2dSame")
    },
}
# Attention modules: (module path, class name) -> child qkv's row blocks. Their own
# parameters are position tables (_position_tables).
_FUSED_QKV = {
    ("timm.layers.attention", "Attention"): 3,
    ("timm.layers.attention", "AttentionRope"): 3,  # qkv is None when not fused
    ("timm.models.vision_transformer", "Attention"): 3,  # older timm
    ("timm.models.swin_transformer", "WindowAttention"): 3,
    ("timm.models.swin_transformer_v2", "WindowAttention"): 3,
    ("timm.models.beit", "Attention"): 3,
    ("timm.models.eva", "EvaAttention"): 3,  # qkv is None with separate q/k/v
    ("torchvision.models.swin_transformer", "ShiftedWindowAttention"): 3,
    ("torchvision.models.swin_transformer", "ShiftedWindowAttentionV2"): 3,
    ("torchvision.models.video.swin_transformer", "ShiftedWindowAttention3d"): 3,
    ("torchvision.models.video.mvit", "MultiscaleAttention"): 3,
}
LIBRARY.update(dict.fromkeys(_FUSED_QKV, _position_tables))
# Parents that fuse their children's matrices: (module path, class name) -> {child
# attribute: row blocks of its weight (an int, or a function of the child)}.
PARENT_BLOCKS: dict[tuple[str, str], dict[str, int | Callable[[nn.Module], int]]] = {
    **{parent: {"qkv": blocks} for parent, blocks in _FUSED_QKV.items()},
    # q, k, v (self-attention, nf = 3 nx) or k, v (cross-attention, nf = 2 nx); from the
    # weight (nx, nf), as older Conv1D keep no nx.
    ("transformers.models.gpt2.modeling_gpt2", "GPT2Attention"): {
        "c_attn": lambda child: child.weight.shape[1] // child.weight.shape[0]
    },
}
