"""The initializations EOI is compared with, in the shape sparsify uses
(docs/algorithm.md, "Baselines").

Every builder returns new (weights, masks) stacks of shape (count, *shape) for `count`
weights of one shape whose rows form `groups` blocks (conv groups, RNN gates, q/k/v):
Each takes given masks (a mask source's, eoi_ext.mask_sources) or draws its own.
- random_sparse: a uniformly random mask with round(density * numel) entries per weight,
  Kaiming-normal values inside it, std gain / sqrt(density * fan_in).
- orthogonal_base ("base", the paper's): dense torch.nn.init.orthogonal_ per block
  (conv_orthogonal kernels for 2-D convs), then a mask, not rescaled (the result is no
  longer orthogonal).
- published_isometry ("ai"): approximate isometry (Lee et al., ICLR 2020) as the
  published EOI code runs it: the unsquared norm, plain SGD at 0.1, from
  orthogonal_base, 1000 iterations.
- approximate_isometry ("ai_kaiming"): gradient descent on the squared norm from
  random_sparse.
- svd_isometry ("svd_ai"): alternate the polar factor and the mask.
- sao (Esguerra et al. 2023, as the published EOI code's sao/ builds it): Ramanujan
  bi-regular masks with orthogonal values on them, delta kernels for convs; its own
  masks only (the construction is the mask), at the densities sao_degree accepts.
And one dense builder, the published code's base for CNNs: conv_orthogonal (Xiao et al.
2018, Algorithm 1), kernels (count, *shape) orthogonal on periodic signals.
The published EOI algorithm itself is eoi_ext.reference.
"""

from .conv_orthogonal import conv_orthogonal
from .isometry import AI_STEPS, SVD_ITERATIONS, approximate_isometry, isometry_errors, svd_isometry
from .orthogonal_base import orthogonal_base
from .published_isometry import PUBLISHED_AI_ITERATIONS, published_isometry
from .ramanujan import sao_degree
from .random_sparse import check_builder, fan_in, masks_or_random, random_masks, random_sparse
from .sao import sao

__all__ = [
    "AI_STEPS",
    "PUBLISHED_AI_ITERATIONS",
    "SVD_ITERATIONS",
    "approximate_isometry",
    "check_builder",
    "conv_orthogonal",
    "fan_in",
    "isometry_errors",
    "masks_or_random",
    "orthogonal_base",
    "published_isometry",
    "random_masks",
    "random_sparse",
    "sao",
    "sao_degree",
    "svd_isometry",
]
