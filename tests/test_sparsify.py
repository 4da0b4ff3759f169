"""eoi_ext.sparsify: fixed masks through training, state_dict, torch.compile, removal,
batching, every method and layer type, and errors that leave the model unchanged."""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from conftest import assert_orthogonal
from torch import nn
from torch.nn.utils import parametrize

import eoi_ext
from eoi_ext import sparsify
from eoi_ext.init import sparse_orthogonal_
from eoi_ext.methods import METHODS
from eoi_ext.metrics import orthogonality_errors
from eoi_ext.models import deep_mlp
from eoi_ext.sparse_model import MASKINGS, FixedMask


def mlp(depth: int = 4, width: int = 24) -> nn.Sequential:
    return deep_mlp(depth, width, "tanh", in_features=16, out_features=5)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def effective(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weights the forward pass uses, by parameter name (masked under sparsify)."""
    layers = eoi_ext.layers.find_layer_weights(model)[0]
    return {w.name: getattr(w.module, w.attr).detach().clone() for w in layers}


@pytest.mark.parametrize("masking", MASKINGS)
def test_masks_and_orthogonality(masking):
    model = mlp()
    sparse = sparsify(
        model, 0.3, distribution="uniform", gain=1.3, masking=masking, generator=generator()
    )
    assert list(sparse.masks) == ["1.weight", "3.weight", "5.weight", "7.weight"]
    for name, weight in effective(model).items():
        mask = sparse.masks[name]
        assert mask.dtype == torch.bool and mask.shape == weight.shape
        assert not weight[~mask].any()
        assert_orthogonal(weight, gain=1.3)
        module = model.get_submodule(name.rsplit(".", 1)[0])
        assert parametrize.is_parametrized(module, "weight") == (masking == "parametrize")
        assert hasattr(module, "weight_eoi_mask") == (masking == "hooks")
    assert sparse.density == pytest.approx(
        sum(int(m.sum()) for m in sparse.masks.values())
        / sum(m.numel() for m in sparse.masks.values())
    )


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    ],
    ids=["sgd-momentum-wd", "adamw", "adam-l2"],
)
@pytest.mark.parametrize("masking", MASKINGS)
def test_masks_stay_fixed_during_training(make_optimizer, masking):
    model = mlp()
    sparse = sparsify(model, 0.25, distribution="uniform", masking=masking, generator=generator())
    masks = {name: mask.clone() for name, mask in sparse.masks.items()}
    before = effective(model)
    optimizer = make_optimizer(model.parameters())
    x, y = torch.randn(32, 16), torch.randint(0, 5, (32,))
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    after = effective(model)
    for name, mask in masks.items():
        assert torch.equal(sparse.masks[name], mask), "a mask changed"
        assert not after[name][~mask].any(), "a weight outside its mask became nonzero"
        assert not torch.equal(after[name], before[name]), "the weights did not train"


@pytest.mark.parametrize("masking", MASKINGS)
def test_state_dict_round_trip(masking):
    model = mlp()
    sparse = sparsify(
        model, 0.3, distribution="erk", bias_std=0.1, masking=masking, generator=generator(1)
    )
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    other = mlp()
    other_sparse = sparsify(
        other, 0.5, distribution="uniform", masking=masking, generator=generator(2)
    )
    other.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))
    for name, weight in effective(model).items():
        assert torch.equal(effective(other)[name], weight)
        assert torch.equal(other_sparse.masks[name], sparse.masks[name])
    x = torch.randn(8, 16)
    assert torch.equal(other(x), model(x))


@pytest.mark.parametrize("masking", MASKINGS)
def test_remove_bakes_masked_weights_in(masking):
    model = mlp()
    sparse = sparsify(model, 0.3, distribution="uniform", masking=masking, generator=generator())
    expected = effective(model)
    x = torch.randn(8, 16)
    out = model(x)
    assert sparse.remove() is model
    for layer in sparse.layers:
        assert not parametrize.is_parametrized(layer.module, layer.attr)
        assert not hasattr(layer.module, "weight_eoi_mask")
        assert not layer.parameter._post_accumulate_grad_hooks
        assert isinstance(layer.module.weight, nn.Parameter)
        assert torch.equal(layer.module.weight.detach(), expected[layer.name])
    assert torch.equal(model(x), out)
    assert "1.weight" in dict(model.named_parameters())


@pytest.mark.parametrize("masking", MASKINGS)
def test_torch_compile(masking):
    model = mlp()
    sparse = sparsify(model, 0.3, distribution="uniform", masking=masking, generator=generator())
    x = torch.randn(8, 16)
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="aot_eager")
    assert torch.allclose(compiled(x), model(x), atol=1e-6)
    compiled(x).sum().backward()  # gradients reach the weight, masked
    grad = sparse.layers[0].parameter.grad
    assert grad is not None and grad.any() and not grad[~sparse.masks["1.weight"]].any()


def test_batched_equals_per_layer():
    """Same-shape layers are initialized in one call, with exactly the weights of
    consecutive per-layer calls."""
    model = nn.Sequential(*[nn.Linear(20, 20) for _ in range(4)])
    sparse = sparsify(model, 0.3, distribution="uniform", generator=generator(5))
    reference = nn.Sequential(*[nn.Linear(20, 20) for _ in range(4)])
    g = generator(5)
    for index, layer in enumerate(reference):
        mask = sparse_orthogonal_(layer.weight, 0.3, generator=g)
        assert torch.equal(mask, sparse.masks[f"{index}.weight"])
        assert torch.equal(layer.weight.detach(), effective(model)[f"{index}.weight"])


# SAO reaches only exact degrees: its sparsify tests are in tests/test_sao.py.
@pytest.mark.parametrize("method", [m for m in METHODS if not m.startswith("sao")])
def test_every_method(method):
    model = mlp(depth=3, width=32)
    sparse = sparsify(model, 0.3, distribution="uniform", method=method, generator=generator())
    assert sparse.method == method
    for name, weight in effective(model).items():
        mask = sparse.masks[name]
        assert not weight[~mask].any()
        assert abs(float(mask.float().mean()) - 0.3) < 0.05
    errors = orthogonality_errors(model)
    if method == "eoi":
        assert max(errors.values()) < 1e-5
    else:
        assert max(errors.values()) > 1e-3  # approximate at best


def test_random_method_is_kaiming_scaled():
    model = nn.Sequential(nn.Linear(400, 300))
    sparsify(model, 0.2, distribution="uniform", method="random", gain=2.0, generator=generator())
    weight = effective(model)["0.weight"]
    kept = weight[weight != 0]
    assert float(kept.std()) == pytest.approx(2.0 / (0.2 * 400) ** 0.5, rel=0.05)


@pytest.mark.parametrize("method", ["ai", "svd_ai"])
def test_isometry_baselines_reduce_the_error(method):
    plain = mlp(depth=3, width=32)
    sparsify(plain, 0.4, distribution="uniform", method="random", generator=generator(3))
    improved = mlp(depth=3, width=32)
    sparse = sparsify(improved, 0.4, distribution="uniform", method=method, generator=generator(3))
    before, after = orthogonality_errors(plain), orthogonality_errors(improved)
    for name in before:
        assert after[name] < before[name]
        assert sparse.info["isometry_error"][name] == pytest.approx(after[name], rel=1e-5)


def test_bias_std():
    model = nn.Sequential(nn.Linear(50, 2000))
    sparsify(model, 0.5, distribution="uniform", bias_std=0.05, generator=generator())
    assert float(model[0].bias.detach().std()) == pytest.approx(0.05, rel=0.1)
    zero = nn.Sequential(nn.Linear(50, 20))
    sparsify(zero, 0.5, distribution="uniform", generator=generator())
    assert not zero[0].bias.any()


def test_conv_recurrent_and_attention_layers():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(6, 12, 3, padding=1, groups=2)
            self.lstm = nn.LSTM(12, 16, batch_first=True)
            self.gru = nn.GRU(16, 8, batch_first=True, bidirectional=True)
            self.attention = nn.MultiheadAttention(16, 4, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.conv(x).transpose(1, 2)
            h, _ = self.lstm(h)
            h, _ = self.gru(h)
            return self.attention(h, h, h)[0]

    net = Net()
    sparse = sparsify(net, 0.4, distribution="uniform", generator=generator())
    assert set(sparse.masks) == {
        "conv.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0",
        "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.weight_ih_l0_reverse",
        "gru.weight_hh_l0_reverse", "attention.in_proj_weight", "attention.out_proj.weight",
    }  # fmt: skip
    errors = orthogonality_errors(net)
    assert max(errors.values()) < 1e-5, errors
    x = torch.randn(2, 6, 10)
    out = net(x)
    # The modules run on the masked weights: a plain copy with those weights agrees.
    plain = Net()
    plain.load_state_dict(
        {name: value for name, value in net.state_dict().items() if not name.endswith("_mask")}
    )
    assert torch.allclose(plain(x), out, atol=1e-6)


def test_unsupported_modules_are_listed():
    model = nn.Sequential(nn.Bilinear(8, 8, 8), nn.Linear(8, 8))
    with pytest.warns(UserWarning, match=r"left these modules dense.*0 \(Bilinear\)"):
        sparse = sparsify(model, 0.5, distribution="uniform")
    assert list(sparse.masks) == ["1.weight"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparsify(mlp(), 0.5, distribution="uniform")


BAD = [
    ({"method": "snip"}, ValueError, "method must be one of"),
    ({"distribution": "bogus"}, ValueError, "distribution must be one of"),
    ({"density": 0.0}, ValueError, "density"),
    ({"density": 2.0}, ValueError, "density"),
    ({"gain": float("nan")}, ValueError, "gain"),
    ({"bias_std": -1.0}, ValueError, "bias_std"),
    ({"conv_mode": "full"}, ValueError, "conv_mode"),
    ({"generator": 3}, TypeError, "generator"),
    ({"iterations": -2}, ValueError, "iterations"),
    ({"check_ranks": 1}, TypeError, "check_ranks must be True or False"),
    ({"distribution": "uniform_dense_ends", "density": 0.001}, ValueError, "dense first and last"),
    ({"distribution": {"9.weight": torch.ones(2, 2, dtype=torch.bool)}}, ValueError, "9.weight"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD, ids=[str(b[0])[:40] for b in BAD])
def test_errors_leave_the_model_unchanged(kwargs, error, match):
    model = mlp()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    arguments = {"density": 0.3, "distribution": "uniform", **kwargs}
    density = arguments.pop("density")
    with pytest.raises(error, match=match):
        sparsify(model, density, **arguments)
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[name], value) for name, value in before.items())
    assert not any(isinstance(m, FixedMask) for m in model.modules())


def test_model_errors():
    with pytest.raises(ValueError, match="no supported layers"):
        sparsify(nn.Sequential(nn.ReLU(), nn.LayerNorm(3)), 0.5)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        sparsify("model", 0.5)
    model = mlp()
    sparsify(model, 0.5, distribution="uniform")
    with pytest.raises(ValueError, match="already has an eoi_ext mask"):
        sparsify(model, 0.5, distribution="uniform")


def test_meta_models_are_materialized_first():
    """A meta weight would get a meta mask that to_empty leaves uninitialized: sparsify
    refuses it, and works after to_empty like on a model built in place."""
    with torch.device("meta"):
        model = mlp()
    with pytest.raises(ValueError, match=r"1\.weight is on the meta device.*to_empty"):
        sparsify(model, 0.5, distribution="uniform")
    assert not any(isinstance(m, FixedMask) for m in model.modules())
    model.to_empty(device="cpu")
    sparse = sparsify(model, 0.5, distribution="uniform", generator=generator(3))
    expected = sparsify(mlp(), 0.5, distribution="uniform", generator=generator(3))
    for name, mask in expected.masks.items():
        assert torch.equal(sparse.masks[name], mask)
    assert torch.equal(model[1].weight, expected.model[1].weight)


def test_check_ranks_without_shards_is_a_no_op():
    """check_ranks only compares ranks of DTensor meshes: a plain model gets the same
    result, with no process group needed."""
    sparse = sparsify(
        mlp(), 0.5, distribution="uniform", check_ranks=True,
        generator=generator(4),
    )  # fmt: skip
    expected = sparsify(mlp(), 0.5, distribution="uniform", generator=generator(4))
    assert all(torch.equal(sparse.masks[n], m) for n, m in expected.masks.items())


def test_short_training_run_eoi_beats_random():
    """The paper's effect at a small scale: a 100-layer tanh MLP (width 32, density 0.125,
    dense ends) trains on digits with EOI and stays near chance with random sparse init."""
    from eoi_ext.lab.data import load_digits
    from eoi_ext.lab.training import train

    data = load_digits()
    accuracy = {}
    for method in ("eoi", "random"):
        g = generator(0)
        model = deep_mlp(100, 32, "tanh", in_features=64, out_features=10)
        sparsify(
            model, 0.125, distribution="uniform_dense_ends", method=method,
            gain=1.0247, bias_std=0.00448, generator=g,
        )  # fmt: skip
        result = train(model, data, steps=100, learning_rate=1e-3, generator=g)
        accuracy[method] = result.test_accuracy
    assert accuracy["eoi"] > 0.7, accuracy
    assert accuracy["random"] < 0.3, accuracy


def test_the_dense_modules_warning_stays_short():
    model = nn.Sequential(*[nn.Bilinear(8, 8, 8) for _ in range(20)], nn.Linear(8, 8))
    with pytest.warns(UserWarning, match=r"7 \(Bilinear\) and 12 more$"):
        sparsify(model, 0.5, distribution="uniform")


def test_the_minimum_density_warning_names_the_layers():
    model = nn.Sequential(*[nn.Linear(64, 64) for _ in range(5)], nn.Linear(64, 8))
    with pytest.warns(UserWarning) as caught:
        sparsify(model, 0.001, distribution="uniform")
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("0.weight, 1.weight, 2.weight and 2 more: density") for m in messages)
    assert any(m.startswith("5.weight: density 0.001 is below the minimum") for m in messages)
