"""The baselines' public builders validate their arguments by name, like every entry point
(eoi_ext.checks); before issue 12 they accepted any shape, density, count, dtype or gain
(a gain of 1e39 gave inf weights)."""

from __future__ import annotations

import pytest
import torch

from eoi_ext import baselines

BUILDERS = [baselines.random_sparse, baselines.orthogonal_base]

BAD_BUILDS = [
    ({"shape": (16,)}, ValueError, "shape must be 2 to 5 positive integers"),
    ({"shape": (16, 0)}, ValueError, "shape must be"),
    ({"shape": "16x16"}, ValueError, "shape must be"),
    ({"density": 0.0}, ValueError, r"density must be in \(0, 1\]"),
    ({"density": "0.5"}, TypeError, "density must be a real number"),
    ({"count": -1}, ValueError, "count must be an integer >= 0"),
    ({"dtype": torch.int32}, TypeError, "dtype must be one of"),
    ({"gain": 1e39}, ValueError, r"gain must be at most .* torch\.float32"),
    ({"gain": 300.0, "dtype": torch.float16}, ValueError, "gain must be at most 255.9"),
    ({"gain": float("nan")}, ValueError, "gain must be a finite real number"),
    ({"generator": 0}, TypeError, "generator must be a torch.Generator"),
]


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("overrides", "error", "message"), BAD_BUILDS)
def test_builders_name_the_bad_argument(builder, overrides, error, message):
    arguments = {"shape": (16, 16), "density": 0.5, **overrides}
    shape, density = arguments.pop("shape"), arguments.pop("density")
    with pytest.raises(error, match=message):
        builder(shape, density, **arguments)


def test_orthogonal_base_groups_must_divide_the_rows():
    with pytest.raises(ValueError, match="groups must divide the weight's first dimension"):
        baselines.orthogonal_base((16, 16), 0.5, groups=3)


@pytest.mark.parametrize("refine", [baselines.approximate_isometry, baselines.svd_isometry])
def test_isometry_refinements_name_the_bad_argument(refine):
    w, m = baselines.random_sparse((8, 8), 0.5)
    for overrides, message in [
        ({"masks": m.float()}, "masks must be a bool tensor of weights' shape"),
        ({"masks": m[:, :4]}, "masks must be a bool tensor"),
        ({"weights": w.long()}, "weights must be a floating-point"),
        ({"groups": 3}, "groups must divide"),
        ({"gain": 1e39}, "gain must be at most"),
    ]:
        arguments = {"weights": w, "masks": m, **overrides}
        with pytest.raises((TypeError, ValueError), match=message):
            refine(arguments.pop("weights"), arguments.pop("masks"), **arguments)
    with pytest.raises(ValueError, match="learning_rate must be a finite real number > 0"):
        baselines.approximate_isometry(w, m, learning_rate=0.0)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        baselines.approximate_isometry(w, m, steps=-1)
    with pytest.raises(ValueError, match="iterations must be an integer >= 0"):
        baselines.svd_isometry(w, m, iterations=-1)
