"""The initializations EOI is compared with, in the shape sparsify uses
(docs/algorithm.md, "Baselines").

Every builder returns new (weights, masks) stacks of shape (count, *shape) for `count`
weights of one shape whose rows form `groups` blocks (conv groups, RNN gates, q/k/v):
- random_sparse: a uniformly random mask with round(density * numel) entries per weight,
  Kaiming-normal values inside it, std gain / sqrt(density * fan_in).
- orthogonal_masked: dense torch.nn.init.orthogonal_ per block, then a random mask (the
  result is no longer orthogonal).
- approximate_isometry ("ai", Lee et al., ICLR 2020): given masks, gradient descent
  towards orthogonality per block, from random_sparse.
- published_isometry ("ai_published"): approximate isometry as the published EOI code
  runs it: the unsquared norm, plain SGD at 0.1, from orthogonal_masked, 1000 iterations.
- svd_isometry ("svd_ai"): alternate the polar factor and the mask.
And one dense builder, the published code's base for CNNs: conv_orthogonal (Xiao et al.
2018, Algorithm 1), kernels (count, *shape) orthogonal on periodic signals.
The published EOI algorithm itself is eoi_ext.reference.
"""

from .conv_orthogonal import conv_orthogonal
from .isometry import AI_STEPS, SVD_ITERATIONS, approximate_isometry, isometry_errors, svd_isometry
from .orthogonal_masked import orthogonal_masked
from .published_isometry import PUBLISHED_AI_ITERATIONS, published_isometry
from .random_sparse import check_builder, fan_in, random_masks, random_sparse

__all__ = [
    "AI_STEPS",
    "PUBLISHED_AI_ITERATIONS",
    "SVD_ITERATIONS",
    "approximate_isometry",
    "check_builder",
    "conv_orthogonal",
    "fan_in",
    "isometry_errors",
    "orthogonal_masked",
    "published_isometry",
    "random_masks",
    "random_sparse",
    "svd_isometry",
]
