"""The experiment specs (eoi_ext/lab/specs/*.toml, eoi_ext/lab/spec_files.py) against
the published params_grid of each, transcribed here: the same runs (masks x init x
density x activation x seed) and the published recipe values; the smoke scale is small;
bad specs fail naming the key; slices split a grid."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from eoi_ext.lab.spec_files import expand, load_spec, spec_names
from eoi_ext.lab.spec_grid import parse_slice, take_slice

# sparselearning/funcs.py's sparse_init names as (masks, init) (eoi_ext/lab/spec_grid.py).
SOURCES = {"uniform": "uniform", "erk": "erk", "snip_direct": "snip", "grasp_direct": "grasp",
           "synflow_direct": "synflow", "uni_skip": "uni_skip"}  # fmt: skip
SUFFIX = {"": "base", "_AI": "ai", "_EI": "eoi"}
ACT = {"relu": "relu", "tanh": "tanh", "lrelu": "leaky_relu", "selu": "selu",
       "linear": "linear", "hard_tanh": "hardtanh"}  # fmt: skip
SEEDS = [1, 2, 3, 4, 5]
SV_DENSITIES = [0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
FIVE = ["synflow_direct", "uniform", "erk", "snip_direct", "grasp_direct"]
FOUR_ACT = ["relu", "tanh", "lrelu", "selu"]


def published_init(name: str) -> tuple[str, str]:
    if name == "SAO":
        return "uni_skip", "sao"
    if name.endswith("_EIS"):
        return f"{SOURCES[name[:-4]]}_eis", "eoi"
    for suffix in ("_AI", "_EI"):
        if name.endswith(suffix):
            return SOURCES[name[: -len(suffix)]], SUFFIX[suffix]
    return SOURCES[name], "base"


def sparse(densities, names, activations):
    return [(d, *published_init(n), ACT[a]) for d in densities for n in names for a in activations]


def dense(init_types, activations):
    return [(1.0, "dense", t, ACT[a]) for t in init_types for a in activations]


BOTH = [n + s for n in FIVE for s in ("", "_AI", "_EI")]
CONTEMPORARY = [*sparse([0.05, 0.1], BOTH, ["relu"])]
# Each spec's params_grid blocks, transcribed from the published specs/ files.
PUBLISHED = {
    "singular-values": sparse(SV_DENSITIES, BOTH, ["linear", "tanh", "hard_tanh", "relu"]),
    "loss-curves": dense(["orthogonal", "default"], ["linear", "tanh", "relu", "hard_tanh"])
    + sparse([0.05, 0.1], BOTH, ["linear", "tanh", "relu", "hard_tanh"]),
    "deep-mlp": dense(["orthogonal"], ["tanh"]) + sparse([0.125], [*BOTH, "SAO"], ["tanh"]),
    "deep-conv": dense(["delta_orthogonal"], ["tanh"])
    + sparse([0.125], [*BOTH, "uni_skip_EI", "uni_skip_EIS", "erk_EIS", "SAO"], ["tanh"]),
    "res32": dense(["conv_orthogonal", "default"], FOUR_ACT)
    + CONTEMPORARY
    + sparse([0.1], BOTH, ["tanh", "lrelu", "selu"]),
    "res56": dense(["conv_orthogonal", "default"], ["relu"]) + CONTEMPORARY,
    "res110": dense(["conv_orthogonal", "default"], ["relu"]) + CONTEMPORARY,
    "vgg16": dense(["conv_orthogonal", "default"], FOUR_ACT)  # and "vgg", not built
    + CONTEMPORARY
    + sparse([0.1], BOTH, ["tanh", "lrelu", "selu"]),
    "efficientnet": dense(["conv_orthogonal", "default"], ["relu"])
    + sparse([0.1], [n + s for n in FIVE[1:] for s in ("", "_AI", "_EI")], ["relu"])
    + sparse([0.1], ["synflow_direct", "synflow_direct_AI", "synflow_direct_EI"], ["relu"]),
}
# (epochs, lr, l2, sigma_w, sigma_b) of each published base_config (and grid overrides).
RECIPES = {
    "singular-values": (100, 0.01, 1e-4, 1.0, 0.0),
    "loss-curves": (100, 0.01, 1e-4, 1.0, 0.0),
    "deep-mlp": (100, 1e-4, 1e-4, 1.0247, 0.00448),
    "deep-conv": (100, 1e-4, 1e-4, 1.0247, 0.00448),
    "res32": (200, 0.1, 1e-4, 1.0, 0.0),
    "res56": (200, 0.1, 1e-4, 1.0, 0.0),
    "res110": (200, 0.1, 1e-4, 1.0, 0.0),
    "vgg16": (200, 0.1, 1e-4, 1.0, 0.0),
    "efficientnet": (120, 0.01, 1e-3, 1.0, 0.0),
}


def test_every_published_spec_ships():
    assert spec_names() == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_runs_are_the_published_grid(name):
    cells = expand(load_spec(name), "paper")
    got = sorted((c.density, c.masks, c.init, c.activation, c.seed) for c in cells)
    want = sorted((*run, seed) for run, seed in itertools.product(PUBLISHED[name], SEEDS))
    assert got == want
    epochs, lr, l2, gain, bias_std = RECIPES[name]
    recipe = dict(cells[0].recipe)
    assert (recipe["epochs"], recipe["learning_rate"], recipe["weight_decay"]) == (epochs, lr, l2)
    assert {(c.gain, c.bias_std) for c in cells} == {(gain, bias_std)}
    assert len({c.key for c in cells}) == len(cells)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_smoke_scale_is_small(name):
    cells = expand(load_spec(name), "smoke")
    assert 0 < len(cells) <= 70
    assert {c.dataset for c in cells} <= {"digits", "synthetic"}
    assert all(dict(c.recipe)["epochs"] == 1 and c.seed == 1 for c in cells)
    assert all(c.density == 1.0 for c in cells if c.masks == "dense")


def test_the_published_network_settings():
    res, conv = expand(load_spec("res110"), "paper")[0], expand(load_spec("deep-conv"))[0]
    assert (res.network, res.depth, res.conv_mode) == ("cifar_resnet", 110, "delta_more")
    settings = (conv.network, conv.depth, conv.width, conv.conv_mode)
    assert settings == ("cifar_conv", 1000, 128, None)  # cifar_conv's delta; EIS structured
    synflow = [c for c in expand(load_spec("efficientnet")) if c.masks == "synflow"]
    assert synflow and all(dict(c.options) == {"double_precision": True} for c in synflow)


GRID = """[[grid]]
seed = [1]
density = [0.5]
masks = ["uniform"]
init = ["eoi"]
"""
GOOD = """
name = "t"
[model]
network = "mlp"
[data]
dataset = "digits"
[recipe]
epochs = 1
[[grid]]
seed = [1]
density = [0.5]
masks = ["uniform"]
init = ["eoi"]
"""


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (("[recipe]", "[recipe]\nepoch = 3"), r"t\.toml \[recipe\]: unknown keys epoch"),
        (('network = "mlp"', 'network = "resnet"'), "network must be one of"),
        (('masks = ["uniform"]', 'masks = ["dense"]'), "a dense run's init must be one of"),
        (('init = ["eoi"]', 'init = ["magic"]'), "a sparse run's init must be one of"),
        (("density = [0.5]", "density = [1.5]"), r"density must be in \(0, 1\]"),
        (("seed = [1]", "seed = []"), "seed must be a non-empty list"),
        (("[[grid]]", "[[grid]]\nlr = 3"), "grid block 1: unknown keys lr"),
        (("epochs = 1", "epochs = 0"), r"t\.toml \[paper\] recipe: Recipe\.epochs must be an int"),
        (("epochs = 1", "epochs = 1\nmilestones = [0.9, 0.5]"), r"milestones must be a sorted"),
        (("[recipe]", f"{GRID}[recipe]"), "block 2: run uniform-eoi-d0.5-relu-s1 is in an earlier"),
    ],
)
def test_bad_specs_name_the_key(tmp_path: Path, change, match):
    path = tmp_path / "t.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ValueError, match=match):
        load_spec(path)


def test_good_spec_and_missing_spec(tmp_path: Path):
    path = tmp_path / "t.toml"
    path.write_text(GOOD)
    assert [c.key for c in expand(load_spec(path))] == ["uniform-eoi-d0.5-relu-s1"]
    with pytest.raises(FileNotFoundError, match="one of deep-conv"):
        load_spec("no-such-spec")


@pytest.mark.parametrize("n", [1, 3, 7])
def test_slices_are_disjoint_and_cover(n):
    cells = expand(load_spec("res32"))
    slices = [take_slice(cells, k, n) for k in range(1, n + 1)]
    assert sorted(c.key for s in slices for c in s) == sorted(c.key for c in cells)
    assert max(len(s) for s in slices) - min(len(s) for s in slices) <= 1


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "3", "1/2/3"])
def test_bad_slices(text):
    with pytest.raises(ValueError, match="only must be k/N"):
        parse_slice(text)
