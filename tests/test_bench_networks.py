"""`eoi bench`'s networks (eoi_ext/lab/bench/network_kinds.py): each kind's row name and
model, the SAO cell skipped exactly where sparsify cannot build SAO, and both modes
timing the paper's networks at its settings. The rows themselves: tests/test_bench.py."""

from __future__ import annotations

import re

import pytest
import torch

import eoi_ext
from eoi_ext.lab import bench
from eoi_ext.lab.bench.baseline_cells import sao_unreachable
from eoi_ext.lab.bench.network_kinds import build_network

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("kind", "depth", "width", "density"),
    [("mlp", 4, 16, 0.125), ("mlp", 4, 16, 0.1), ("cnn", 6, 8, 0.125), ("cnn", 6, 16, 0.125)],
)
def test_sao_skips_where_sparsify_fails(kind, depth, width, density):
    """The SAO cell is skipped exactly where sparsify(method="sao") raises, naming a layer
    sparsify names too."""
    cell = bench.prepare("sao", bench.NetworkWorkload(kind, depth, width, density, "uni_skip"), CPU)
    model = build_network(kind, depth, width)
    if cell.skipped is None:
        eoi_ext.sparsify(model, density, distribution="uni_skip", method="sao")
        return
    with pytest.raises(ValueError, match="not reachable by SAO") as error:
        eoi_ext.sparsify(model, density, distribution="uni_skip", method="sao")
    assert cell.skipped.split(" ")[0] in str(error.value)


@pytest.mark.parametrize(
    ("kind", "depth", "width", "name", "weights"),
    [
        ("mlp", 4, 8, "mlp 4x8", 4),
        ("cnn", 8, 4, "cnn 8x4 (cifar_conv)", 6),  # published depth: 5 convs + readout
        ("resnet", 8, 4, "resnet-8 (width 4)", 10),  # 7 convs, 2 shortcuts, readout
        ("vgg", 16, 64, "vgg-16 (config C)", 16),
        ("vgg", 11, 64, "vgg is vgg-16 (config C) (depth, width (16, 64))", None),
        ("rnn", 2, 8, "network kind must be one of mlp, cnn, resnet, vgg", None),
    ],
)
def test_network_kinds(kind, depth, width, name, weights):
    """Each kind's row name says which model it times; the cnn is the paper's cifar_conv."""
    if weights is None:
        with pytest.raises(ValueError, match=re.escape(name)):
            build_network(kind, depth, width)
        return
    assert bench.NetworkWorkload(kind, depth, width, 0.1, "uni_skip").name == name
    model = build_network(kind, depth, width)
    layers = eoi_ext.layers.find_layer_weights(model)[0]
    assert len(layers) == weights
    if kind == "cnn":
        assert layers[0].module.padding_mode == "circular"


def test_modes_time_the_papers_networks():
    """Both modes time the paper's networks for every baseline at its settings (0.125,
    uni_skip: inner layers at degree 16 of 128, which SAO reaches); quick runs fewer ai
    iterations and a shallower CNN."""
    full, quick = bench.BenchConfig.full(), bench.BenchConfig.quick()
    names = [
        "mlp 1000x128", "cnn 1000x128 (cifar_conv)", "resnet-32 (width 16)", "vgg-16 (config C)"
    ]  # fmt: skip
    networks = [w for w in full.workloads() if isinstance(w, bench.NetworkWorkload)]
    assert [w.name for w in networks] == names
    assert [kind for kind, *_ in quick.networks] == ["mlp", "cnn", "resnet", "vgg"]
    assert quick.ai_iterations < full.ai_iterations <= eoi_ext.baselines.PUBLISHED_AI_ITERATIONS
    for config in (full, quick):
        assert (config.network_density, config.network_distribution) == (0.125, "uni_skip")
    for kind, depth, width in full.networks:  # the MLP's and CNN's layers, at 8 deep
        model = build_network(kind, min(depth, 8) if kind in ("mlp", "cnn") else depth, width)
        assert sao_unreachable(model, 0.125, "uni_skip") is None, kind
