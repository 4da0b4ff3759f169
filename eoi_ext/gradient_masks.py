"""Masks without the tax (docs/masking.md): plain weights, a mask buffer, masked gradients.

sparsify's default masking ("hooks") leaves every weight the plain nn.Parameter it was,
zero outside its mask, and keeps it so without touching the forward pass:

- the mask is a bool buffer ``<attr>_eoi_mask`` on the weight's module (in state_dict,
  moved by ``.to()``, sharded like the weight under FSDP2);
- a post-accumulate-grad hook on the parameter zeroes its gradient outside the mask
  once backward has accumulated it (after the reduce-scatter under FSDP2), so the
  gradient is the sparse model's, as clip_grad_norm_ and any optimizer see it;
- a forward pre-hook (:class:`MaskGuard`) attaches that gradient hook where it is
  missing: hooks live on tensors, and a copy of the model (copy.deepcopy, torch.save of
  the module) has the mask buffers but new parameters without hooks;
- every torch optimizer in :data:`ZERO_PRESERVING` maps a zero weight with a zero
  gradient and zero state to zero (tests/test_masking.py steps each, without the
  next line, and checks it); after a step of any other optimizer (Muon, third-party
  ones), a global step post-hook multiplies its masked weights by their masks.

The parametrization ("parametrize", eoi_ext.sparse_model.FixedMask) recomputes
``original * mask`` in every forward and its backward: 1.13x a dense SGD step of a
200-layer MLP here, against 1.05x for these hooks (benchmarks/RESULTS.md, "Real models
and masks without the tax").
"""

from __future__ import annotations

import weakref

import torch
from torch import Tensor, nn
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils.hooks import RemovableHandle
from torch.utils.weak import WeakTensorKeyDictionary

from .sharding import local

__all__ = [
    "ZERO_PRESERVING",
    "GradientMask",
    "MaskGuard",
    "hook_gradient",
    "mask_buffer_name",
    "masked_parameters",
]

ZERO_PRESERVING: frozenset[type] = frozenset({
    torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.NAdam,
    torch.optim.RAdam, torch.optim.Adamax, torch.optim.Adagrad, torch.optim.Adadelta,
    torch.optim.RMSprop, torch.optim.Rprop, torch.optim.ASGD,
})  # fmt: skip

# parameter -> its GradientMask; weak keys, and the hooks hold their modules weakly, so
# a deleted model leaves nothing behind.
masked_parameters: WeakTensorKeyDictionary = WeakTensorKeyDictionary()
_step_hook: list[object] = []


def mask_buffer_name(attr: str) -> str:
    """The buffer holding the mask of weight `attr` under hooks masking.

    Args:
        attr: the weight's attribute ("weight", "in_proj_weight", ...).

    Returns:
        "<attr>_eoi_mask" (not prune's "<attr>_mask": the two must not be mistaken).

    Examples:
        >>> eoi_ext.gradient_masks.mask_buffer_name("weight")
        'weight_eoi_mask'
    """
    return f"{attr}_eoi_mask"


class GradientMask:
    """Post-accumulate-grad hook: zeroes the gradient (its local shard) outside the mask.

    Reads the mask buffer from the module at every call, so a mask moved by ``.to()`` or
    loaded by load_state_dict is the one applied. The bool mask is multiplied as its
    uint8 view: the same bytes, and faster than a bool operand (benchmarks/mask_tax.py).
    """

    def __init__(self, module: nn.Module, attr: str) -> None:
        self.module = weakref.ref(module)
        self.buffer = mask_buffer_name(attr)

    def mask(self) -> Tensor | None:
        module = self.module()
        return None if module is None else module._buffers.get(self.buffer)

    def __call__(self, parameter: Tensor) -> None:
        mask, grad = self.mask(), parameter.grad
        if mask is not None and grad is not None:
            with torch.no_grad():
                local(grad).mul_(local(mask).view(torch.uint8))


def hook_gradient(module: nn.Module, attr: str) -> RemovableHandle:
    """Masks the gradient of module.attr after every accumulation, and registers the
    parameter for the optimizer step hook (installed once per process).

    Args:
        module: the module holding the weight and its mask buffer ``<attr>_eoi_mask``.
        attr: the weight's attribute.

    Returns:
        The gradient hook's handle; its remove() also unregisters the parameter.

    Examples:
        >>> layer = torch.nn.Linear(2, 2)
        >>> layer.register_buffer("weight_eoi_mask", torch.eye(2, dtype=torch.bool))
        >>> handle = eoi_ext.gradient_masks.hook_gradient(layer, "weight")
        >>> layer(torch.ones(1, 2)).sum().backward()
        >>> layer.weight.grad.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        >>> handle.remove()
    """
    parameter = module._parameters[attr]
    hook = GradientMask(module, attr)
    handle = parameter.register_post_accumulate_grad_hook(hook)
    if not _step_hook:
        _step_hook.append(register_optimizer_step_post_hook(_remask))
    masked_parameters[parameter] = hook
    return _Unhook(handle, parameter)


class _Unhook(RemovableHandle):
    """The gradient hook's handle, unregistering the parameter too on remove()."""

    def __init__(self, handle: RemovableHandle, parameter: Tensor) -> None:
        self.handle, self.parameter = handle, weakref.ref(parameter)

    def remove(self) -> None:
        self.handle.remove()
        parameter = self.parameter()
        if parameter is not None:
            masked_parameters.pop(parameter, None)


class MaskGuard:
    """Forward pre-hook of a module with a masked weight: attaches the gradient hook when
    the module's parameter has none (a copy of the model). One dictionary lookup per
    forward; skipped while torch.compile traces (the hook is attached eagerly)."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __call__(self, module: nn.Module, args: object) -> None:
        if torch.compiler.is_compiling():
            return
        parameter = module._parameters.get(self.attr)
        if parameter is not None and parameter not in masked_parameters:
            hook_gradient(module, self.attr)


def _remask(optimizer: torch.optim.Optimizer, args: object, kwargs: object) -> None:
    """After a step of an optimizer not known to keep zeros: weights times masks."""
    if type(optimizer) in ZERO_PRESERVING or not masked_parameters:
        return
    with torch.no_grad():
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                hook = masked_parameters.get(parameter)
                mask = None if hook is None else hook.mask()
                if mask is not None:
                    local(parameter).mul_(local(mask).view(torch.uint8))
