"""Where masks and masked weights sit in a state dict (docs/masking.md, "Saving and
loading"): ``<module>.<attr>_eoi_mask`` buffers under hooks masking, and
``<module>.parametrizations.<attr>.0.eoi_mask`` / ``.original`` under parametrize
masking."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from .gradient_masks import mask_buffer_name
from .layer_weight import qualified_name
from .tied_weights import holders_by_tensor

__all__ = ["FIXED_SUFFIX", "check_keys", "masks_in", "weight_key"]

_BUFFER_SUFFIX = mask_buffer_name("")  # "_eoi_mask"
FIXED_SUFFIX = ".0.eoi_mask"  # a FixedMask's buffer, first in its ParametrizationList


def masks_in(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The eoi_ext masks a state dict holds, by the name of the weight each masks.

    Args:
        state_dict: any state dict (a sparsified model's, a checkpoint file's); keys that
            are not eoi_ext masks are ignored.

    Returns:
        {weight name: bool mask}, for eoi_ext.fix_masks.

    Examples:
        >>> model = torch.nn.Sequential(torch.nn.Linear(8, 8))
        >>> _ = eoi_ext.sparsify(model, 0.5, distribution="uniform")
        >>> list(eoi_ext.masks_in(model.state_dict()))
        ['0.weight']
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    return {_weight_name(key): value for key, value in state_dict.items() if _weight_name(key)}


def _weight_name(key: str) -> str | None:
    """The weight whose mask `key` holds, or None for any other key."""
    if key.endswith(FIXED_SUFFIX):  # <module>.parametrizations.<attr>.0.eoi_mask
        parts = key[: -len(FIXED_SUFFIX)].split(".")
        if len(parts) >= 2 and parts[-2] == "parametrizations":
            return qualified_name(".".join(parts[:-2]), parts[-1])
        return None
    if key.endswith(_BUFFER_SUFFIX) and len(key) > len(_BUFFER_SUFFIX):
        return key[: -len(_BUFFER_SUFFIX)]  # <module>.<attr>_eoi_mask
    return None


def weight_key(name: str, masking: str) -> str:
    """Where a masked weight's values are in the state dict."""
    if masking == "hooks":
        return name
    prefix, _, attr = name.rpartition(".")
    return qualified_name(prefix, f"parametrizations.{attr}.original")


def check_keys(
    model: nn.Module, state_dict: Mapping[str, Tensor], chosen: dict, masking: str
) -> bool:
    """The keys and shapes the model will have once its masks are fixed must be the
    state dict's, so that load_state_dict cannot fail half way. A tied tensor may be
    saved under one of its holders' keys only (save_pretrained drops the others).
    Returns whether such keys are missing (then load non-strictly: the tie fills them)."""
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    for layer, _ in chosen.values():
        shape = expected[layer.name]
        if masking == "hooks":  # one buffer, on the first holder
            expected[qualified_name(layer.module_name, mask_buffer_name(layer.attr))] = shape
            continue
        for holder in layer.holders:
            expected.pop(holder.name)
            original = weight_key(holder.name, masking)
            expected[original] = shape
            expected[original[: -len(".original")] + FIXED_SUFFIX] = shape
    tied = _tied_keys(model, expected, masking, state_dict)
    missing = sorted(set(expected) - set(state_dict) - tied)
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"state_dict does not match the model: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}"
        )
    for key, shape in expected.items():
        if key in state_dict and tuple(state_dict[key].shape) != shape:
            raise ValueError(
                f"state_dict[{key!r}] has shape {tuple(state_dict[key].shape)}, the model {shape}"
            )
    return bool(tied)


def _tied_keys(
    model: nn.Module, expected: dict, masking: str, state_dict: Mapping[str, Tensor]
) -> set[str]:
    """Keys of tied holders absent from the state dict while another holder's is there."""
    absent: set[str] = set()
    for holders in holders_by_tensor(model).values():
        keys = [h.name if h.name in expected else weight_key(h.name, masking) for h in holders]
        if any(key in state_dict for key in keys):
            absent.update(key for key in keys if key not in state_dict)
    return absent
