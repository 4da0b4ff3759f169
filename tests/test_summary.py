"""SparseModel.summary() and model_density (issue 13, item 6, "Reporting"): per weight
its shape, blocks, target and achieved density and ties, the modules left dense and
why, and the density over the whole model beside the sparse weights'."""

from __future__ import annotations

import warnings

import pytest
from torch import nn

import eoi_ext
from eoi_ext import adapters
from eoi_ext.layers import find_layer_weights


def language_model() -> nn.ModuleDict:
    model = nn.ModuleDict({
        "wte": nn.Embedding(50, 16), "lm_head": nn.Linear(16, 50), "norm": nn.LayerNorm(16),
        "types": nn.Embedding(5, 3), "attn": nn.MultiheadAttention(16, 2),
    })  # fmt: skip
    model["lm_head"].weight = model["wte"].weight
    return model


def test_summary_lists_weights_ties_dense_modules_and_both_densities():
    model = language_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = eoi_ext.sparsify(model, 0.25, distribution="uniform", embeddings=True)
    text = sparse.summary()
    assert str(sparse) == text
    lines = {line.split()[0]: line for line in text.splitlines()}
    assert lines["wte.weight"].split()[1:3] == ["16x50", "1"]  # the map: the table's transpose
    assert lines["wte.weight"].endswith("lm_head.weight")  # the tie
    assert lines["attn.in_proj_weight"].split()[1:3] == ["48x16", "3"]  # q, k, v blocks
    assert "left dense" not in text
    kept = sum(int(mask.sum()) for mask in sparse.masks.values())
    whole = kept / (50 * 16 + 48 * 16 + 16 * 16 + 5 * 3)
    assert sparse.model_density == pytest.approx(whole)
    assert f"whole model {whole:.3f}" in text
    assert f"sparse weights {sparse.density:.3f} dense" in text


def test_dense_by_choice_and_reasons_are_shown(monkeypatch):
    class Standardized(nn.Linear):
        pass

    monkeypatch.setitem(adapters._REGISTERED, Standardized, lambda module: "rewrites its weight")
    model = nn.Sequential(*[nn.Linear(16, 16) for _ in range(4)], Standardized(16, 16))
    with pytest.warns(UserWarning, match="rewrites its weight"):
        sparse = eoi_ext.sparsify(model, 0.8, distribution="uniform_dense_ends")
    text = sparse.summary()
    assert text.splitlines()[1].split()[3:5] == ["1.000", "1.000"]  # the first: dense by choice
    assert "left dense: 4 (Standardized: rewrites its weight)" in text


def test_a_sparsified_model_lists_no_parametrization_as_dense():
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    eoi_ext.sparsify(model, 0.5, distribution="uniform")
    weights, dense = find_layer_weights(model)
    assert [w.name for w in weights] == ["0.weight", "1.weight"] and dense == []
