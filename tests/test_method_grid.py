"""The paper's method grid (issue 14): {uniform, ERK, SNIP, GraSP, SynFlow} masks x
{base, AI, EOI}, plus SAO and dense, built through sparsify for the MLP, the
circular-padded deep CNN, ResNet-32 and VGG-16, each cell checked for fidelity.

The depth of each piece is tested elsewhere (tests/test_given_masks.py,
test_published_isometry.py, test_sao.py, test_snip.py, ...); here every cell of the
grid is built end to end and checked for what that row promises: the densities, the
masks, zeros outside them, base's values, AI's descent, EOI's and SAO's orthogonality,
SAO's degrees, a dense model. Helpers (networks, gains, the settings kept small for
speed: SynFlow's rounds, AI's iterations): tests/method_grid_checks.py.
"""

from __future__ import annotations

import pytest
import torch
from method_grid_checks import (
    DENSITY,
    DISTRIBUTIONS,
    MASK_SOURCES,
    NETWORKS,
    build,
    built_base,
    check_eoi_counts,
    check_masks_hold,
    check_orthogonal,
    dense,
    expected_densities,
    generator,
    given,
    published_ai_objective,
    weights,
)

import eoi_ext

# EOI warns about layers below its minimum density (SNIP's, ERK's on the small CNN) and
# builds them at it; check_eoi_counts holds them to that rule.
pytestmark = pytest.mark.filterwarnings("ignore:.*below the minimum.*:UserWarning")

ROWS = [*DISTRIBUTIONS, *MASK_SOURCES]
GRID = [(n, source, m) for n in NETWORKS for source in ROWS for m in ("base", "ai", "eoi")]


def grid_id(cell: tuple[str, str, str]) -> str:
    return "-".join(cell)


@pytest.mark.parametrize("cell", GRID, ids=grid_id)
def test_mask_rows(cell):
    network, source, method = cell
    gain = NETWORKS[network].gain
    model, sparse = built_base(network, source) if method == "base" else build(*cell)
    densities = expected_densities(network, source)
    assert sparse.densities == pytest.approx(densities, abs=1e-12)
    assert sparse.method == method
    check_masks_hold(model, sparse, network)
    if method == "eoi":
        check_eoi_counts(sparse, densities)
        check_orthogonal(model, gain)
        return
    if source in MASK_SOURCES:  # the given positions, exactly
        for name, mask in given(network, source).items():
            assert torch.equal(sparse.masks[name], mask), name
    else:  # uniformly random masks of exactly round(d * numel) entries (at least 1)
        for name, mask in sparse.masks.items():
            assert int(mask.sum()) == max(1, round(densities[name] * mask.numel())), name
    # The dense init: the values the mask sources scored, and base's own draws (the same
    # seed; its mask draws do not depend on the density).
    start = weights(dense(network)[0])
    if method == "base":  # the dense init masked, not rescaled
        for name, weight in weights(model).items():
            assert torch.equal(weight, start[name] * sparse.masks[name]), name
        return
    # ai: from base's start and mask, the published objective descends: every layer
    # away from its minimum, and the sum (the published loss). The steps are normalized
    # (the norm is not squared), so a layer near its minimum, e.g. a dense orthogonal one,
    # is stepped past it (docs/algorithm.md: they circle it): objectives below 1 may rise.
    base_model, base = built_base(network, source)
    base_weights, total = weights(base_model), [0.0, 0.0]
    for name, weight in weights(model).items():
        mask = sparse.masks[name]
        assert torch.equal(mask, base.masks[name]), f"{name}: ai drew another mask than base"
        before = published_ai_objective(base_weights[name], mask, gain)
        after = published_ai_objective(weight, mask, gain)
        assert after < before or before < 1, f"{name}: objective {before:.4g} -> {after:.4g}"
        total = [total[0] + before, total[1] + after]
    assert total[1] < total[0]


@pytest.mark.parametrize("network", NETWORKS)
def test_sao_row(network):
    """SAO at DENSITY with the published uni_skip: Ramanujan bi-regular masks of degree
    DENSITY * max(rows, cols) on every sparse layer (conv masks alike at every tap),
    the dense ones whole, every weight orthogonal."""
    model, sparse = build(network, "uni_skip", "sao")
    densities = eoi_ext.layer_densities(model, DENSITY, "uni_skip")
    assert sparse.densities == densities and set(densities.values()) == {DENSITY, 1.0}
    check_masks_hold(model, sparse, network)
    check_orthogonal(model, NETWORKS[network].gain)
    for name, mask in sparse.masks.items():
        if densities[name] == 1.0:
            assert mask.all(), name
            continue
        taps = mask.reshape(*mask.shape[:2], -1)
        assert torch.equal(taps, taps[..., :1].expand_as(taps)), name
        rows, cols = mask.shape[:2]
        degree = DENSITY * max(rows, cols)
        assert degree == int(degree) >= 2, name  # reachable: SAO built it
        wide = taps[..., 0] if rows <= cols else taps[..., 0].T  # (min, max) orientation
        assert wide.sum(1).eq(degree).all(), f"{name}: row degrees {wide.sum(1).unique()}"
        per_column = min(rows, cols) * degree / max(rows, cols)
        assert wide.sum(0).eq(per_column).all(), f"{name}: column degrees"


# EOI at density 1 leaves VGG-16 out: the pure-PyTorch backend's kernel top-up fills its
# 3x3 kernels a position at a time (72 s on one core, against 0.5 s compiled).
DENSE = [(n, "base") for n in NETWORKS] + [(n, "eoi") for n in NETWORKS if n != "vgg16"]


@pytest.mark.parametrize(("network", "method"), DENSE)
def test_dense_row(network, method):
    """Density 1: base is the published dense orthogonal init (every entry nonzero), EOI
    a full-support orthogonal matrix per layer (conv kernels at the centre tap); nothing
    masked either way, and both isometries."""
    gain = NETWORKS[network].gain
    if method == "base":
        model, masks = dense(network)
    else:
        torch.manual_seed(0)
        model = NETWORKS[network].build()
        sparse = eoi_ext.sparsify(model, 1.0, distribution="uniform", gain=gain,
                                  generator=generator())  # fmt: skip
        assert set(sparse.densities.values()) == {1.0}
        masks = sparse.masks
    assert all(mask.all() for mask in masks.values())
    assert sorted(masks) == sorted(weights(model))
    for name, weight in weights(model).items():
        centre = [(k - 1) // 2 for k in weight.shape[2:]]  # EOI kernels: delta
        matrix = weight if method == "base" else weight[(..., *centre)]
        assert matrix.ne(0).all(), f"{name}: a zero entry in a dense weight"
    check_orthogonal(model, gain)
    with torch.no_grad():
        out = model.eval()(torch.randn(2, *NETWORKS[network].input_shape, generator=generator(3)))
    assert out.isfinite().all() and out.abs().sum() > 0
