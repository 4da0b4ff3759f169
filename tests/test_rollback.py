"""Nothing half-changed (issue 12, case 2; docs/reliability.md, "Nothing half-changed"):
after any failed sparsify, at any stage and for any exception (KeyboardInterrupt
included), the model is exactly as it was: values, parameters, module classes, hooks."""

from __future__ import annotations

import importlib
import warnings

import pytest
import torch
from torch import nn

import eoi_ext
from eoi_ext import model_changes
from eoi_ext.gradient_masks import masked_parameters
from eoi_ext.sparse_model import MASKINGS

sparsify_module = importlib.import_module("eoi_ext.sparsify")  # eoi_ext.sparsify: the function


def model() -> nn.Module:
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.LSTM(16, 8),
    )  # fmt: skip
    tied = nn.Sequential(net, nn.Linear(16, 16), nn.Linear(16, 16))
    tied[2].weight = tied[1].weight
    return tied


def snapshot(net: nn.Module) -> tuple:
    values = {k: v.detach().clone() for k, v in net.state_dict(keep_vars=True).items()}
    structure = [(name, type(m), len(m._forward_pre_hooks)) for name, m in net.named_modules()]
    parameters = [(name, id(p)) for name, p in net.named_parameters(remove_duplicate=False)]
    hooks = [
        (len(p._post_accumulate_grad_hooks or {}), p in masked_parameters) for p in net.parameters()
    ]
    return values, structure, parameters, hooks


def assert_unchanged(net: nn.Module, before: tuple) -> None:
    values, structure, parameters, hooks = snapshot(net)
    assert structure == before[1] and parameters == before[2] and hooks == before[3]
    assert list(values) == list(before[0])
    for name, value in values.items():
        assert torch.equal(value, before[0][name]), name


def failing_on_call(function, call: int, error: BaseException):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(None)
        if len(calls) == call:
            raise error
        return function(*args, **kwargs)

    return wrapper


STAGES = [
    (sparsify_module, "densities_of"),
    (sparsify_module, "layer_values"),
    (sparsify_module, "bias_values"),
    (model_changes, "_swap_in"),
]
STAGES = [(owner, name, masking) for owner, name in STAGES for masking in MASKINGS] + [
    (model_changes, "_fix", "parametrize"),
    (model_changes.parametrize, "register_parametrization", "parametrize"),  # torch, late
    (model_changes, "_fix_with_hooks", "hooks"),
    (nn.Module, "register_buffer", "hooks"),
    (torch.Tensor, "register_post_accumulate_grad_hook", "hooks"),
    (model_changes, "hook_gradient", "hooks"),
    (nn.Module, "register_forward_pre_hook", "hooks"),
]


@pytest.mark.parametrize("error", [RuntimeError("injected"), KeyboardInterrupt()])
@pytest.mark.parametrize(("owner", "name", "masking"), STAGES)
def test_a_failure_at_any_stage_leaves_the_model_unchanged(
    owner, name, masking, error, monkeypatch
):
    function = getattr(owner, name)
    for call in range(1, 40):
        net = model()
        before = snapshot(net)
        monkeypatch.setattr(owner, name, failing_on_call(function, call, error))
        try:
            eoi_ext.sparsify(net, 0.3, bias_std=0.1, exact_density=True, masking=masking)
        except type(error):
            assert_unchanged(net, before)
            continue
        finally:
            monkeypatch.setattr(owner, name, function)
        assert call > 1, f"{name} was never called"
        return  # every call of this stage has failed once
    pytest.fail(f"{name} kept failing")


def old_weight_norm(net: nn.Module) -> None:
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(net[2])


def expanded(net: nn.Module) -> None:
    net[2].weight = nn.Parameter(torch.zeros(1, 16).expand(16, 16))


def inference_tensor(net: nn.Module) -> None:
    with torch.inference_mode():
        weight = torch.zeros(16, 16)
    net[2].weight = nn.Parameter(weight, requires_grad=False)


def integer_bias(net: nn.Module) -> None:
    net[2].bias = nn.Parameter(torch.zeros(16, dtype=torch.long), requires_grad=False)


def pruned(net: nn.Module) -> None:
    import torch.nn.utils.prune as prune

    prune.l1_unstructured(net[2], "weight", 0.5)


def old_spectral_norm(net: nn.Module) -> None:
    torch.nn.utils.spectral_norm(net[2])


def parametrized(net: nn.Module) -> None:
    torch.nn.utils.parametrizations.orthogonal(net[2])


BAD_LAST_LAYERS = [
    (old_weight_norm, ValueError, r"2\.weight is computed by torch\.nn\.utils\.weight_norm"),
    (expanded, ValueError, r"2\.weight has overlapping memory"),
    (inference_tensor, ValueError, r"2\.weight was created in torch\.inference_mode"),
    (integer_bias, TypeError, r"2\.bias must be floating point"),
    (pruned, ValueError, r"2\.weight is pruned by torch\.nn\.utils\.prune"),
    (old_spectral_norm, ValueError, r"2\.weight is computed by torch\.nn\.utils\.spectral_norm"),
    (parametrized, ValueError, r"2\.weight is parametrized by _Orthogonal"),
]


@pytest.mark.parametrize(("spoil", "error", "message"), BAD_LAST_LAYERS)
def test_a_bad_last_layer_is_named_and_nothing_changes(spoil, error, message):
    net = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16))
    spoil(net)
    before = snapshot(net)
    with pytest.raises(error, match=message):
        eoi_ext.sparsify(net, 0.5, bias_std=0.1)
    assert_unchanged(net, before)


def test_a_warning_turned_into_an_error_changes_nothing():
    net = nn.Sequential(nn.Bilinear(16, 16, 16), nn.Linear(16, 16))
    before = snapshot(net)
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="left these modules dense"):
        warnings.simplefilter("error")
        eoi_ext.sparsify(net, 0.5)
    assert_unchanged(net, before)


@pytest.mark.parametrize("shape", [(16, 24), (8, 4, 3, 3)])
def test_init_writes_the_weights_last(shape, monkeypatch):
    """init.sparse_orthogonal_ writes straight into the tensor (out=): the masks come
    first, so a failure there leaves the tensor as it was (before: weights written)."""
    build_module = importlib.import_module("eoi_ext.build")

    def failing(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "_matrix_masks", failing)
    tensor = torch.full(shape, 7.0)
    with pytest.raises(KeyboardInterrupt):
        eoi_ext.init.sparse_orthogonal_(tensor, 0.5)
    assert (tensor == 7.0).all()
