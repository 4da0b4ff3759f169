"""Layer adapters (eoi_ext.adapters; issue 13, items 1, 3 and 4) on look-alikes of the
library modules: classes named like transformers', timm's and torchvision's, which the
adapters recognize by module path and class name without importing the libraries."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import assert_orthogonal
from torch import nn

import eoi_ext
from eoi_ext import adapters
from eoi_ext.layers import find_layer_weights


def library_class(module: str, name: str, base: type, body: dict | None = None) -> type:
    return type(name, (base,), {"__module__": module, "__qualname__": name, **(body or {})})


class _Conv1D(nn.Module):
    """transformers' Conv1D: y = x @ W + b, W stored (nx, nf)."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


Conv1D = library_class("transformers.pytorch_utils", "Conv1D", _Conv1D)


class _GPT2Attention(nn.Module):
    def __init__(self, width: int, cross: bool = False) -> None:
        super().__init__()
        self.c_attn = Conv1D((2 if cross else 3) * width, width)
        self.c_proj = Conv1D(width, width)


GPT2Attention = library_class(
    "transformers.models.gpt2.modeling_gpt2", "GPT2Attention", _GPT2Attention
)


class _Attention(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)


TimmAttention = library_class("timm.models.vision_transformer", "Attention", _Attention)
SwinAttention = library_class(
    "torchvision.models.swin_transformer", "ShiftedWindowAttention", _Attention
)
StdConv2d = library_class("timm.layers.std_conv", "StdConv2d", nn.Conv2d)


def blocks_of(matrix: torch.Tensor, groups: int) -> torch.Tensor:
    return matrix.reshape(groups, matrix.shape[0] // groups, -1)


def test_gpt2_conv1d_is_transposed_and_split_into_q_k_v():
    model = nn.ModuleDict({"self": GPT2Attention(16), "cross": GPT2Attention(16, cross=True)})
    sparse = eoi_ext.sparsify(model, 0.3, distribution="uniform")
    groups = {w.name: (w.groups, w.transposed, w.shape) for w in find_layer_weights(model)[0]}
    assert groups["self.c_attn.weight"] == (3, True, (48, 16))
    assert groups["cross.c_attn.weight"] == (2, True, (32, 16))
    assert groups["self.c_proj.weight"] == (1, True, (16, 16))
    for name, count in [("self", 3), ("cross", 2)]:
        stored = model[name].c_attn.weight  # (in, out): the map's matrix is its transpose
        assert sparse.masks[f"{name}.c_attn.weight"].shape == stored.shape
        for block in blocks_of(stored.T, count):
            assert_orthogonal(block)  # each of q, k, v exactly (before: dense, unsupported)
    x = torch.randn(4, 16)
    assert torch.allclose(model["self"].c_attn(x), x @ model["self"].c_attn.weight)


@pytest.mark.parametrize("attention", [TimmAttention, SwinAttention], ids=["timm", "torchvision"])
def test_fused_qkv_linears_are_three_blocks(attention):
    model = nn.Sequential(attention(16))
    eoi_ext.sparsify(model, 0.3, distribution="uniform")
    for block in blocks_of(model[0].qkv.weight, 3):
        assert_orthogonal(block)  # before: one tall matrix, error 1.0 per block


def test_blocks_override_by_name():
    model = nn.ModuleDict({"attn": _Attention(16), "other": nn.Linear(16, 16)})
    eoi_ext.sparsify(model, 0.3, distribution="uniform", blocks={"*.qkv": 3})
    for block in blocks_of(model["attn"].qkv.weight, 3):
        assert_orthogonal(block)
    with pytest.raises(ValueError, match=r"blocks patterns match no module: \*\.qvk"):
        find_layer_weights(model, blocks={"*.qvk": 3})
    with pytest.raises(ValueError, match=r"attn\.proj\.weight cannot be 3 row blocks"):
        find_layer_weights(model, blocks={"attn.proj": 3})
    with pytest.raises(ValueError, match=r"blocks\['\*'\] must be an integer >= 1"):
        find_layer_weights(model, blocks={"*": 0})


def test_weight_standardizing_convs_stay_dense_with_the_reason():
    model = nn.Sequential(StdConv2d(4, 8, 3), nn.Conv2d(8, 8, 3))
    before = model[0].weight.detach().clone()
    with pytest.warns(
        UserWarning, match=r"0 \(StdConv2d: standardizes its weight in every forward"
    ):
        sparse = eoi_ext.sparsify(model, 0.3, distribution="uniform")
    assert list(sparse.masks) == ["1.weight"]
    assert torch.equal(model[0].weight, before)


def test_register_adapter(monkeypatch):
    class Bilinear2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.left = nn.Parameter(torch.randn(8, 12))
            self.right = nn.Parameter(torch.randn(12, 8))

    slots = [adapters.WeightSlot("left"), adapters.WeightSlot("right", transposed=True)]
    monkeypatch.setitem(adapters._REGISTERED, Bilinear2, lambda module: slots)
    model = Bilinear2()
    eoi_ext.sparsify(model, 0.5, distribution="uniform")
    assert_orthogonal(model.left)
    assert_orthogonal(model.right.T)
    with pytest.raises(TypeError, match=r"module_type must be an nn\.Module subclass"):
        adapters.register_adapter(int, lambda module: slots)


class _WindowAttention(_Attention):
    """Swin's attention: a fused qkv and a relative-position bias table of its own."""

    def __init__(self, width: int) -> None:
        super().__init__(width)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(169, 4))


@pytest.mark.parametrize(
    "path", ["torchvision.models.swin_transformer", "timm.models.swin_transformer"]
)
def test_a_position_table_is_neither_left_dense_nor_counted(path):
    """Before: every torchvision Swin attention was warned as unsupported for its table."""
    name = "ShiftedWindowAttention" if path.startswith("torchvision") else "WindowAttention"
    window = library_class(path, name, _WindowAttention)
    model = nn.Sequential(window(16), nn.Conv2d(8, 8, 3, groups=8))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "1.weight: density")  # a depthwise 1x1 matrix
        warnings.filterwarnings("error", "sparsify left these modules dense")
        sparse = eoi_ext.sparsify(model, 0.5, distribution="uniform", exact_density=True)
    assert [layer.groups for layer in sparse.layers] == [3, 1, 8]  # qkv, proj, depthwise
    # Every sparse weight counts, the depthwise kernel (8, 1, 3, 3) too (before: not
    # weight-like, so the model's density fell below the sparse weights'); the table not.
    assert sparse.model_density == pytest.approx(sparse.density)
