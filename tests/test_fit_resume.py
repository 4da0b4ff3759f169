"""eoi_ext/lab/fit.py and checkpoint.py: masks stay fixed through the published recipe,
and a run killed and resumed from its checkpoint ends bit for bit where an uninterrupted
one does (CPU), on tiny networks and data made here."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

import eoi_ext
import eoi_ext.lab.checkpoint as checkpoint
from eoi_ext.lab.data import Dataset
from eoi_ext.lab.fit import fit
from eoi_ext.lab.recipe import Recipe

pytest.importorskip("tqdm")  # the lab extra (progress bars)

RECORDS = ("losses", "test_losses", "test_accuracies", "learning_rates")


class Killed(Exception):  # stands for the run's process dying
    pass


def _data(shape: tuple[int, ...], count: int = 48) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(count, *shape, generator=g), torch.randint(0, 4, (count,), generator=g)
    return Dataset("toy", x, y, x[:16], y[:16], 4)


def _model(kind: str, seed: int, masking: str = "hooks") -> nn.Module:
    torch.manual_seed(seed)
    if kind == "conv":
        model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4),
        )  # fmt: skip
    else:
        model = _mlp()  # its dropout draws from torch's global generator
    generator = torch.Generator().manual_seed(seed)
    eoi_ext.sparsify(model, 0.25, distribution="uniform", masking=masking, generator=generator)
    return model


def _mlp() -> nn.Sequential:
    layers = [nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Dropout(0.2)]
    return nn.Sequential(*layers, nn.Linear(32, 4))


SMALL = Recipe(epochs=2, batch_size=16, augment=False)
CASES = {  # kind -> (input shape, recipe)
    "conv": ((3, 8, 8), replace(SMALL, learning_rate=0.05, augment=True)),  # SGD, Nesterov
    "mlp": ((16,), replace(SMALL, optimizer="adam", epochs=4)),  # drops after epochs 2, 3
}


def _kill(*_) -> None:  # as fit's on_epoch_end: dies once the first epoch's checkpoint is in
    raise Killed


def _kill_in_epoch_two(model: nn.Module):
    calls = iter(range(1, 100))  # epoch 1: 3 training and 1 test forward; die in epoch 2's 2nd
    return model.register_forward_pre_hook(lambda *_: _kill() if next(calls) == 6 else None)


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("kill", ["after epoch 1", "in epoch 2"])
def test_resumed_run_is_bit_identical(tmp_path, kind, kill):
    shape, recipe = CASES[kind]
    data = _data(shape)
    straight = _model(kind, seed=0)
    expected = fit(straight, data, recipe, generator=torch.Generator().manual_seed(1))

    model = _model(kind, seed=0)
    hook = _kill_in_epoch_two(model) if kill == "in epoch 2" else None
    callback = _kill if hook is None else None
    with pytest.raises(Killed):
        fit(model, data, recipe, generator=torch.Generator().manual_seed(1),
            checkpoint_dir=str(tmp_path), on_epoch_end=callback)  # fmt: skip
    assert sorted(path.name for path in tmp_path.iterdir()) == ["epoch-0001.pt"]
    if hook is not None:
        hook.remove()  # resume into the killed model itself, changed by half an epoch
    else:
        model = _model(kind, seed=7)  # another start and other masks: all must be loaded
    seen = []
    other = torch.Generator().manual_seed(99)  # its state must come from the checkpoint
    result = fit(model, data, recipe, generator=other, checkpoint_dir=str(tmp_path),
                 on_epoch_end=lambda epochs, _: seen.append(epochs))  # fmt: skip
    assert seen == list(range(2, recipe.epochs + 1))  # only what the checkpoint lacked
    assert [getattr(result, r) for r in RECORDS] == [getattr(expected, r) for r in RECORDS]
    assert len(result.epoch_seconds) == recipe.epochs
    reference = straight.state_dict()  # weights, biases and mask buffers
    assert sorted(model.state_dict()) == sorted(reference)
    assert all(torch.equal(value, reference[key]) for key, value in model.state_dict().items())


@pytest.mark.parametrize(
    ("masking", "optimizer", "sparsified", "zeros_stay"),
    [
        ("hooks", "sgd", True, True),
        ("hooks", "adam", True, True),
        ("parametrize", "sgd", True, True),
        ("hooks", "sgd", False, False),  # zeros written without masks: the check can fail
    ],
)
def test_masks_stay_fixed_through_weight_decay(masking, optimizer, sparsified, zeros_stay):
    model = _model("mlp", seed=3, masking=masking)
    masks = {name: mask.clone() for name, mask in eoi_ext.masks_in(model.state_dict()).items()}
    if not sparsified:
        model = _plain_copy(model)
    before = {name: _weight(model, name).detach().clone() for name in masks}
    recipe = replace(SMALL, optimizer=optimizer, weight_decay=0.1)  # decay pulls on every weight
    fit(model, _data((16,)), recipe, generator=torch.Generator().manual_seed(4))
    for name, mask in masks.items():
        weight = _weight(model, name)
        assert bool((weight[~mask] == 0).all()) is zeros_stay, name
        assert not torch.equal(weight[mask], before[name][mask]), name  # it did train
    after = eoi_ext.masks_in(model.state_dict())
    assert all(torch.equal(after[name], masks[name]) for name in after)  # masks unchanged


def _weight(model: nn.Module, name: str) -> torch.Tensor:
    module, attr = name.rsplit(".", 1)
    return getattr(model.get_submodule(module), attr)


def _plain_copy(model: nn.Module) -> nn.Module:
    """The same values, zeros included, with no masks, hooks or buffers."""
    plain = _mlp()
    with torch.no_grad():
        for index in (0, 2, 5):
            plain[index].weight.copy_(_weight(model, f"{index}.weight"))
            plain[index].bias.copy_(model[index].bias)
    return plain


def test_records_checkpoints_and_a_finished_run(tmp_path, capsys):
    recipe = Recipe(epochs=4, batch_size=16, augment=False)
    model = _model("mlp", seed=0)
    result = fit(model, _data((16,)), recipe, generator=torch.Generator().manual_seed(0),
                 checkpoint_dir=str(tmp_path), progress="toy run")  # fmt: skip
    assert "toy run" in capsys.readouterr().err
    assert len(result.losses) == 4 * 3 and result.epochs == 4
    assert result.learning_rates == pytest.approx([0.1, 0.1, 0.01, 0.001], rel=1e-12)
    assert all(0.0 <= accuracy <= 1.0 for accuracy in result.test_accuracies)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["epoch-0004.pt"]  # no temp
    seen = []
    again = fit(model, _data((16,)), recipe, generator=torch.Generator(),
                checkpoint_dir=str(tmp_path), on_epoch_end=lambda e, r: seen.append(e))  # fmt: skip
    assert seen == [] and again == result  # finished: nothing more to train


def test_a_save_killed_midway_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    checkpoint.save_checkpoint(tmp_path, 1, {"epoch": 1})

    def dies_while_writing(state, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies_while_writing)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_checkpoint(tmp_path, 2, {"epoch": 2})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["epoch-0001.pt"]
    assert checkpoint.load_checkpoint(checkpoint.latest_checkpoint(tmp_path)) == {"epoch": 1}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: (m, replace(SMALL, learning_rate=0.05)), r"\(Recipe\.learning_rate differ"),
        (lambda m: (_plain_copy(m), SMALL), "sparsify it the same way"),
    ],
)  # fmt: skip
def test_resume_refusals(tmp_path, change, match):
    model, data = _model("mlp", seed=0), _data((16,))
    with pytest.raises(Killed):
        fit(model, data, SMALL, generator=torch.Generator(), checkpoint_dir=str(tmp_path),
            on_epoch_end=_kill)  # fmt: skip
    other_model, other_recipe = change(model)
    with pytest.raises(ValueError, match=match):
        fit(other_model, data, other_recipe, generator=torch.Generator(),
            checkpoint_dir=str(tmp_path))  # fmt: skip
    with pytest.raises(ValueError, match=r"Recipe\.augment needs images"):
        fit(model, data, Recipe(epochs=1), generator=torch.Generator())
