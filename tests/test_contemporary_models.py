"""The paper's contemporary networks (eoi_ext.models) against plain transcriptions of
the published models/cifar_resnet.py, vgg_plain.py and vgg.py: the same parameter names
and shapes, the same eval-mode output with the weights copied; argument checks; every
activation; sparsify and the published uni_skip. (With torchvision: tests/zoo.)"""

from __future__ import annotations

import sys
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import eoi_ext
from eoi_ext.models import ACTIVATIONS, cifar_resnet, cifar_vgg16, efficientnet_b0, vgg16

# models/cifar_resnet.py, Model.__init__: the functional activations by name.
FUNCTIONS = {"relu": F.relu, "tanh": torch.tanh, "selu": F.selu, "lrelu": F.leaky_relu}


class PublishedBlock(nn.Module):  # models/cifar_resnet.py, Model.Block
    def __init__(self, f_in: int, f_out: int, downsample: bool, actv_fn) -> None:
        super().__init__()
        self.actv_fn = actv_fn
        self.conv1 = nn.Conv2d(f_in, f_out, 3, 2 if downsample else 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        self.shortcut = nn.Sequential()
        if downsample or f_in != f_out:
            conv, bn = nn.Conv2d(f_in, f_out, 1, 2, bias=False), nn.BatchNorm2d(f_out)
            self.shortcut = nn.Sequential(OrderedDict([("conv", conv), ("bn", bn)]))

    def forward(self, x):
        out = self.actv_fn(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return self.actv_fn(out)


class PublishedResNet(nn.Module):  # models/cifar_resnet.py, Model (last="logits")
    def __init__(self, depth: int, width: int, actv_fn) -> None:
        super().__init__()
        self.actv_fn, n = actv_fn, (depth - 2) // 6
        plan = [(width, n), (2 * width, n), (4 * width, n)]
        current = plan[0][0]
        self.conv = nn.Conv2d(3, current, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(current)
        blocks = []
        for segment, (filters, count) in enumerate(plan):
            for index in range(count):
                downsample = segment > 0 and index == 0
                blocks.append(PublishedBlock(current, filters, downsample, actv_fn))
                current = filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(plan[-1][0], 10)

    def forward(self, x):
        out = self.blocks(self.actv_fn(self.bn(self.conv(x))))
        out = F.avg_pool2d(out, out.size()[3])
        return self.fc(out.view(out.size(0), -1))


# models/vgg_plain.py's VGG_CONFIGS "D" and "C"; models/vgg.py's defaultcfg[16] is D[:-1].
D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
C = [*D[:8], (1, 256), "M", 512, 512, (1, 512), "M", 512, 512, (1, 512), "M"]


def published_vgg_plain(config: str) -> nn.Module:  # models/vgg_plain.py, VGG16
    layers, in_channels = [], 3
    for v in C if config == "C" else D:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            continue
        kernel_size, v = v if isinstance(v, tuple) else (3, v)
        layers += [nn.Conv2d(in_channels, v, kernel_size, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
        in_channels = v
    head = [nn.Linear(2048 if config == "C" else 512, 512), nn.ReLU(), nn.BatchNorm1d(512)]
    if config != "like":
        head += [nn.Linear(512, 512), nn.ReLU(), nn.BatchNorm1d(512)]
    model = nn.Sequential(OrderedDict(features=nn.Sequential(*layers), flatten=nn.Flatten()))
    model.classifier = nn.Sequential(*head, nn.Linear(512, 10))
    return model


def published_vgg(fixed: bool) -> nn.Module:  # models/vgg.py, VGG(depth=16), batchnorm
    layers, in_channels = [], 3
    for i, v in enumerate(D[:-1]):
        if v == "M":
            layers += [(f"maxpool{i}", nn.MaxPool2d(kernel_size=2, stride=2))]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1, bias=False)
            actv = (f"actv{i}" if fixed else "actv{i}", nn.ReLU(inplace=True))  # as published
            layers += [(f"conv{i}", conv2d), (f"bn{i}", nn.BatchNorm2d(v)), actv]
            in_channels = v
    feature, head = nn.Sequential(OrderedDict(layers)), nn.Linear(512, 10)
    pool, flatten = nn.AvgPool2d(2), nn.Flatten()  # forward: x.view(x.size(0), -1)
    return nn.Sequential(OrderedDict(feature=feature, pool=pool, flatten=flatten, classifier=head))


def same_as_published(ours: nn.Module, published: nn.Module) -> None:
    """Same parameters (names and shapes, in order) and the same eval-mode output with the
    published state dict (BatchNorm randomized) loaded into ours."""
    shapes = [(n, p.shape) for n, p in ours.named_parameters()]
    assert shapes == [(n, p.shape) for n, p in published.named_parameters()]
    torch.manual_seed(0)
    with torch.no_grad():
        for m in published.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                for tensor in (m.running_mean, m.weight, m.bias):
                    tensor.normal_()
                m.running_var.uniform_(0.5, 2.0)
    ours.load_state_dict(published.state_dict())  # strict: the same buffers too
    ours.eval(), published.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours(x), published(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("depth", "width", "name", "count"),  # count: the published model's parameters
    [(8, 4, "tanh", 5214), (20, 8, "lrelu", 68786), (32, 16, "relu", 466906),
     (56, 16, "selu", 855770), (110, 16, "relu", 1730714)],
)  # fmt: skip
def test_resnet_is_the_published_one(depth, width, name, count):
    model = cifar_resnet(depth, name, width=width)
    same_as_published(model, PublishedResNet(depth, width, FUNCTIONS[name]))
    assert sum(p.numel() for p in model.parameters()) == count
    shortcuts = [n for n, _ in model.named_modules() if n.endswith("shortcut.conv")]
    assert shortcuts == [f"blocks.{(depth - 2) // 6 * k}.shortcut.conv" for k in (1, 2)]


@pytest.mark.parametrize(
    ("build", "published", "count", "relus"),  # vgg16: the paper's (specs/.../vgg.py: vgg-C)
    [(vgg16, lambda: published_vgg_plain("C"), 11323466, 15),
     (lambda: vgg16(config="D"), lambda: published_vgg_plain("D"), 15255626, 15),
     (lambda: vgg16(config="like"), lambda: published_vgg_plain("like"), 14991946, 14),
     (cifar_vgg16, lambda: published_vgg(fixed=True), 14724042, 13),
     (lambda: cifar_vgg16(published_activations=True), lambda: published_vgg(False), 14724042, 1)],
)  # fmt: skip
def test_vgg_is_the_published_one(build, published, count, relus):
    model = build()
    same_as_published(model, published())
    assert sum(p.numel() for p in model.parameters()) == count
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == relus


@pytest.mark.parametrize("depth", [30, 2, 7, 9])
def test_resnet_depth_must_be_6n_plus_2(depth):
    with pytest.raises(ValueError, match=rf"^depth must be 6n\+2 .*, got {depth}$"):
        cifar_resnet(depth)


BAD_ARGUMENTS = [  # (builder, kwargs, error): the error names the last kwarg
    (cifar_resnet, {"depth": 0}, ValueError), (cifar_resnet, {"depth": 8.0}, TypeError),
    (cifar_resnet, {"depth": 8, "width": 0}, ValueError),
    (cifar_resnet, {"depth": 8, "num_classes": True}, TypeError),
    (vgg16, {"config": "E"}, ValueError), (vgg16, {"batchnorm": 1}, TypeError),
    (cifar_vgg16, {"activation": "gelu"}, ValueError),
    (cifar_vgg16, {"published_activations": None}, TypeError),
    (efficientnet_b0, {"num_classes": 0}, ValueError),
]  # fmt: skip


@pytest.mark.parametrize(("build", "kwargs", "error"), BAD_ARGUMENTS)
def test_arguments_are_checked(build, kwargs, error):
    with pytest.raises(error, match=f"^{list(kwargs)[-1]} must"):
        build(**kwargs)


@pytest.mark.parametrize("name", [*ACTIVATIONS, "lrelu", "hard_tanh"])
def test_every_activation(name):
    cls = eoi_ext.models.activation(name)
    for model in (cifar_resnet(8, name, width=4), vgg16(name, config="like"), cifar_vgg16(name)):
        acts = [m for m in model.modules() if isinstance(m, cls)]
        assert len(acts) >= 3 and all(type(m) is cls for m in acts)
        assert model(torch.randn(2, 3, 32, 32)).isfinite().all()


@pytest.mark.parametrize(
    ("build", "dense"),
    [(lambda: cifar_resnet(32), {"conv.weight", "fc.weight"}),
     (vgg16, {"features.0.weight", "classifier.0.weight", "classifier.6.weight"}),
     (cifar_vgg16, {"feature.conv0.weight", "classifier.weight"})],
)  # fmt: skip
def test_sparsify_and_the_published_uni_skip(build, dense):
    model = build()
    densities = eoi_ext.layer_densities(model, 0.05, "uni_skip")
    assert {name for name, d in densities.items() if d == 1.0} == dense
    assert set(densities.values()) == {1.0, 0.05}
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert sorted(densities) == sorted(f"{n}.weight" for n in convs)  # BatchNorm is not one
    sparse = eoi_ext.sparsify(model, 0.1)
    assert sparse.masks and all(0.0 < d <= 1.0 for d in sparse.densities.values())
    assert model(torch.randn(2, 3, 32, 32)).isfinite().all()


def test_erk_gives_the_1x1_shortcuts_more_density_than_their_3x3_neighbours():
    erk = eoi_ext.layer_densities(cifar_resnet(32), 0.05, "erk")
    assert all(
        erk[f"blocks.{b}.shortcut.conv.weight"] > 2 * erk[f"blocks.{b}.conv2.weight"]
        for b in (5, 10)
    )


def test_efficientnet_b0_needs_torchvision(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.models", None)
    with pytest.raises(ImportError, match=r"needs torchvision: pip install torchvision"):
        efficientnet_b0()
