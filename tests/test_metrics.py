"""eoi_ext.metrics and the paper's networks (eoi_ext.models)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.metrics import (
    conv_orthogonality_error,
    jacobian_singular_values,
    layer_norms,
    mask_densities,
    orthogonality_error,
    orthogonality_errors,
)
from eoi_ext.models import deep_mlp, vanilla_cnn


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_jacobian_of_deep_linear_eoi_network_is_orthogonal():
    """A deep linear network of exactly orthogonal layers has all Jacobian singular
    values 1 (to rounding), whatever the depth."""
    model = deep_mlp(30, 24, activation="linear", in_features=24, out_features=24).double()
    eoi_ext.sparsify(model, 0.2, distribution="uniform", generator=generator())
    x = torch.randn(3, 24, dtype=torch.float64, generator=generator(1))
    values = jacobian_singular_values(model, x)
    assert values.shape == (3, 24)
    assert torch.allclose(values, torch.ones_like(values), atol=1e-10)
    single = jacobian_singular_values(model, x[0])
    assert single.shape == (24,)
    # The check has teeth: the random sparse initialization is far from isometric.
    random = deep_mlp(30, 24, activation="linear", in_features=24, out_features=24).double()
    eoi_ext.sparsify(random, 0.2, distribution="uniform", method="random", generator=generator())
    spread = jacobian_singular_values(random, x)
    assert float(spread.max() / spread.min()) > 100


def test_jacobian_of_a_cnn():
    model = vanilla_cnn(3, 8, in_channels=2, num_classes=5)
    eoi_ext.sparsify(model, 0.5, distribution="uniform", generator=generator())
    assert jacobian_singular_values(model, torch.randn(4, 2, 8, 8)).shape == (4, 5)
    assert jacobian_singular_values(model, torch.randn(2, 8, 8)).shape == (5,)


def test_conv_orthogonality_error_detects_non_orthogonal_kernels():
    weight = torch.zeros(4, 4, 3, 3, dtype=torch.float64)
    weight[:, :, 1, 1] = torch.eye(4)
    assert conv_orthogonality_error(weight) < 1e-15
    # The same matrix at two taps: orthogonal at frequency 0 only up to scale.
    weight[:, :, 0, 0] = torch.eye(4)
    assert conv_orthogonality_error(weight) > 0.5
    # Spreading an orthogonal matrix over taps breaks the map's isometry even though the
    # flattened (c_out, c_in * K) matrix has orthonormal rows.
    spread = torch.zeros(2, 2, 2, dtype=torch.float64)
    spread[0, 0, 0] = spread[1, 0, 1] = 1.0  # rows e_(0,0) and e_(0,1): orthonormal
    assert conv_orthogonality_error(spread) > 0.5
    assert orthogonality_error(spread.reshape(2, -1)) == 0.0


def test_orthogonality_errors_per_layer_kind():
    model = nn.Sequential(nn.Linear(8, 12), nn.Conv1d(12, 6, 3), nn.LSTM(6, 4))
    eoi_ext.sparsify(model, 0.5, distribution="uniform", generator=generator())
    errors = orthogonality_errors(model, gain=1.0)
    assert set(errors) == {"0.weight", "1.weight", "2.weight_ih_l0", "2.weight_hh_l0"}
    assert max(errors.values()) < 1e-5
    with torch.no_grad():
        model[2].weight_hh_l0.mul_(2)
    assert orthogonality_errors(model)["2.weight_hh_l0"] > 1.0


def test_mask_densities():
    masks = {"a": torch.tensor([True, False, False, False]), "b": torch.ones(4, dtype=torch.bool)}
    assert mask_densities(masks) == {"a": 0.25, "b": 1.0, "total": 0.625}


def test_layer_norms():
    model = deep_mlp(5, 16, in_features=8, out_features=3)
    eoi_ext.sparsify(model, 0.5, distribution="uniform", generator=generator())
    x = torch.randn(10, 8, generator=generator(2))
    norms = layer_norms(model, x, target=torch.randint(0, 3, (10,), generator=generator(3)))
    assert list(norms["activation"]) == ["1", "3", "5", "7", "9"]
    assert list(norms["gradient"]) == ["1.weight", "3.weight", "5.weight", "7.weight", "9.weight"]
    assert all(value > 0 for value in norms["activation"].values())
    assert all(value > 0 for value in norms["gradient"].values())
    assert all(p.grad is None for p in model.parameters())  # leaves no gradients behind
    # The activation RMS of the first layer is that of W x + b, computed independently.
    expected = float(model[1](x.flatten(1)).detach().pow(2).mean().sqrt())
    assert norms["activation"]["1"] == pytest.approx(expected)


def test_models():
    mlp = deep_mlp(5, 32, in_features=64, out_features=10)
    linears = [m for m in mlp.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 5
    assert (linears[0].in_features, linears[-1].out_features) == (64, 10)
    assert all(isinstance(m, nn.Tanh) for m in mlp if isinstance(m, nn.Tanh))
    assert mlp(torch.randn(2, 8, 8)).shape == (2, 10)  # inputs are flattened
    cnn = vanilla_cnn(6, 16, activation="relu", in_channels=3, num_classes=7)
    convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6
    assert cnn(torch.randn(2, 3, 16, 16)).shape == (2, 7)
    norms = (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d)
    assert not any(isinstance(m, norms) for m in [*mlp.modules(), *cnn.modules()])
    with pytest.raises(ValueError, match="activation must be one of"):
        deep_mlp(3, 8, activation="gelu")
    with pytest.raises(ValueError, match="depth"):
        deep_mlp(1, 8)


@pytest.mark.parametrize("shape", [(32, 16, 1, 1), (16, 32, 1), (24, 24, 1, 1, 1)])
def test_pointwise_convs_are_measured_as_matrices(shape):
    """A kernel of size 1 has the same symbol at every frequency: one frequency suffices,
    and the result is the matrix's error (resnet50's 1x1 convs took 6.9 s each)."""
    weight = torch.randn(shape, dtype=torch.float64)
    matrix = weight.reshape(shape[0], shape[1])
    expected = eoi_ext.metrics.orthogonality_error(matrix)
    assert eoi_ext.metrics.conv_orthogonality_error(weight) == pytest.approx(expected, rel=1e-12)
    assert eoi_ext.metrics.conv_orthogonality_error(weight, grid=4) == pytest.approx(
        expected, rel=1e-12
    )


def full_grid_error(weight: torch.Tensor, gain: float, groups: int, size: int) -> float:
    """The definition, plainly: every frequency of the grid, every group."""
    w = weight.double()
    symbol = torch.fft.fftn(w, s=(size,) * (w.dim() - 2), dim=tuple(range(2, w.dim())))
    worst = 0.0
    for block in symbol.chunk(groups, dim=0):
        for index in torch.cartesian_prod(*[torch.arange(size)] * (w.dim() - 2)).reshape(
            -1, w.dim() - 2
        ):
            matrix = block[(slice(None), slice(None), *index.tolist())]
            if matrix.shape[0] > matrix.shape[1]:
                matrix = matrix.T
            gram = matrix @ matrix.conj().T
            worst = max(worst, float((gram - gain**2 * torch.eye(len(gram))).abs().max()))
    return worst


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("kernel", [(3, 3), (5,), (3, 2, 3)])
def test_conv_error_shortcuts_equal_the_full_grid(kernel, groups):
    """One-tap kernels are read as their matrix, and half the frequencies of the last
    dimension are skipped (conjugate symmetry): both equal the full grid."""
    g = torch.Generator().manual_seed(len(kernel) + groups)
    delta = torch.zeros(12, 8 // groups, *kernel, dtype=torch.float64)
    eoi_ext.init.sparse_orthogonal_(delta, 0.4, gain=1.5, groups=groups, generator=g)
    dense = torch.randn(12, 8 // groups, *kernel, dtype=torch.float64, generator=g) / 4
    for weight in (delta, dense):
        expected = full_grid_error(weight, 1.5, groups, 6)
        assert conv_orthogonality_error(weight, 1.5, groups=groups, grid=6) == pytest.approx(
            expected, rel=1e-10, abs=1e-12
        )
    assert conv_orthogonality_error(delta, 1.5, groups=groups) < 1e-12


def test_jacobian_in_eval_mode_and_mode_restored():
    """Per-sample Jacobians of a BatchNorm network: BatchNorm on its running statistics
    (a batch of one has none in training), the model's mode restored after."""
    model = torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.BatchNorm1d(6))
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(6))
        model[1].running_var.fill_(4.0)  # eval-mode BN divides by sqrt(4 + eps)
    model.train()
    values = eoi_ext.metrics.jacobian_singular_values(model, torch.randn(3, 6))
    assert model.training
    assert torch.allclose(values, torch.full((3, 6), 0.5, dtype=torch.float64), atol=1e-5)
