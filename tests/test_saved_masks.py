"""Masks that survive a save (issue 13, "Masks that survive"): a sparsified model's state
dict loads into a fresh model (load_sparse), and saved masks are fixed again on a model
that was exported dense (mask_state_dict, fix_masks), all or nothing."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext.sparse_model import MASKINGS
from eoi_ext.tied_weights import trainable_tensor


def network() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.Tanh(), nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.Tanh(),
        nn.Linear(16, 16), nn.Linear(16, 16),
    )  # fmt: skip


def tied_network() -> nn.Sequential:
    model = network()
    model[6].weight = model[5].weight
    return model


def train(model: nn.Module, steps: int = 3) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        model(torch.randn(4, 3, 6, 6)).square().sum().backward()
        optimizer.step()


def saved(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("masking", MASKINGS)
@pytest.mark.parametrize("make", [network, tied_network], ids=["plain", "tied"])
def test_load_sparse_restores_a_trained_sparse_model(make, masking):
    source = make()
    sparse = eoi_ext.sparsify(source, 0.3, masking=masking)
    train(source)
    fresh = make()
    with pytest.raises(RuntimeError):  # unexpected mask keys (and parametrized weights)
        fresh.load_state_dict(source.state_dict())
    fresh = make()
    restored = eoi_ext.load_sparse(fresh, saved(source.state_dict()))
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(fresh(x), source(x))
    assert restored.masks.keys() == sparse.masks.keys()
    for name, mask in sparse.masks.items():
        assert torch.equal(restored.masks[name], mask)
    train(fresh)
    for name, mask in restored.masks.items():
        module_name, attr = name.rsplit(".", 1)
        weight = getattr(fresh.get_submodule(module_name), attr)
        assert (weight[~mask] == 0).all()  # the masks hold through training
    assert restored.masking == masking
    if make is tied_network:
        assert restored.layers[-1].parameter is trainable_tensor(fresh[6], "weight")


def test_fix_masks_after_a_dense_export():
    """remove() -> a plain state dict (what save_pretrained writes) -> a fresh model ->
    fix_masks with the saved masks: the same masks and outputs, no re-initialization."""
    source = tied_network()
    sparse = eoi_ext.sparsify(source, 0.3)
    train(source)
    masks = saved(sparse.mask_state_dict())
    assert list(masks) == ["0.weight", "3.weight", "5.weight"]  # the tied weight once
    sparse.remove()
    fresh = tied_network()
    fresh.load_state_dict(saved(source.state_dict()))
    restored = eoi_ext.fix_masks(fresh, masks)
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(fresh(x), source(x))
    assert all(torch.equal(restored.masks[name], mask) for name, mask in masks.items())
    train(fresh)
    assert (fresh[6].weight[~masks["5.weight"]] == 0).all()  # the tie's holder too


def test_fix_masks_zeroes_outside_and_keeps_inside():
    model = network()
    before = model[3].weight.detach().clone()
    mask = torch.rand(before.shape) < 0.4
    sparse = eoi_ext.fix_masks(model, {"3.weight": mask})
    assert list(sparse.masks) == ["3.weight"] and sparse.method == "given"
    assert torch.equal(model[3].weight, before * mask)
    assert sparse.densities["3.weight"] == pytest.approx(float(mask.float().mean()))


def snapshot(model: nn.Module) -> dict:
    return {key: value.clone() for key, value in model.state_dict().items()}


BAD_MASKS = [
    ({"9.weight": torch.ones(2, 2, dtype=torch.bool)}, ValueError, "layer for: 9.weight"),
    ({"3.weight": torch.ones(16, 8, dtype=torch.bool)}, ValueError, r"has shape \(16, 8\)"),
    ({"3.weight": torch.ones(16, 128)}, TypeError, "must be a plain bool tensor"),
    ({"5.weight": torch.ones(16, 16, dtype=torch.bool),
      "6.weight": torch.eye(16, dtype=torch.bool)}, ValueError, "one tied weight, differ"),
]  # fmt: skip


@pytest.mark.parametrize(("masks", "error", "message"), BAD_MASKS)
def test_bad_masks_change_nothing(masks, error, message):
    model = tied_network()
    before = snapshot(model)
    with pytest.raises(error, match=message):
        eoi_ext.fix_masks(model, masks)
    after = model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[key], value) for key, value in before.items())


def test_load_sparse_refuses_a_state_dict_of_another_model():
    source = network()
    eoi_ext.sparsify(source, 0.3)
    state = source.state_dict()
    other = nn.Sequential(*network()[:4])
    before = snapshot(other)
    with pytest.raises(ValueError, match=r"no supported layer for: 5\.weight|does not match"):
        eoi_ext.load_sparse(other, state)
    assert all(torch.equal(other.state_dict()[k], v) for k, v in before.items())
    wrong = dict(state)
    wrong["3.bias"] = torch.zeros(5)
    with pytest.raises(ValueError, match=r"state_dict\['3.bias'\] has shape \(5,\)"):
        eoi_ext.load_sparse(network(), wrong)
    with pytest.raises(ValueError, match="holds no eoi_ext masks"):
        eoi_ext.load_sparse(network(), network().state_dict())


@pytest.mark.parametrize("masking", MASKINGS)
def test_load_sparse_of_a_single_layer(masking):
    """The model itself the layer: keys 'parametrizations.weight.0.eoi_mask' or
    'weight_eoi_mask' without a module prefix (before: "holds no eoi_ext masks")."""
    source = nn.Linear(8, 8)
    eoi_ext.sparsify(source, 0.5, distribution="uniform", masking=masking)
    fresh = nn.Linear(8, 8)
    sparse = eoi_ext.load_sparse(fresh, saved(source.state_dict()))
    assert list(sparse.masks) == ["weight"]
    assert torch.equal(fresh.weight, source.weight)


def test_load_sparse_fills_a_tied_key_left_out_of_the_file():
    """save_pretrained writes a tied tensor under one key (before: "missing
    ['6.weight']"); the tie fills the other holder, and any other missing key still fails."""
    source = tied_network()
    eoi_ext.sparsify(source, 0.3)
    state = {k: v for k, v in saved(source.state_dict()).items() if k != "6.weight"}
    fresh = tied_network()
    eoi_ext.load_sparse(fresh, state)
    assert fresh[6].weight is fresh[5].weight and torch.equal(fresh[6].weight, source[6].weight)
    del state["0.bias"]
    with pytest.raises(ValueError, match=r"missing \['0\.bias'\]"):
        eoi_ext.load_sparse(tied_network(), state)
