"""eoi_ext.models.efficientnet_b0 (the paper's EfficientNet-B0, published main.py's
torchvision.models.efficientnet_b0(num_classes=output)) with the real torchvision: the
same parameters as torchvision's, the published uni_skip's dense layers (the stem conv
on 3 channels and the classifier), and sparsify(model, 0.1) with a forward.

Runs in the zoo venv (scripts/zoo_venv.sh); skipped where torchvision is missing.
"""

from __future__ import annotations

import pytest
import torch
from zoo_checks import sparsify

import eoi_ext

models = pytest.importorskip("torchvision.models", reason="torchvision is not installed")


def test_efficientnet_b0_is_torchvisions() -> None:
    torch.manual_seed(0)
    model = eoi_ext.models.efficientnet_b0(num_classes=10)
    assert isinstance(model, models.EfficientNet)
    # specs/contemporary-networks/efficientnet_fixed.py: more_nonzeros True
    assert eoi_ext.conv_modes.default_conv_mode(None, "erk", model) == "delta_more"
    reference = models.efficientnet_b0(weights=None, num_classes=10)
    assert [(n, p.shape) for n, p in model.named_parameters()] == [
        (n, p.shape) for n, p in reference.named_parameters()
    ]
    assert eoi_ext.models.efficientnet_b0().classifier[-1].out_features == 200


def test_efficientnet_b0_uni_skip_and_sparsify() -> None:
    torch.manual_seed(0)
    model = eoi_ext.models.efficientnet_b0(num_classes=10)
    densities = eoi_ext.layer_densities(model, 0.05, "uni_skip")
    dense = {name for name, density in densities.items() if density == 1.0}
    assert dense == {"features.0.0.weight", "classifier.1.weight"}
    sparse, messages = sparsify(model)
    assert not [m for m in messages if "left these modules dense" in m], messages
    assert sparse.masks
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
