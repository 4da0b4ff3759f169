"""The published EOI training recipe (github woocash2/sparser-better-deeper-stronger):
setup_utils.py's optimizer (SGD always Nesterov; Adam), main.py's MultiStepLR (x0.1 at
int(epochs / 2) and int(epochs * 3 / 4), stepped per epoch by trainer.py's run_training)
and the batch size, epochs, lr and `l2` of each specs/*/*.py base_config."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["OPTIMIZERS", "PADDING_MODES", "PUBLISHED", "Recipe", "make_optimizer", "make_scheduler"]

OPTIMIZERS = ("sgd", "adam")  # main.py's --optimizer choices
PADDING_MODES = ("reflect", "zeros")  # eoi_ext.lab.augment.augment_cifar


def _real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fractions(value: object) -> bool:
    fractions = isinstance(value, tuple) and all(_real(f) and 0 < f <= 1 for f in value)
    return fractions and list(value) == sorted(value)


# Recipe field -> (test, what the error says it must be)
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "optimizer": (lambda v: v in OPTIMIZERS, f"one of {OPTIMIZERS}"),
    "learning_rate": (lambda v: _real(v) and v > 0, "a finite number > 0"),
    "momentum": (lambda v: _real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "nesterov": (lambda v: isinstance(v, bool), "a bool"),
    "weight_decay": (lambda v: _real(v) and v >= 0, "a finite number >= 0"),
    "epochs": (lambda v: type(v) is int and v >= 1, "an int >= 1"),
    "batch_size": (lambda v: type(v) is int and v >= 1, "an int >= 1"),
    "milestones": (_fractions, "a sorted tuple of fractions in (0, 1]"),
    "gamma": (lambda v: _real(v) and 0 < v <= 1, "a number in (0, 1]"),
    "augment": (lambda v: isinstance(v, bool), "a bool"),
    "padding_mode": (lambda v: v in PADDING_MODES, f"one of {PADDING_MODES}"),
}


@dataclass(frozen=True)
class Recipe:
    """How a network is trained; the defaults are the published CIFAR ResNet-32 run.

    Attributes:
        optimizer: "sgd" or "adam" (`--optimizer`).
        learning_rate, weight_decay: `--lr` and `--l2` (1e-4 in the specs used here).
        momentum, nesterov: SGD's (0.9, always Nesterov as published); Adam ignores them.
        epochs, batch_size: `--epochs` (x `--multiplier`, 1 in every spec), 128.
        milestones, gamma: the learning rate is multiplied by gamma after the epochs
            int(epochs * fraction) (main.py's MultiStepLR).
        augment, padding_mode: random crop and horizontal flip of training batches (the
            CIFAR-10 loader; MNIST's does not augment), its padding "reflect" (published,
            data_handling/utils.py) or "zeros".

    Examples:
        >>> recipe = eoi_ext.lab.recipe.Recipe.published("res32")
        >>> recipe.optimizer, recipe.learning_rate, recipe.epochs, recipe.milestone_epochs()
        ('sgd', 0.1, 200, [100, 150])
        >>> eoi_ext.lab.recipe.Recipe(epochs=0)
        Traceback (most recent call last):
        ValueError: Recipe.epochs must be an int >= 1, got 0
    """

    optimizer: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    epochs: int = 200
    batch_size: int = 128
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    augment: bool = True
    padding_mode: str = "reflect"

    def __post_init__(self) -> None:
        for name, (ok, what) in _CHECKS.items():
            value = getattr(self, name)
            if not ok(value):
                raise ValueError(f"Recipe.{name} must be {what}, got {value!r}")
        if self.optimizer == "sgd" and self.nesterov and self.momentum == 0:
            # torch.optim.SGD refuses it too; said here, naming the fields
            raise ValueError("Recipe.nesterov needs Recipe.momentum > 0 with sgd")

    def milestone_epochs(self) -> list[int]:
        """The epochs after which the learning rate drops: int(epochs * fraction) each.

        Returns:
            One epoch count per milestone (main.py: int(epochs / 2), int(epochs * 3 / 4)).

        Examples:
            >>> eoi_ext.lab.recipe.Recipe(epochs=7).milestone_epochs()
            [3, 5]
        """
        return [int(self.epochs * fraction) for fraction in self.milestones]

    @classmethod
    def published(cls, spec: str = "res32") -> Recipe:
        """The recipe of one published spec (specs/<group>/<spec>.py base_config).

        Args:
            spec: a key of PUBLISHED ("res32", "vgg16", "deep-mlp", ...).

        Returns:
            The spec's Recipe.

        Examples:
            >>> eoi_ext.lab.recipe.Recipe.published("deep-mlp").learning_rate
            0.0001
        """
        if spec not in PUBLISHED:
            raise ValueError(f"spec must be one of {', '.join(PUBLISHED)}, got {spec!r}")
        return PUBLISHED[spec]


# specs/*/*.py base_config, keyed as eoi_ext/lab/specs/*.toml (res56 / res110 also try lr
# 0.01 for EI). CIFAR-10 runs augment (main.py get_data: get_cifar10_dataloaders, transform
# True), MNIST runs do not. Not here: efficientnet_fixed.py (Tiny ImageNet, lr 0.01, l2
# 1e-3, with colour jitter and rotation that augment_cifar does not do).
PUBLISHED: dict[str, Recipe] = {
    **dict.fromkeys(("res32", "res56", "res110", "vgg16"), Recipe()),  # vgg16: vgg.py
    "deep-conv": Recipe(learning_rate=1e-4, epochs=100),
    "deep-mlp": Recipe(learning_rate=1e-4, epochs=100, augment=False),
    **dict.fromkeys(
        ("loss-curves", "singular-values"), Recipe(learning_rate=0.01, epochs=100, augment=False)
    ),
}


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """The published optimizer over all of model's parameters (setup_utils.py).

    Args:
        model: the network (biases and batch-norm weights are decayed too, as published).
        recipe: the Recipe.

    Returns:
        torch.optim.SGD (momentum, Nesterov, weight decay) or Adam (weight decay).

    Examples:
        >>> model = torch.nn.Linear(4, 2)
        >>> sgd = eoi_ext.lab.recipe.make_optimizer(model, eoi_ext.lab.recipe.Recipe())
        >>> {key: sgd.defaults[key] for key in ("lr", "momentum", "nesterov", "weight_decay")}
        {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weight_decay': 0.0001}
    """
    lr, decay = recipe.learning_rate, recipe.weight_decay
    if recipe.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=decay)
    sgd = {"momentum": recipe.momentum, "nesterov": recipe.nesterov, "weight_decay": decay}
    return torch.optim.SGD(model.parameters(), lr=lr, **sgd)


def make_scheduler(
    optimizer: torch.optim.Optimizer, recipe: Recipe, steps_per_epoch: int = 1
) -> torch.optim.lr_scheduler.MultiStepLR:
    """The published MultiStepLR (main.py), to step `steps_per_epoch` times an epoch.

    Args:
        optimizer: from make_optimizer; recipe: the Recipe (milestone_epochs, gamma).
        steps_per_epoch: 1 (as published: stepped after each epoch), or the minibatches
            of an epoch for a caller stepping after each one (same drops, same epochs).

    Returns:
        A MultiStepLR over milestone epochs x steps_per_epoch. As in the published code,
        equal milestones (epochs < 4) compound, and a 1-epoch run (milestones 0, 0)
        trains at learning_rate * gamma**2 throughout.

    Examples:
        >>> recipe = eoi_ext.lab.recipe.Recipe(epochs=4)
        >>> sgd = eoi_ext.lab.recipe.make_optimizer(torch.nn.Linear(2, 2), recipe)
        >>> scheduler = eoi_ext.lab.recipe.make_scheduler(sgd, recipe)
        >>> rates = []
        >>> for epoch in range(recipe.epochs):  # milestones int(4 / 2), int(4 * 3 / 4)
        ...     rates.append(round(sgd.param_groups[0]["lr"], 6))
        ...     sgd.step()  # the epoch's minibatches
        ...     scheduler.step()
        >>> rates
        [0.1, 0.1, 0.01, 0.001]
    """
    if type(steps_per_epoch) is not int or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be an int >= 1, got {steps_per_epoch!r}")
    milestones = [epoch * steps_per_epoch for epoch in recipe.milestone_epochs()]
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=recipe.gamma)
