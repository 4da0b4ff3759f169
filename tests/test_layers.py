"""Every layer type (docs/algorithm.md, "Convolutions" and "Recurrent and attention
layers"): conv kernels are orthogonal maps, RNN gates and attention q/k/v blocks are
orthogonal matrices, masks follow the conv modes, and a batch of same-shape weights
equals consecutive single calls."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_orthogonal, assert_zero_outside_mask
from torch import nn
from torch.nn import functional as F

from eoi_ext.build import build
from eoi_ext.conv import centre as conv_centre
from eoi_ext.init import sparse_orthogonal_
from eoi_ext.layers import find_layer_weights
from eoi_ext.metrics import conv_orthogonality_error
from eoi_ext.spec import WeightSpec

CONV_SHAPES = [
    (16, 8, 3),  # Conv1d, expanding
    (8, 16, 5),  # Conv1d, contracting
    (12, 12, 3, 3),  # Conv2d
    (6, 4, 2, 4),  # even kernel sizes: centre (k - 1) // 2
    (8, 4, 3, 3, 3),  # Conv3d
]


def circular_conv(weight: torch.Tensor, x: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """The convolution as a linear map on periodic signals (circular padding, stride 1)."""
    kernel = weight.shape[2:]
    pad = []
    for k in reversed(kernel):
        pad += [(k - 1) // 2, k - 1 - (k - 1) // 2]
    x = F.pad(x, pad, mode="circular")
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(kernel)]
    return conv(x, weight, groups=groups)


@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
@pytest.mark.parametrize("conv_mode", ["delta", "delta_more", "structured"])
def test_conv_kernel_is_orthogonal_map(shape, conv_mode, make_generator):
    weight = torch.empty(shape, dtype=torch.float64)
    mask = sparse_orthogonal_(
        weight, 0.3, gain=1.5, conv_mode=conv_mode, generator=make_generator(1)
    )
    assert_zero_outside_mask(weight, mask)
    assert conv_orthogonality_error(weight, gain=1.5) < 1e-12
    # Independently: the circular convolution preserves norms (or its adjoint does).
    c_out, c_in = shape[:2]
    spatial = tuple(max(6, k + 2) for k in shape[2:])
    x = torch.randn(3, c_in, *spatial, dtype=torch.float64, generator=make_generator(2))
    y = circular_conv(weight, x)
    if c_out >= c_in:
        assert torch.allclose(y.flatten(1).norm(dim=1), 1.5 * x.flatten(1).norm(dim=1))
    else:
        adjoint = torch.randn(3, c_out, *spatial, dtype=torch.float64, generator=make_generator(3))
        back = torch.autograd.functional.vjp(lambda inp: circular_conv(weight, inp), x, adjoint)[1]
        assert torch.allclose(back.flatten(1).norm(dim=1), 1.5 * adjoint.flatten(1).norm(dim=1))
    # All values sit at the centre tap.
    centre = (slice(None), slice(None), *conv_centre(shape[2:]))
    off_centre = weight.clone()
    off_centre[centre] = 0
    assert not off_centre.any()


@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv_mask_modes(shape, make_generator):
    density = 0.3
    numel = math.prod(shape)
    kernel = shape[2:]
    centre = (slice(None), slice(None), *conv_centre(kernel))
    c_in = shape[1]

    weight = torch.empty(shape)
    delta = sparse_orthogonal_(weight, density, generator=make_generator(4))
    assert int(delta.sum()) == round(density * numel)
    # The centre keeps H's support; the top-up (anywhere in the kernel, centre included)
    # adds zero-valued, trainable entries.
    assert bool(((weight[centre] != 0) <= delta[centre]).all())
    assert int(delta.sum()) > int((weight != 0).sum()) or math.prod(kernel) == 1

    more = sparse_orthogonal_(weight, density, conv_mode="delta_more", generator=make_generator(4))
    assert int(more.sum()) == round(density * numel)
    target_h = min(density * math.prod(kernel), 1.0, math.sqrt(density))
    assert int(more[centre].sum()) >= int(delta[centre].sum())
    assert abs(float(more[centre].float().mean()) - target_h) <= 2 / c_in + 1e-9

    structured = sparse_orthogonal_(
        weight, density, conv_mode="structured", generator=make_generator(4)
    )
    h_mask = structured[centre]
    for position in structured.flatten(2).unbind(2):
        assert torch.equal(position, h_mask)
    assert bool(((weight[centre] != 0) <= h_mask).all())
    assert abs(float(structured.float().mean()) - density) <= 2 / c_in


def test_grouped_conv_blocks(make_generator):
    conv = nn.Conv2d(8, 12, 3, groups=4)
    mask = sparse_orthogonal_(conv.weight, 0.4, groups=4, generator=make_generator(5))
    assert conv_orthogonality_error(conv.weight, groups=4) < 1e-5
    assert_zero_outside_mask(conv.weight, mask)
    centre = conv.weight.detach()[:, :, 1, 1]
    for block in centre.view(4, 3, 2):
        assert_orthogonal(block)
    # As one matrix the blocks are not orthogonal: groups matter.
    assert conv_orthogonality_error(conv.weight, groups=1) > 1e-2


@pytest.mark.parametrize(
    ("module", "attr", "gates"),
    [
        (nn.LSTM(12, 16), "weight_hh_l0", 4),
        (nn.LSTM(12, 16), "weight_ih_l0", 4),
        (nn.GRU(20, 8), "weight_ih_l0", 3),
        (nn.RNN(10, 10), "weight_hh_l0", 1),
        (nn.MultiheadAttention(16, 4), "in_proj_weight", 3),
    ],
    ids=["lstm-hh", "lstm-ih", "gru-ih", "rnn-hh", "mha-in-proj"],
)
def test_gate_and_qkv_blocks_are_orthogonal(module, attr, gates, make_generator):
    weight = getattr(module, attr)
    layer = next(w for w in find_layer_weights(module)[0] if w.attr == attr)
    assert layer.groups == gates
    mask = sparse_orthogonal_(weight, 0.3, groups=gates, generator=make_generator(6))
    assert_zero_outside_mask(weight, mask)
    for block in weight.detach().chunk(gates):
        assert_orthogonal(block)


@pytest.mark.parametrize(
    ("shape", "groups", "conv_mode"),
    [((24, 40), 1, "delta"), ((24, 10), 3, "delta"), ((8, 4, 3, 3), 2, "delta"),
     ((8, 4, 3), 1, "delta_more"), ((6, 6, 3, 3), 1, "structured")],
)  # fmt: skip
def test_batch_equals_consecutive_calls(shape, groups, conv_mode, make_generator):
    spec = WeightSpec(shape, 0.3, groups=groups, conv_mode=conv_mode, gain=1.2)
    weights, masks = build(spec, count=3, generator=make_generator(7))
    assert weights.shape == (3, *shape) and masks.shape == (3, *shape)
    g = make_generator(7)
    for b in range(3):
        w, m = build(spec, generator=g)
        assert torch.equal(w[0], weights[b]) and torch.equal(m[0], masks[b])
    # In place, as init.sparse_orthogonal_ does: the same weights, no temporary.
    out = torch.empty(1, *shape)
    w, m = build(spec, generator=make_generator(7), out=out)
    assert w is out and torch.equal(out[0], weights[0]) and torch.equal(m[0], masks[0])


def test_find_layer_weights_reports_unsupported():
    model = nn.Sequential(
        nn.Embedding(10, 4), nn.Linear(4, 8), nn.LayerNorm(8), nn.Bilinear(8, 8, 2)
    )
    weights, unsupported = find_layer_weights(model)
    assert [w.name for w in weights] == ["1.weight"]
    assert unsupported == ["0 (Embedding: dense by choice, an embedding)", "3 (Bilinear)"]
    assert [entry.by_choice for entry in unsupported] == [True, False]
    weights, unsupported = find_layer_weights(model, embeddings=True)
    table = weights[0]
    assert (table.name, table.kind, table.shape) == ("0.weight", "embedding", (4, 10))
    attention = nn.MultiheadAttention(8, 2, kdim=4, vdim=6)
    names = [w.name for w in find_layer_weights(attention)[0]]
    assert names == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]


def test_tokens_position_tables_and_layer_scales_are_not_reported():
    """Parameters of container modules that are not layer weights (a ViT's class token
    and position table, a ConvNeXt layer scale) are not "left dense" (issue 13, item 6)."""

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
            self.pos_embed = nn.Parameter(torch.zeros(1, 5, 8))
            self.layer_scale = nn.Parameter(torch.ones(8, 1, 1))
            self.table = nn.Parameter(torch.zeros(9, 2))  # a matrix: still reported
            self.proj = nn.Linear(8, 8)

    weights, unsupported = find_layer_weights(Block())
    assert [w.name for w in weights] == ["proj.weight"]
    assert unsupported == ["<model> (Block)"]
    block = Block()
    del block.table
    assert find_layer_weights(block)[1] == []
