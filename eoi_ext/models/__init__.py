"""The networks of the paper's experiments, plain torch modules built as the published
code builds them: the deep MLP (models/mlps.py), the circular-padded deep CNN
cifar_conv (models/convolution.py) and eoi_ext's zero-padded vanilla_cnn, none with
residuals or normalization; and the contemporary networks: the CIFAR ResNets
cifar_resnet (models/cifar_resnet.py), VGG-16 (vgg16: models/vgg_plain.py's VGG-C, the
paper's; cifar_vgg16: models/vgg.py) and torchvision's efficientnet_b0 (needs
torchvision)."""

from .activations import ACTIVATIONS, activation
from .cnn import cifar_conv, vanilla_cnn
from .efficientnet import efficientnet_b0
from .mlp import deep_mlp
from .resnet import cifar_resnet
from .vgg import cifar_vgg16, vgg16

__all__ = [
    "ACTIVATIONS",
    "activation",
    "cifar_conv",
    "cifar_resnet",
    "cifar_vgg16",
    "deep_mlp",
    "efficientnet_b0",
    "vanilla_cnn",
    "vgg16",
]
