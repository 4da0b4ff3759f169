"""The real timm models (issue 13): vit_small_patch16_224, resnet50, convnext_tiny,
efficientnet_b0, resnetv2_50x1_bit and nfnet_l0, randomly initialized (pretrained=False:
nothing is downloaded) on small inputs. sparsify(model, 0.1) leaves every supported weight
orthogonal per row block and a training step keeps it inside its mask; the ViT's fused qkv
Linears are three exactly orthogonal blocks (adapters.PARENT_BLOCKS); the
weight-standardizing convolutions (StdConv2d in BiT, ScaledStdConv2d in NFNets) rebuild
their weight in every forward, so they are left dense, and say why.

Runs in the zoo venv (scripts/zoo_venv.sh); skipped where timm is missing.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo_checks import (
    ORTHO_TOL,
    block_error,
    check_masks,
    check_model,
    check_orthogonal,
    effective,
    layers_by_name,
    sparsify,
    train_step,
)

timm = pytest.importorskip("timm")
std_conv = pytest.importorskip("timm.layers.std_conv")

# name -> create_model keyword arguments; the ViT on 64x64 images (16 patches instead of
# 196), its 384-wide layers unchanged.
CASES: dict[str, dict[str, object]] = {
    "vit_small_patch16_224": {"img_size": 64},
    "resnet50": {},
    "convnext_tiny": {},
    "efficientnet_b0": {},
    "resnetv2_50x1_bit": {},
    "nfnet_l0": {},
}
STD_CONV = {"resnetv2_50x1_bit": "StdConv2d", "nfnet_l0": "ScaledStdConv2d"}
REASON = "standardizes its weight"


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, **CASES[name])
    return model, torch.randn(2, 3, 64, 64)


@pytest.mark.parametrize("name", [name for name in CASES if name not in STD_CONV])
def test_sparsify_train_step(name: str) -> None:
    model, inputs = build(name)
    check_model(model, inputs)


def test_vit_qkv_three_blocks() -> None:
    model, _ = build("vit_small_patch16_224")
    sparsify(model)
    qkv = {n: layer for n, layer in layers_by_name(model).items() if n.endswith(".attn.qkv.weight")}
    assert len(qkv) == 12, sorted(qkv)
    for name, layer in qkv.items():
        assert layer.groups == 3, f"{name}: {layer.groups} blocks, expected q, k, v"
        assert block_error(layer) < ORTHO_TOL, name
        for block in effective(layer).double().chunk(3):  # split by hand, not by groups
            gram = block @ block.T
            assert (gram - torch.eye(len(block), dtype=torch.float64)).abs().max() < ORTHO_TOL
        assert effective(layer).ne(0).any(dim=1).all(), f"{name}: an all-zero row"


@pytest.mark.parametrize(("name", "std_type"), STD_CONV.items())
def test_std_conv_left_dense(name: str, std_type: str) -> None:
    """The weight-standardizing convolutions are left dense, untouched and named with the
    reason; everything else gets the same checks as test_sparsify_train_step."""
    model, inputs = build(name)
    cls = getattr(std_conv, std_type)
    std = {n: module for n, module in model.named_modules() if isinstance(module, cls)}
    assert std, f"{name} holds no {std_type}"
    before = {n: module.weight.detach().clone() for n, module in std.items()}
    sparse, messages = sparsify(model)
    for module_name, module in std.items():  # untouched: neither masked nor re-initialized
        assert f"{module_name}.weight" not in sparse.masks, module_name
        assert torch.equal(module.weight, before[module_name]), module_name
    # The warning names the first modules left dense (and counts the rest).
    first = next(iter(std))
    assert any(f"{first} ({std_type}" in m and REASON in m for m in messages), messages
    # The summary names every one, with the reason.
    lines = [line for line in sparse.summary().splitlines() if REASON in line]
    missing = [n for n in std if not any(f"{n} ({std_type}" in line for line in lines)]
    assert not missing, f"not in the summary's left-dense lines: {missing}"
    assert sparse.model_density > 0.5 > sparse.density  # most of the weights stay dense
    check_orthogonal(model)
    check_masks(model, sparse)
    train_step(model, inputs)
    check_masks(model, sparse)
