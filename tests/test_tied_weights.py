"""Tied weights (issue 12, case 1; docs/reliability.md, "Tied weights"): a tensor that
several modules hold is one weight: initialized once, one mask fixed on every holder,
counted once, and still one tensor after remove()."""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import assert_orthogonal
from torch import nn
from torch.nn.utils import parametrize

import eoi_ext
from eoi_ext.layers import find_layer_weights
from eoi_ext.sparse_model import MASKINGS


def tied_pair() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32))
    model[2].weight = model[0].weight
    return model


def language_model(vocab: int = 50, width: int = 16) -> nn.ModuleDict:
    """An embedding tied to the output projection, as GPT-2 and T5 do."""
    model = nn.ModuleDict({"wte": nn.Embedding(vocab, width), "lm_head": nn.Linear(width, vocab)})
    model["lm_head"].weight = model["wte"].weight
    return model


@pytest.mark.parametrize("masking", MASKINGS)
def test_tied_linears_get_one_mask_and_one_init(masking):
    model = tied_pair()
    g = torch.Generator().manual_seed(0)
    sparse = eoi_ext.sparsify(model, 0.2, distribution="uniform", masking=masking, generator=g)
    assert list(sparse.masks) == ["0.weight"]  # before: two masks on one tensor
    if masking == "parametrize":
        first, second = model[0].parametrizations.weight, model[2].parametrizations.weight
        assert first.original is second.original  # still one trainable tensor
        assert first[0] is second[0]  # one FixedMask, one mask buffer
    else:
        assert model[0].weight is model[2].weight  # the tie untouched
        assert hasattr(model[0], "weight_eoi_mask") and not hasattr(model[2], "weight_eoi_mask")
    assert torch.equal(model[0].weight, model[2].weight)
    assert_orthogonal(model[0].weight)  # before: overwritten by a second init (error 0.98)
    assert len(list(model.parameters())) == 3  # the weight once, two biases
    assert sparse.density == pytest.approx(float(sparse.masks["0.weight"].float().mean()))
    assert model[2].bias.abs().sum() == 0  # the tie's own bias is initialized too


@pytest.mark.parametrize("masking", MASKINGS)
def test_training_keeps_both_holders_masked(masking):
    model = tied_pair()
    sparse = eoi_ext.sparsify(model, 0.2, distribution="uniform", masking=masking)
    mask = sparse.masks["0.weight"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        model(torch.randn(8, 32)).square().sum().backward()
        optimizer.step()
    for index in (0, 2):
        assert (model[index].weight[~mask] == 0).all()


@pytest.mark.parametrize("masking", MASKINGS)
def test_remove_keeps_the_tie_and_the_masked_values(masking):
    model = tied_pair()
    sparse = eoi_ext.sparsify(model, 0.2, distribution="uniform", masking=masking)
    masked = model[0].weight.detach().clone()
    sparse.remove()
    assert not parametrize.is_parametrized(model[0]) and not parametrize.is_parametrized(model[2])
    assert model[0].weight is model[2].weight  # before: remove() changed the other layer
    assert isinstance(model[0].weight, nn.Parameter)
    assert torch.equal(model[0].weight, masked)


def test_an_embedding_and_its_tied_head_are_dense_by_choice():
    model = language_model()
    model["mlp"] = nn.Linear(16, 16)
    before = model["wte"].weight.detach().clone()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dense by choice: no warning
        sparse = eoi_ext.sparsify(model, 0.25, distribution="uniform")
    assert list(sparse.masks) == ["mlp.weight"]
    assert (
        torch.equal(model["wte"].weight, before) and model["lm_head"].weight is model["wte"].weight
    )
    text = sparse.summary()
    assert "left dense: wte (Embedding: dense by choice, an embedding)" in text
    assert "left dense: lm_head (Linear: dense by choice, tied to the embedding wte.weight)" in text
    with pytest.raises(ValueError, match="embeddings=True"):
        eoi_ext.sparsify(language_model(), 0.25)


@pytest.mark.parametrize("masking", MASKINGS)
def test_embedding_tied_to_lm_head_is_masked_with_it_on_request(masking):
    model = language_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the embedding is not "left dense"
        sparse = eoi_ext.sparsify(
            model, 0.25, distribution="uniform", embeddings=True, masking=masking
        )
    mask = sparse.masks["wte.weight"]  # the first holder names it
    tokens = torch.arange(50)
    assert torch.equal(model["wte"](tokens), model["lm_head"].weight)  # the masked matrix
    assert (model["wte"].weight[~mask] == 0).all()
    assert_orthogonal(model["lm_head"].weight.detach())
    [layer] = find_layer_weights(model, embeddings=True)[0]
    assert [tie.name for tie in layer.ties] == ["lm_head.weight"]


@pytest.mark.parametrize("masking", MASKINGS)
def test_state_dict_round_trip_keeps_the_tie(masking):
    source, target = language_model(), language_model()
    options = {"distribution": "uniform", "embeddings": True, "masking": masking}
    eoi_ext.sparsify(source, 0.25, **options)
    eoi_ext.sparsify(target, 0.25, **options, generator=torch.Generator())
    target.load_state_dict(source.state_dict())
    assert torch.equal(target["wte"].weight, source["wte"].weight)
    if masking == "parametrize":
        wte, head = target["wte"].parametrizations.weight, target["lm_head"].parametrizations.weight
        assert wte[0] is head[0]
    else:
        assert target["wte"].weight is target["lm_head"].weight


def test_densities_count_a_tied_tensor_once():
    model = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 8), nn.Linear(64, 64))
    model[2].weight = model[0].weight
    assert list(eoi_ext.layer_densities(model, 0.5, "erk")) == ["0.weight", "1.weight"]


def test_one_tensor_split_two_ways_is_refused():
    attention = nn.MultiheadAttention(8, 2, bias=False)
    linear = nn.Linear(8, 24, bias=False)
    linear.weight = attention.in_proj_weight
    model = nn.ModuleList([attention, linear])
    before = model.state_dict()["0.in_proj_weight"].clone()
    with pytest.raises(ValueError, match="one tied tensor split into different matrices"):
        eoi_ext.sparsify(model, 0.5, distribution="uniform")
    assert torch.equal(model[0].in_proj_weight, before)
