"""The published training recipe (eoi_ext/lab/recipe.py) and CIFAR augmentation
(eoi_ext/lab/augment.py) against github woocash2/sparser-better-deeper-stronger:
setup_utils.py (optimizer), main.py (MultiStepLR), specs/*/*.py (base_config) and
data_handling/utils.py (get_cifar10_dataloaders: reflect pad 4, RandomCrop(32),
RandomHorizontalFlip, then Normalize)."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from eoi_ext.lab.augment import augment_cifar
from eoi_ext.lab.recipe import Recipe, make_optimizer, make_scheduler


@pytest.mark.parametrize(
    ("spec", "lr", "epochs", "augment"),
    [
        ("res32", 0.1, 200, True), ("res56", 0.1, 200, True), ("res110", 0.1, 200, True),
        ("vgg16", 0.1, 200, True), ("deep-conv", 1e-4, 100, True),  # CIFAR-10: augmented
        ("deep-mlp", 1e-4, 100, False),  # MNIST: get_mnist_dataloaders does not augment
        ("loss-curves", 0.01, 100, False), ("singular-values", 0.01, 100, False),
    ],
)  # fmt: skip
def test_published_specs(spec, lr, epochs, augment):
    recipe = Recipe.published(spec)
    assert (recipe.optimizer, recipe.learning_rate, recipe.epochs, recipe.augment) == (
        "sgd", lr, epochs, augment
    )  # fmt: skip
    fixed = (recipe.momentum, recipe.nesterov, recipe.weight_decay, recipe.batch_size)
    assert fixed == (0.9, True, 1e-4, 128)
    assert (recipe.milestones, recipe.gamma, recipe.padding_mode) == ((0.5, 0.75), 0.1, "reflect")


@pytest.mark.parametrize("epochs", [1, 2, 3, 7, 99, 100, 160, 200, 201])
def test_milestones_as_main_py(epochs):
    expected = [int(epochs / 2) * 1, int(epochs * 3 / 4) * 1]  # main.py, multiplier 1
    assert Recipe(epochs=epochs).milestone_epochs() == expected


@pytest.mark.parametrize(
    ("epochs", "steps_per_epoch", "per_epoch"),
    [
        (8, 1, [0.1] * 4 + [0.01] * 2 + [0.001] * 2),
        (8, 3, [0.1] * 4 + [0.01] * 2 + [0.001] * 2),
        (2, 1, [0.1, 0.001]),  # milestones 1, 1 compound, as MultiStepLR's Counter does
        (1, 1, [0.001]),  # milestones 0, 0: the published code's 1-epoch run, too
    ],
)
def test_scheduler_drops_at_half_and_three_quarters(epochs, steps_per_epoch, per_epoch):
    recipe = Recipe(epochs=epochs)
    optimizer = make_optimizer(torch.nn.Linear(2, 2), recipe)
    scheduler = make_scheduler(optimizer, recipe, steps_per_epoch)
    rates = []
    for _ in range(recipe.epochs * steps_per_epoch):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [rate for rate in per_epoch for _ in range(steps_per_epoch)]
    assert rates == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "kind", "options"),
    [
        ("sgd", torch.optim.SGD,
         {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4, "dampening": 0}),
        ("adam", torch.optim.Adam, {"lr": 0.1, "weight_decay": 1e-4, "betas": (0.9, 0.999)}),
    ],
)  # fmt: skip
def test_make_optimizer_as_setup_utils(name, kind, options):
    model = torch.nn.Linear(3, 2)
    optimizer = make_optimizer(model, Recipe(optimizer=name))
    assert type(optimizer) is kind
    assert {key: optimizer.defaults[key] for key in options} == options
    assert optimizer.param_groups[0]["params"] == list(model.parameters())  # biases decay too


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("optimizer", "rmsprop"), ("learning_rate", 0.0), ("learning_rate", float("nan")),
        ("momentum", 1.0), ("momentum", -0.1), ("nesterov", 1), ("weight_decay", -1e-4),
        ("epochs", 0), ("epochs", 2.0), ("epochs", True), ("batch_size", 0),
        ("milestones", (0.75, 0.5)), ("milestones", (0.5, 1.5)), ("milestones", [0.5]),
        ("gamma", 0.0), ("gamma", 2.0), ("augment", "yes"), ("padding_mode", "circular"),
    ],
)  # fmt: skip
def test_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=rf"Recipe\.{field} must be"):
        Recipe(**{field: value})


def test_other_refusals():
    with pytest.raises(ValueError, match=r"Recipe\.nesterov needs Recipe\.momentum > 0"):
        Recipe(momentum=0.0)
    Recipe(momentum=0.0, nesterov=False)
    Recipe(optimizer="adam", momentum=0.0)  # Adam ignores momentum, as published
    with pytest.raises(ValueError, match="spec must be one of"):
        Recipe.published("efficientnet_fixed")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        make_scheduler(make_optimizer(torch.nn.Linear(2, 2), Recipe()), Recipe(), 0)


def _crops(image: torch.Tensor, padding: int, mode: str) -> list[torch.Tensor]:
    """Every crop and flip torchvision's RandomCrop + RandomHorizontalFlip could give."""
    padded = functional.pad(image[None], (padding,) * 4, mode=mode)[0]
    h, w = image.shape[1:]
    offsets = range(2 * padding + 1)
    crops = [padded[:, i : i + h, j : j + w] for i in offsets for j in offsets]
    return crops + [crop.flip(-1) for crop in crops]


@pytest.mark.parametrize(("mode", "torch_mode"), [("reflect", "reflect"), ("zeros", "constant")])
def test_each_image_is_a_published_crop(mode, torch_mode):
    x = torch.randn(24, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    y = augment_cifar(x, torch.Generator().manual_seed(1), padding_mode=mode)
    assert y.shape == x.shape and y.dtype == x.dtype
    for image, out in zip(x, y, strict=True):
        assert any(torch.equal(out, crop) for crop in _crops(image, 4, torch_mode))


def test_draws_cover_every_offset_and_flip_half():
    x = torch.randn(512, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = augment_cifar(x, torch.Generator().manual_seed(2))
    replay = torch.Generator().manual_seed(2)  # the documented order: offsets, then flips
    offsets = torch.randint(0, 9, (512, 2), generator=replay)
    flips = torch.rand(512, generator=replay) < 0.5
    assert set(offsets.flatten().tolist()) == set(range(9))  # 0..2 * padding, inclusive
    assert 0.4 < flips.float().mean() < 0.6
    padded = functional.pad(x, (4,) * 4, mode="reflect")
    for n in range(0, 512, 37):
        i, j = offsets[n].tolist()
        crop = padded[n, :, i : i + 8, j : j + 8]
        assert torch.equal(y[n], crop.flip(-1) if flips[n] else crop)


@pytest.mark.parametrize(("mode", "commutes"), [("reflect", True), ("zeros", False)])
def test_padding_before_or_after_normalization(mode, commutes):
    """The published loader pads raw pixels, then normalizes; data.py normalizes first."""
    raw = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor([0.49, 0.48, 0.45]), torch.tensor([0.20, 0.20, 0.20])
    normalize = lambda x: (x - mean[:, None, None]) / std[:, None, None]  # noqa: E731
    published = normalize(augment_cifar(raw, torch.Generator().manual_seed(3), padding_mode=mode))
    here = augment_cifar(normalize(raw), torch.Generator().manual_seed(3), padding_mode=mode)
    assert torch.equal(published, here) is commutes


def test_seeded_and_refusals():
    x = torch.randn(8, 3, 8, 8)
    same = [augment_cifar(x, torch.Generator().manual_seed(5)) for _ in range(2)]
    assert torch.equal(*same)
    assert not torch.equal(same[0], augment_cifar(x, torch.Generator().manual_seed(6)))
    for bad, match in [
        ({"x": x[0]}, r"\(N, C, H, W\)"),
        ({"padding": -1}, "padding must be"),
        ({"padding_mode": "circular"}, "padding_mode must be"),
        ({"padding": 8}, "reflect padding 8 needs images larger"),
    ]:
        with pytest.raises(ValueError, match=match):
            augment_cifar(**{"x": x, **bad})


@pytest.mark.parametrize("augment", [True, False])
def test_fit_trains_on_shuffled_augmented_batches(augment):
    """eoi_ext.lab.fit: a fresh order each epoch, every image once (the last batch smaller,
    as a DataLoader without drop_last), each batch augmented with the run's generator."""
    from eoi_ext.lab.data import Dataset
    from eoi_ext.lab.fit import fit

    x, y = torch.randn(40, 3, 8, 8), torch.randint(0, 2, (40,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 2))
    seen = []
    model.register_forward_pre_hook(lambda _, args: seen.append(args[0].clone()))
    recipe = Recipe(epochs=2, batch_size=16, augment=augment)
    fit(model, Dataset("toy", x, y, x[:4], y[:4], 2), recipe, generator=torch.Generator())
    replay, expected = torch.Generator(), []
    for _ in range(recipe.epochs):
        order = torch.randperm(40, generator=replay)
        batches = [x[order[i : i + 16]] for i in range(0, 40, 16)]
        expected += [augment_cifar(b, replay) if augment else b for b in batches] + [x[:4]]
    assert [batch.shape[0] for batch in seen] == [16, 16, 8, 4] * 2  # 4: the test split
    assert all(torch.equal(a, b) for a, b in zip(seen, expected, strict=True))
