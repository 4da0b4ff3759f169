"""The real torchvision models (issue 13): resnet18, mobilenet_v3_small, efficientnet_b0,
vit_b_16, swin_t and convnext_tiny, randomly initialized (weights=None: nothing is
downloaded) on small inputs. sparsify(model, 0.1) leaves every supported weight
orthogonal per row block, and a training step keeps every weight inside its mask; the
fused q/k/v projections (nn.MultiheadAttention's in_proj, swin's qkv Linear through
adapters.PARENT_BLOCKS) are three exactly orthogonal blocks.

Runs in the zoo venv (scripts/zoo_venv.sh); skipped where torchvision is missing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn
from zoo_checks import ORTHO_TOL, block_error, check_model, effective, layers_by_name, sparsify

models = pytest.importorskip("torchvision.models")

# name -> (builder, image size). Full-width models; vit_b_16 on 64x64 images (16 patches
# instead of 196) keeps its 768-wide layers at a fraction of the forward's cost.
CASES: dict[str, tuple[Callable[[], nn.Module], int]] = {
    "resnet18": (lambda: models.resnet18(weights=None), 64),
    "mobilenet_v3_small": (lambda: models.mobilenet_v3_small(weights=None), 64),
    "efficientnet_b0": (lambda: models.efficientnet_b0(weights=None), 64),
    "vit_b_16": (lambda: models.vit_b_16(weights=None, image_size=64), 64),
    "swin_t": (lambda: models.swin_t(weights=None), 64),
    "convnext_tiny": (lambda: models.convnext_tiny(weights=None), 64),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    make, size = CASES[name]
    return make(), torch.randn(2, 3, size, size)


@pytest.mark.parametrize("name", CASES)
def test_sparsify_train_step(name: str) -> None:
    model, inputs = build(name)
    _, messages = check_model(model, inputs)
    # Every module is handled (before: swin's 12 attention modules were warned about
    # for their relative-position bias tables).
    assert not [m for m in messages if "left these modules dense" in m], messages


def test_parametrize_masking() -> None:
    model, inputs = build("resnet18")
    check_model(model, inputs, masking="parametrize")


def check_fused_qkv(model: nn.Module, suffix: str, count: int) -> None:
    """The `count` weights named *suffix are 3 row blocks, each exactly orthogonal, with
    no all-zero row."""
    fused = {name: layer for name, layer in layers_by_name(model).items() if name.endswith(suffix)}
    assert len(fused) == count, sorted(fused)
    for name, layer in fused.items():
        assert layer.groups == 3, f"{name}: {layer.groups} blocks, expected q, k, v"
        error = block_error(layer)
        assert error < ORTHO_TOL, f"{name}: orthogonality error {error:.2e} per block"
        weight = effective(layer)
        assert weight.ne(0).any(dim=1).all(), f"{name}: an all-zero row"
        for block in weight.chunk(3):  # split by hand, not by layer.groups
            gram = block.double() @ block.double().T
            assert (gram - torch.eye(len(block), dtype=torch.float64)).abs().max() < ORTHO_TOL


def test_swin_qkv_three_blocks() -> None:
    model, _ = build("swin_t")
    sparsify(model)
    check_fused_qkv(model, ".attn.qkv.weight", count=12)  # depths 2, 2, 6, 2


def test_vit_in_proj_three_blocks() -> None:
    torch.manual_seed(0)
    model = models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128
    )
    sparsify(model)
    check_fused_qkv(model, ".self_attention.in_proj_weight", count=2)
