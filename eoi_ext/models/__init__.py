"""The networks of the paper's experiments, plain torch modules (no residuals, no
normalization): the deep MLP, the published circular-padded deep CNN (cifar_conv), and
eoi_ext's zero-padded vanilla_cnn."""

from .activations import ACTIVATIONS, activation
from .cnn import cifar_conv, vanilla_cnn
from .mlp import deep_mlp

__all__ = ["ACTIVATIONS", "activation", "cifar_conv", "deep_mlp", "vanilla_cnn"]
