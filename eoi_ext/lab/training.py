"""A small, deterministic training loop for the demo and `eoi train`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .data import Dataset
from .output import progress_bar

__all__ = ["TrainingResult", "evaluate", "make_adam", "train", "train_step"]


@dataclass
class TrainingResult:
    """What a run produced: per-step training losses, the final test accuracy and loss,
    and the wall time of training."""

    losses: list[float] = field(default_factory=list)
    test_accuracy: float = float("nan")
    test_loss: float = float("nan")
    seconds: float = 0.0


def make_adam(model: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    """Adam, fused where this torch supports it (several times faster on the CPU for
    the thousands of small tensors of a deep network)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=learning_rate, foreach=True)


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1024) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of model on (x, y)."""
    model.eval()
    correct, loss = 0, 0.0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        correct += int((logits.argmax(dim=1) == target).sum())
        loss += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
    model.train()
    return correct / len(x), loss / len(x)


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, bar: Any
) -> float:
    """One minibatch: cross-entropy on the logits, backward, an optimizer step; the loss
    is shown on `bar` (a progress_bar, or None) and returned (train and fit.py's loop)."""
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    value = loss.item()
    if bar is not None:
        bar.set_postfix(loss=f"{value:.3f}", refresh=False)
        bar.update(1)
    return value


def train(
    model: nn.Module,
    data: Dataset,
    *,
    steps: int,
    batch_size: int = 128,
    learning_rate: float = 1e-4,
    generator: torch.Generator | None = None,
    progress: str | None = None,
) -> TrainingResult:
    """Trains with Adam on random minibatches (drawn with `generator`) for `steps` steps,
    then evaluates on the test split. `progress` labels a tqdm bar (None: no bar)."""
    optimizer = make_adam(model, learning_rate)
    result = TrainingResult()
    bar = progress_bar(steps, progress or "", enabled=progress is not None, unit="step")
    start = time.perf_counter()
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(data.x_train), (batch_size,), generator=generator)
        x, y = data.x_train[index], data.y_train[index]
        result.losses.append(train_step(model, optimizer, x, y, bar))
    if bar is not None:
        bar.close()
    result.seconds = time.perf_counter() - start
    result.test_accuracy, result.test_loss = evaluate(model, data.x_test, data.y_test)
    return result
