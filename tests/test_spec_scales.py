"""The specs' smaller scales (eoi_ext/lab/spec_scales.py): the `[cpu]` sweeps of
benchmarks/RESULTS.md expand to the runs they promise, `only` filters runs, and a bad
scale table fails naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from eoi_ext.lab.spec_files import expand, load_spec
from eoi_ext.lab.spec_grid import cell_recipe

SPEC = """
name = "t"
[model]
network = "mlp"
[data]
dataset = "digits"
[recipe]
epochs = 3
[[grid]]
seed = [1, 2]
density = [1.0]
masks = ["dense"]
init = ["orthogonal"]
[[grid]]
seed = [1, 2]
density = [0.1, 0.5]
masks = ["uniform", "erk"]
init = ["base", "eoi"]
"""


def test_singular_values_cpu_is_the_published_grid_on_digits():
    paper, cpu = (expand(load_spec("singular-values"), scale) for scale in ("paper", "cpu"))
    assert len(cpu) == len(paper) * 3 // 5  # 3 seeds of 5
    strip = {(c.density, c.masks, c.init, c.activation, c.depth, c.width) for c in paper}
    assert {(c.density, c.masks, c.init, c.activation, c.depth, c.width) for c in cpu} == strip
    assert {(c.dataset, c.seed) for c in cpu} == {("digits", s) for s in (1, 2, 3)}


def test_deep_mlp_cpu_has_every_method_on_uniform_masks():
    cells = expand(load_spec("deep-mlp"), "cpu")
    methods = {(c.masks, c.init) for c in cells}
    assert methods == {("dense", "orthogonal"), ("uniform", "base"), ("uniform", "ai"),
                       ("uniform", "eoi"), ("uni_skip", "sao")}  # fmt: skip
    assert {(c.depth, c.width, c.seed) for c in cells} == {(1000, 128, s) for s in (1, 2, 3)}
    recipe = dict(cells[0].recipe)
    assert (recipe["optimizer"], recipe["ai_iterations"]) == ("adam", 1000)
    assert cell_recipe(cells[0]).milestones == ()  # a constant learning rate


def test_only_keeps_listed_values_and_grid_replaces(tmp_path: Path):
    path = tmp_path / "t.toml"
    path.write_text(SPEC + '[cpu]\ngrid = { seed = [3] }\nonly = { init = ["orthogonal", "eoi"] }')
    keys = sorted(c.key for c in expand(load_spec(path), "cpu"))
    assert keys == ["dense-orthogonal-d1-relu-s3", "erk-eoi-d0.1-relu-s3",
                    "erk-eoi-d0.5-relu-s3", "uniform-eoi-d0.1-relu-s3",
                    "uniform-eoi-d0.5-relu-s3"]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ("[cpu]\nonly = { mask = ['uniform'] }", r"t\.toml \[cpu\] only: unknown axis mask"),
        ("[cpu]\nonly = { masks = 'uniform' }", r"\[cpu\] only: masks must be a non-empty list"),
        ("[cpu]\nonly = { masks = ['snip'] }", r"t\.toml \[cpu\]: keeps no run of the grid"),
        ("[smoke]\nepochs = 1", r"t\.toml \[smoke\]: unknown keys epochs"),
        ("[smoke]\ngrid = { seeds = [1] }", r"\[smoke\] grid: unknown axis seeds"),
    ],
)
def test_bad_scale_tables_name_the_key(tmp_path: Path, table, match):
    path = tmp_path / "t.toml"
    path.write_text(SPEC + table)
    with pytest.raises(ValueError, match=match):
        load_spec(path)


def test_a_scale_the_spec_lacks_is_named():
    with pytest.raises(ValueError, match=r"spec res32 has no \[cpu\] table \(its scales: paper"):
        expand(load_spec("res32"), "cpu")
