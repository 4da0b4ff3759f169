"""sao (issue 14): SAO of Esguerra et al. 2023 as sao/ramanujan_constructions.py and
sao/delta.py of the published EOI code build it, checked against a plain transcription
of those loops (random.choice fed from the same permutation, orth of the same uniform
matrices, a generator for the draws, float64) and checked orthogonal and bi-regular."""

from __future__ import annotations

import itertools

import pytest
import torch
from scipy.linalg import orth

import eoi_ext
from eoi_ext.baselines import sao, sao_degree
from eoi_ext.metrics import conv_orthogonality_error


def published_block_construct(columns: int, degree: int, choose) -> torch.Tensor:
    """Ramanujan_Constructions._block_construct; `choose` stands in for random.choice."""
    block_rows = int(columns / degree)
    block = torch.zeros(block_rows, columns)
    cols = list(range(columns))
    for _ in range(2):
        for i in range(block.shape[0]):
            index = choose(cols)
            while torch.sum(block[:, index]) == 1:
                index = choose(cols)
            block[i, index] = 1
    for i, j in itertools.product(range(block_rows), range(columns)):
        if block[i, j] != 1 and torch.sum(block[i]) < degree and torch.sum(block[:, j]) != 1:
            block[i, j] = 1
    assert torch.equal(torch.sum(block, 0), torch.ones(columns))  # attained at once
    return block


def published_assign_values(mask: torch.Tensor, orthogonals) -> torch.Tensor:
    """Ramanujan_Constructions._assign_values; `orthogonals(b)` stands in for
    _val_generator, keyed by the group's block row b (the draws are i.i.d.)."""
    c = int(torch.sum(mask, 0)[0])
    d = int(torch.sum(mask, 1)[0])
    degree = c if c > d else d
    sao_matrix = torch.zeros(mask.shape, dtype=torch.float64)
    num_ortho = int(degree * mask.shape[0] / mask.shape[1])
    _, inv, counts = torch.unique(mask, dim=0, return_inverse=True, return_counts=True)
    row_index = [
        tuple(torch.where(inv == i)[0].tolist()) for i in range(len(counts)) if counts[i] > 1
    ]
    to_iterate = inv.reshape(inv.shape[0], 1) if num_ortho == 1 else row_index
    for i in to_iterate:
        indices = torch.as_tensor(i)
        identical_row = mask[indices].double()
        vals = orthogonals(int(indices[0]))
        for j in range(identical_row.shape[0]):
            nonzeros = torch.nonzero(identical_row[j])
            identical_row[j, nonzeros] = vals[j].reshape(vals.shape[1], 1)
        sao_matrix[indices] = identical_row
    return sao_matrix


def published_sao(out_: int, in_: int, degree: int, relu: bool, g: torch.Generator):
    """Ramanujan_Constructions(...)(): the (weights, mask) of one (out_, in_) matrix."""
    rows, columns = min(out_, in_), max(out_, in_)
    if relu and in_ != 3:
        rows, columns, degree = rows // 2, columns // 2, degree // 2
    choices = iter(torch.randperm(columns, generator=g).tolist())
    block = published_block_construct(columns, degree, lambda cols: next(choices))
    mask = torch.zeros(rows, columns)
    block_rows = int(columns / degree)
    for i in range(int(rows * degree / columns)):
        mask[block_rows * i : block_rows * i + block_rows] = block
    draws = torch.rand(block_rows, degree, degree, generator=g, dtype=torch.float64)
    weights = published_assign_values(mask, lambda b: torch.from_numpy(orth(draws[b].numpy())))
    if relu:
        concat = lambda m: torch.cat([torch.cat([m, -m], 0), torch.cat([-m, m], 0)], 1)  # noqa: E731
        weights, mask = concat(weights), concat(mask)
    return (weights.T, mask.T.abs()) if out_ > in_ else (weights, mask.abs())


CASES = [  # shape, degree, relu: the deep runs' 128-wide d = 16, rectangular, edges
    ((128, 128), 16, False),
    ((64, 128), 16, False),
    ((128, 64), 16, False),
    ((128, 128, 3, 3), 16, False),
    ((128, 128), 16, True),
    ((64, 128, 3, 3), 8, True),
    ((12, 18), 6, False),
    ((16, 16), 2, False),
    ((16, 16), 16, False),
    ((8, 32), 4, False),
]


@pytest.mark.parametrize(("shape", "degree", "relu"), CASES)
def test_equals_the_published_construction(shape, degree, relu):
    density = degree / max(shape[:2])
    assert sao_degree(shape, density, relu=relu) == degree
    weights, masks = sao(
        shape, density, gain=1.5, count=2, relu=relu, dtype=torch.float64,
        generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    g = torch.Generator().manual_seed(7)
    for weight, mask in zip(weights, masks, strict=True):
        expected, expected_mask = published_sao(shape[0], shape[1], degree, relu, g)
        if len(shape) == 4:  # Delta_Module._sao_delta: values at [1, 1], mask at every tap
            assert torch.equal(mask, expected_mask.bool()[:, :, None, None].expand(shape))
            assert weight[:, :, 1, 1].abs().gt(0).sum() == weight.ne(0).sum()
            weight, mask = weight[:, :, 1, 1], mask[:, :, 1, 1]
        assert torch.equal(mask, expected_mask.bool())
        torch.testing.assert_close(weight, expected * 1.5, rtol=0, atol=1e-12)
        m, n = min(shape[:2]), max(shape[:2])
        by_row, by_col = (
            (mask.sum(1), mask.sum(0)) if shape[0] <= shape[1] else (mask.sum(0), mask.sum(1))
        )
        assert by_row.eq(degree).all() and by_col.eq(m * degree // n).all()  # bi-regular
        assert torch.equal(mask.sum(0), expected_mask.sum(0).long())
        assert torch.equal(mask.sum(1), expected_mask.sum(1).long())
    assert not torch.equal(weights[0], weights[1])  # count draws each weight anew
    assert torch.equal(masks[0], masks[1]) == (degree == max(shape[:2]))  # dense: one mask


@pytest.mark.parametrize(
    ("shape", "density", "gain"),
    [((128, 128), 0.125, 1.0), ((32, 32), 0.25, 2.0), ((64, 128), 0.125, 1.0),
     ((128, 64), 0.5, 0.5), ((24, 24, 3, 3), 0.5, 1.0), ((16, 32, 3, 3), 0.25, 1.3),
     ((16, 16, 5), 0.125, 1.0)],
)  # fmt: skip
def test_orthogonal_zero_outside_and_exact_density(shape, density, gain):
    weights, masks = sao(
        shape, density, gain=gain, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    weight, mask = weights[0], masks[0]
    assert mask.dtype == torch.bool and weight[~mask].eq(0).all()
    degree = sao_degree(shape, density)
    assert degree == density * max(shape[:2])
    assert mask.sum().item() * max(shape[:2]) == degree * mask.numel()  # d / max exactly
    kernel = shape[2:]
    if kernel:  # a delta kernel: one nonzero tap, the mask of each (out, in) at every tap
        centre = tuple((k - 1) // 2 for k in kernel)
        assert weight.ne(0).flatten(0, 1).any(0).nonzero().tolist() == [list(centre)]
        assert torch.equal(
            mask, mask[(..., *centre)].view(*shape[:2], *[1] * len(kernel)).expand(shape)
        )
        assert conv_orthogonality_error(weight, gain) < 1e-12
        weight = weight[(..., *centre)]
    small = weight @ weight.T if shape[0] <= shape[1] else weight.T @ weight
    eye = torch.eye(min(shape[:2]), dtype=torch.float64)
    assert (small - gain**2 * eye).abs().max() < 1e-12
    if shape[0] == shape[1]:
        assert (weight.T @ weight - gain**2 * eye).abs().max() < 1e-12


def test_relu_is_the_mirrored_half():
    weight, mask = sao(
        (64, 64), 0.25, relu=True, dtype=torch.float64, generator=torch.Generator().manual_seed(2)
    )
    half = weight[0, :32, :32]
    signs = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    assert torch.equal(weight[0], torch.kron(signs, half))
    assert torch.equal(mask[0], mask[0, :32, :32].repeat(2, 2))
    assert (half @ half.T - torch.eye(32, dtype=torch.float64)).abs().max() < 1e-12
    assert mask[0, :32, :32].sum(1).eq(8).all() and mask[0].sum(1).eq(16).all()
    singular = torch.linalg.svdvals(weight[0])
    torch.testing.assert_close(singular, torch.tensor([2.0] * 32 + [0.0] * 32, dtype=torch.float64))


@pytest.mark.parametrize(
    ("shape", "density", "relu", "nearest"),
    [((128, 128), 0.1, False, "0.0625, 0.125"), ((128, 128), 1 / 128, False, "0.015625"),
     ((64, 128), 0.2, False, "0.125, 0.25"), ((12, 18), 0.25, False, "0.166667, 0.333333"),
     ((128, 128), 1 / 64, True, "0.03125"), ((128, 128), 0.09375, True, "0.0625, 0.125"),
     ((6, 10), 0.4, True, "1"), ((2, 2), 1.0, True, "none"),
     ((128, 128), 0.130, False, "0.125, 0.25"), ((12, 18), 1 / 9, False, "0.166667"),
     ((8, 32), 1 / 16, False, "0.125")],  # the last two: n / d does not divide m
)  # fmt: skip
def test_unreachable_density_names_density_and_neighbours(shape, density, relu, nearest):
    with pytest.raises(ValueError, match=rf"^density .*nearest reachable: {nearest}$"):
        sao(shape, density, relu=relu)
    with pytest.raises(ValueError, match="density"):
        sao_degree(shape, density, relu=relu)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"shape": (128,)}, ValueError, "shape"), ({"shape": (8, 8.0)}, ValueError, "shape"),
     ({"shape": (8, 0)}, ValueError, "shape"), ({"density": 0.0}, ValueError, "density"),
     ({"density": 1.5}, ValueError, "density"), ({"groups": 3}, ValueError, "groups"),
     ({"relu": 1}, TypeError, "relu"), ({"dtype": torch.int64}, TypeError, "dtype"),
     ({"count": -1}, ValueError, "count"), ({"generator": 3}, TypeError, "generator")],
)  # fmt: skip
def test_bad_arguments_raise(kwargs, error, match):
    arguments = {"shape": (8, 8), "density": 0.5, **kwargs}
    with pytest.raises(error, match=match):
        sao(arguments.pop("shape"), arguments.pop("density"), **arguments)


def test_generator_reproducible_and_dtype_device():
    first = sao((32, 16, 3, 3), 0.25, count=3, generator=torch.Generator().manual_seed(5))
    again = sao((32, 16, 3, 3), 0.25, count=3, generator=torch.Generator().manual_seed(5))
    other = sao((32, 16, 3, 3), 0.25, count=3, generator=torch.Generator().manual_seed(6))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], other[1])
    assert first[0].shape == first[1].shape == (3, 32, 16, 3, 3)
    assert first[0].dtype == torch.float32 and first[0].device.type == "cpu"
    half, mask = sao((16, 16), 0.5, dtype=torch.float16, generator=torch.Generator().manual_seed(5))
    full, _ = sao((16, 16), 0.5, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert half.dtype == torch.float16 and mask.dtype == torch.bool
    assert torch.equal(half, full.half())  # computed in float64, rounded once
    empty = sao((8, 8), 0.5, count=0)
    assert empty[0].shape == empty[1].shape == (0, 8, 8)


def test_groups_are_each_their_own_sao_block():
    shape, groups = (3 * 32, 64), 3  # e.g. q/k/v of a 64-wide model, 32 rows each
    assert sao_degree(shape, 0.125, groups=groups) == 8  # d / max(32, 64), per block
    assert sao_degree(shape, 0.125) == 12  # d / max(96, 64): the whole matrix's degree
    weights, masks = sao(
        shape, 0.125, groups=groups, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
    )
    g = torch.Generator().manual_seed(3)
    for block in range(groups):
        rows = slice(32 * block, 32 * (block + 1))
        expected, expected_mask = published_sao(32, 64, 8, False, g)
        assert torch.equal(masks[0, rows], expected_mask.bool())
        torch.testing.assert_close(weights[0, rows], expected, rtol=0, atol=1e-12)
    assert not torch.equal(masks[0, :32], masks[0, 32:64])  # each block drawn anew


def test_sparsify_sao_is_the_published_deep_cnn_setting():
    """specs/1000-layer-networks/deep-conv.py's SAO row: degree 16 at width 128; the stem
    dense (uni_skip), every other conv a bi-regular delta kernel, orthogonal."""
    model = eoi_ext.models.cifar_conv(5, 128)
    sparse = eoi_ext.sparsify(model, 16 / 128, distribution="uni_skip", method="sao")
    convs = [(n, p.detach()) for n, p in model.named_parameters() if p.dim() == 4]
    assert sparse.densities[convs[0][0]] == 1.0
    for name, weight in convs:
        assert eoi_ext.metrics.conv_orthogonality_error(weight) < 1e-6, name
    for name, _ in convs[1:]:
        taps = sparse.masks[name][:, :, 0, 0]
        assert taps.sum(0).eq(16).all() and taps.sum(1).eq(16).all(), name


def test_sparsify_sao_names_the_layer_whose_density_is_unreachable():
    model = eoi_ext.models.deep_mlp(3, 100, in_features=64)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"^1\.weight: density 0\.1 is not reachable by SAO"):
        eoi_ext.sparsify(model, 0.1, distribution="uniform", method="sao")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
