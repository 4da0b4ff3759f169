"""Masks without the tax (issue 13, item 8; docs/masking.md): the default "hooks" masking
keeps every weight outside its mask exactly zero through any optimizer step, masks the
gradient as clip_grad_norm_ sees it, survives copies and dtype moves, and composes with
torch.ao.pruning, which the "parametrize" masking refuses."""

from __future__ import annotations

import copy
import gc
import io

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext import gradient_masks
from eoi_ext.gradient_masks import ZERO_PRESERVING, masked_parameters


def network() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)
    )


def outside(model: nn.Module, sparse: eoi_ext.SparseModel) -> int:
    """Nonzero weights outside the masks."""
    return sum(
        int(layer.parameter[~sparse.masks[layer.name]].count_nonzero()) for layer in sparse.layers
    )


def train(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int = 3) -> None:
    dtype = next(model.parameters()).dtype
    x, y = torch.randn(16, 16, dtype=dtype), torch.randint(0, 4, (16,))
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


optim = torch.optim
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "sgd-maximize": lambda p: optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.1, maximize=True),
    "adam-foreach": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, foreach=True),
    "adam-fused": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, fused=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "adamw-fused": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1, fused=True),
    "nadam": lambda p: optim.NAdam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "radam": lambda p: optim.RAdam(p, lr=0.01, weight_decay=0.1),
    "adamax": lambda p: optim.Adamax(p, lr=0.01, weight_decay=0.1),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, weight_decay=0.1, initial_accumulator_value=0.1),
    "adadelta": lambda p: optim.Adadelta(p, weight_decay=0.1),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    "rprop": lambda p: optim.Rprop(p, lr=0.01),
    "asgd": lambda p: optim.ASGD(p, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_every_zero_preserving_optimizer_keeps_the_zeros_without_remasking(make):
    """The step hook skips these optimizers: masked gradients alone must keep zeros."""
    model = network()
    sparse = eoi_ext.sparsify(model, 0.3)
    optimizer = make(model.parameters())
    assert type(optimizer) in ZERO_PRESERVING
    before = [layer.parameter.detach().clone() for layer in sparse.layers]
    train(model, optimizer)
    assert outside(model, sparse) == 0
    assert all(
        not torch.equal(b, layer.parameter) for b, layer in zip(before, sparse.layers, strict=True)
    )


class Noisy(torch.optim.SGD):
    """Not zero-preserving: every step adds to every weight (as Muon's orthogonalized or
    Shampoo's preconditioned updates spread outside the mask)."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for parameter in group["params"]:
                parameter.add_(0.01)
        return loss


def test_other_optimizers_are_remasked_after_their_step(monkeypatch):
    model = network()
    sparse = eoi_ext.sparsify(model, 0.3)
    train(model, Noisy(model.parameters(), lr=0.1))
    assert outside(model, sparse) == 0
    assert float(model[0].bias.detach().abs().min()) > 0  # dense parameters keep the step
    monkeypatch.setattr(gradient_masks, "ZERO_PRESERVING", ZERO_PRESERVING | {Noisy})
    train(model, Noisy(model.parameters(), lr=0.1))
    assert outside(model, sparse) > 0  # what the step hook prevents


@pytest.mark.skipif(not hasattr(torch.optim, "Muon"), reason="torch.optim.Muon: torch >= 2.9")
def test_muon_is_remasked():
    model = network()
    sparse = eoi_ext.sparsify(model, 0.3)
    matrices = [layer.parameter for layer in sparse.layers]
    train(model, torch.optim.Muon(matrices, lr=0.02))
    assert outside(model, sparse) == 0


def test_gradients_are_the_sparse_models_before_clipping():
    hooked, parametrized = network(), network()
    sparse = eoi_ext.sparsify(hooked, 0.3, generator=torch.Generator().manual_seed(1))
    eoi_ext.sparsify(
        parametrized, 0.3, masking="parametrize", generator=torch.Generator().manual_seed(1)
    )
    x = torch.randn(8, 16)
    for model in (hooked, parametrized):
        model(x).square().sum().backward()
        model(x).square().sum().backward()  # accumulated twice
    mask = sparse.masks["0.weight"]
    assert hooked[0].weight.grad.count_nonzero() == int(mask.sum())
    norms = [nn.utils.clip_grad_norm_(m.parameters(), 1.0) for m in (hooked, parametrized)]
    torch.testing.assert_close(norms[0], norms[1])


def test_autocast_and_dtype_moves_keep_the_masks():
    model = network()
    sparse = eoi_ext.sparsify(model, 0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        train(model, optimizer)
    assert outside(model, sparse) == 0
    model.to(torch.float64)  # the buffers move; the hooks read the module's
    train(model, Noisy(model.parameters(), lr=0.1))
    assert model[0].weight_eoi_mask.dtype == torch.bool
    assert outside(model, sparse) == 0


@pytest.mark.parametrize("how", ["deepcopy", "torch.save"])
def test_a_copy_of_the_model_keeps_masking_its_gradients(how):
    model = network()
    sparse = eoi_ext.sparsify(model, 0.3)
    if how == "deepcopy":
        twin = copy.deepcopy(model)
    else:
        buffer = io.BytesIO()
        torch.save(model, buffer)
        twin = torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)
    assert not twin[0].weight._post_accumulate_grad_hooks  # tensors' hooks are not copied
    train(twin, torch.optim.Adam(twin.parameters(), lr=0.1))  # the guard attaches them
    masks = {name: mask for name, mask in sparse.masks.items()}
    for name, weight in twin.named_parameters():
        if name in masks:
            assert not weight[~masks[name]].any(), name


def test_a_deleted_model_leaves_nothing_registered():
    gc.collect()
    count = len(masked_parameters)
    model = network()
    eoi_ext.sparsify(model, 0.3)
    assert len(masked_parameters) == count + 3
    del model
    gc.collect()
    assert len(masked_parameters) == count


def test_torch_ao_pruning_composes_with_hooks_and_is_refused_by_parametrize():
    pruning = pytest.importorskip("torch.ao.pruning")
    config = [{"tensor_fqn": "2.weight"}]
    model = network()
    sparse = eoi_ext.sparsify(model, 0.5)
    eoi_mask = sparse.masks["2.weight"].clone()
    sparsifier = pruning.WeightNormSparsifier(sparsity_level=0.5, sparse_block_shape=(1, 4))
    sparsifier.prepare(model, config)
    sparsifier.step()
    train(model, torch.optim.Adam(model.parameters(), lr=0.1))
    assert torch.equal(model[2].weight_eoi_mask, eoi_mask)  # before: turned float32
    assert not model[2].weight[~eoi_mask].any()  # before: 803 nonzeros outside it
    model = network()
    eoi_ext.sparsify(model, 0.5, masking="parametrize")
    sparsifier = pruning.WeightNormSparsifier(sparsity_level=0.5, sparse_block_shape=(1, 4))
    sparsifier.prepare(model, config)
    with pytest.raises(RuntimeError, match=r"torch\.ao\.pruning would overwrite it"):
        sparsifier.step()
