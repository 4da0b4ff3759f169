"""Per-epoch checkpoints of a training run (eoi_ext.lab.fit), written atomically.

A checkpoint holds what a run needs to continue as if never stopped: the model's state
dict (with a sparsified model's mask buffers "<attr>_eoi_mask", docs/masking.md), the
optimizer's and scheduler's, the states of the run's generator and of torch's global CPU
generator (dropout), and what fit adds (epoch, recipe, records). It is written to a
temporary file beside it and moved into place with os.replace: a run killed while saving
leaves the previous checkpoint whole, and older ones go only after that.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..mask_keys import masks_in

__all__ = ["capture", "latest_checkpoint", "load_checkpoint", "restore", "save_checkpoint"]

_NAME = re.compile(r"epoch-(\d+)\.pt")


def _checkpoints(directory: Path) -> list[Path]:
    """The files epoch-<n>.pt in directory, oldest first (not the temporary ones)."""
    found = [p for p in directory.glob("epoch-*.pt") if _NAME.fullmatch(p.name)]
    return sorted(found, key=lambda path: int(_NAME.fullmatch(path.name)[1]))


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The checkpoint of the latest epoch in directory, or None.

    Args:
        directory: where save_checkpoint wrote them (need not exist).

    Returns:
        Its path, or None when there is none.

    Examples:
        >>> eoi_ext.lab.checkpoint.latest_checkpoint("no-such-directory") is None
        True
    """
    found = _checkpoints(Path(directory))
    return found[-1] if found else None


def save_checkpoint(directory: str | Path, epoch: int, state: dict[str, Any]) -> Path:
    """Writes state as directory/epoch-<epoch>.pt atomically, then drops older ones.

    Args:
        directory: created if missing.
        epoch: the number of epochs the state has completed.
        state: tensors, numbers, strings and containers of them (torch.load with
            weights_only=True reads it back).

    Returns:
        The new checkpoint's path.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     path = eoi_ext.lab.checkpoint.save_checkpoint(directory, 3, {"epoch": 3})
        ...     (path.name, eoi_ext.lab.checkpoint.load_checkpoint(path))
        ('epoch-0003.pt', {'epoch': 3})
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"epoch-{epoch:04d}.pt"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".epoch-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    for old in _checkpoints(directory)[:-1]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Reads a checkpoint onto the CPU, with torch.load(weights_only=True).

    Args:
        path: a file save_checkpoint wrote.

    Returns:
        The state dict that was saved (load_state_dict moves values to their devices).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     path = eoi_ext.lab.checkpoint.save_checkpoint(directory, 1, {"w": torch.ones(2)})
        ...     eoi_ext.lab.checkpoint.load_checkpoint(path)
        {'w': tensor([1., 1.])}
    """
    return torch.load(path, map_location="cpu", weights_only=True)


def capture(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
) -> dict[str, Any]:
    """The training state restore brings back: state dicts and random generator states.

    Args:
        model, optimizer, scheduler: the run's (mask buffers are in the model's state).
        generator: the run's generator (shuffling, augmentation).

    Returns:
        {"model", "optimizer", "scheduler", "generator", "torch_rng"}.

    Examples:
        >>> model = torch.nn.Linear(2, 2)
        >>> sgd = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> steps = torch.optim.lr_scheduler.MultiStepLR(sgd, [1])
        >>> state = eoi_ext.lab.checkpoint.capture(model, sgd, steps, torch.Generator())
        >>> sorted(state)
        ['generator', 'model', 'optimizer', 'scheduler', 'torch_rng']
    """
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
    }


def restore(
    state: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
) -> None:
    """Loads what capture saved into a model, optimizer, scheduler and generator.

    Args:
        state: capture's dict (as load_checkpoint read it).
        model: the same architecture, sparsified (or given its masks with
            eoi_ext.fix_masks) like the saved one: the masks saved are then loaded into
            its mask buffers, which its gradient hooks read (docs/masking.md).
        optimizer: made over model like the saved one; scheduler: over optimizer.
        generator: set to the saved generator's state.

    Returns:
        None; everything is changed in place.

    Examples:
        >>> model = torch.nn.Linear(2, 2)
        >>> sgd = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> steps = torch.optim.lr_scheduler.MultiStepLR(sgd, [1])
        >>> g = torch.Generator().manual_seed(0)
        >>> state = eoi_ext.lab.checkpoint.capture(model, sgd, steps, g)
        >>> first = torch.rand(1, generator=g)
        >>> eoi_ext.lab.checkpoint.restore(state, model, sgd, steps, g)
        >>> bool(torch.equal(torch.rand(1, generator=g), first))  # the same draw again
        True
    """
    if masks_in(state["model"]) and not masks_in(model.state_dict()):
        raise ValueError(
            "the checkpoint's model is sparsified and this one is not: sparsify it the same "
            "way (or eoi_ext.fix_masks / eoi_ext.load_sparse) before resuming"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
