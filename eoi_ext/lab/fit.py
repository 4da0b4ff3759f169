"""Training as published, in epochs, resumable: eoi_ext.lab.recipe's optimizer and
learning-rate steps, eoi_ext.lab.augment's batches, eoi_ext.lab.checkpoint's checkpoints.

The loop follows trainer.py of github woocash2/sparser-better-deeper-stronger (train and
run_training): shuffled minibatches of an epoch (the last one may be smaller, as a
DataLoader without drop_last), cross-entropy on the logits, one optimizer step per
batch, the scheduler stepped after each epoch. The published code re-masks weights after
each step (sparselearning/core.py, apply_mask); a model sparsified by eoi_ext.sparsify
keeps its zeros by masked gradients instead (docs/masking.md), which gives the same
weights inside the mask for these element-wise optimizers. The test split is evaluated
after every epoch here (the published runs evaluate a validation split per epoch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch import nn

from .augment import augment_cifar
from .checkpoint import capture, latest_checkpoint, load_checkpoint, restore, save_checkpoint
from .data import Dataset
from .output import progress_bar
from .recipe import Recipe, make_optimizer, make_scheduler
from .training import evaluate, train_step

__all__ = ["FitResult", "fit"]


@dataclass
class FitResult:
    """What a run recorded, extended epoch by epoch (and saved in each checkpoint).

    Attributes:
        losses: the training loss of every minibatch, in order.
        test_losses, test_accuracies: mean cross-entropy and accuracy on the test split
            after each epoch (eoi_ext.lab.training.evaluate).
        learning_rates: the learning rate each epoch trained with.
        epoch_seconds: wall time of each epoch (training and test evaluation).

    Examples:
        >>> result = eoi_ext.lab.fit.FitResult(learning_rates=[0.1, 0.01])
        >>> result.epochs, result.seconds
        (0, 0.0)
    """

    losses: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)
    test_accuracies: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """The number of epochs completed."""
        return len(self.test_losses)

    @property
    def seconds(self) -> float:
        """The wall time of all epochs completed (of every run, for a resumed one)."""
        return float(sum(self.epoch_seconds))


def fit(
    model: nn.Module,
    data: Dataset,
    recipe: Recipe,
    *,
    generator: torch.Generator,
    checkpoint_dir: str | Path | None = None,
    progress: str | None = None,
    on_epoch_end: Callable[[int, FitResult], None] | None = None,
) -> FitResult:
    """Trains model on data with recipe, resuming from checkpoint_dir's latest checkpoint.

    Args:
        model: the network, trained in place (on its device; batches are moved there).
        data: train and test tensors (eoi_ext.lab.data.Dataset); images (N, C, H, W)
            when recipe.augment.
        recipe: the eoi_ext.lab.recipe.Recipe.
        generator: draws each epoch's order and the augmentation; its state is saved in
            and restored from the checkpoints.
        checkpoint_dir: None (no checkpoints) or a directory: a checkpoint is written
            after every epoch, and a run finds the latest one there and continues from
            it, bit for bit on the CPU. A run with another recipe is refused.
        progress: the label of a tqdm bar over all minibatches (None: no bar).
        on_epoch_end: called with (epochs completed, the result so far) after each
            epoch's checkpoint is written.

    Returns:
        The FitResult of every epoch, those of a resumed run included.

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> x, y = torch.randn(32, 4, generator=g), torch.randint(0, 2, (32,), generator=g)
        >>> data = eoi_ext.lab.data.Dataset("toy", x, y, x, y, 2)
        >>> recipe = eoi_ext.lab.recipe.Recipe(epochs=4, batch_size=16, augment=False)
        >>> result = eoi_ext.lab.fit.fit(torch.nn.Linear(4, 2), data, recipe, generator=g)
        >>> len(result.losses), [round(rate, 6) for rate in result.learning_rates]
        (8, [0.1, 0.1, 0.01, 0.001])
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be an eoi_ext.lab.recipe.Recipe, got {type(recipe)}")
    if recipe.augment and data.x_train.dim() != 4:
        raise ValueError(
            f"Recipe.augment needs images (N, C, H, W), got x_train {tuple(data.x_train.shape)}"
        )
    optimizer = make_optimizer(model, recipe)
    scheduler = make_scheduler(optimizer, recipe)  # stepped per epoch, as published
    result = FitResult()
    saved = latest_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
    if saved is not None:
        state = load_checkpoint(saved)
        _check_same_recipe(Recipe(**state["recipe"]), recipe, saved)
        restore(state, model, optimizer, scheduler, generator)
        result = FitResult(**state["result"])
    device = next(model.parameters()).device
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    count, size = len(data.x_train), recipe.batch_size
    batches = math.ceil(count / size)
    bar = progress_bar(
        recipe.epochs * batches,
        progress or "",
        enabled=progress is not None,
        unit="batch",
        leave=False,
    )
    if bar is not None:
        bar.update(result.epochs * batches)
    model.train()
    try:
        for epoch in range(result.epochs, recipe.epochs):
            start = time.perf_counter()
            result.learning_rates.append(optimizer.param_groups[0]["lr"])
            order = torch.randperm(count, generator=generator, device=generator.device)
            for first in range(0, count, size):
                index = order[first : first + size].to(data.x_train.device)
                x, y = data.x_train[index].to(device), data.y_train[index].to(device)
                if recipe.augment:
                    x = augment_cifar(x, generator, padding_mode=recipe.padding_mode)
                result.losses.append(train_step(model, optimizer, x, y, bar))
            scheduler.step()
            accuracy, test_loss = evaluate(model, x_test, y_test)
            result.test_accuracies.append(accuracy)
            result.test_losses.append(test_loss)
            result.epoch_seconds.append(time.perf_counter() - start)
            if checkpoint_dir is not None:
                state = capture(model, optimizer, scheduler, generator)
                state.update(epoch=epoch + 1, recipe=asdict(recipe), result=asdict(result))
                save_checkpoint(checkpoint_dir, epoch + 1, state)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, result)
    finally:
        if bar is not None:
            bar.close()
    return result


def _check_same_recipe(saved: Recipe, recipe: Recipe, path: object) -> None:
    """A checkpoint continues only the run it was written by (same recipe)."""
    differ = [f.name for f in fields(Recipe) if getattr(saved, f.name) != getattr(recipe, f.name)]
    if differ:
        raise ValueError(
            f"{path} was written with another recipe (Recipe.{', Recipe.'.join(differ)} "
            "differ); use another checkpoint_dir or the same recipe"
        )
