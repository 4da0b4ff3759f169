"""Mask sources: pruning-at-initialization scores that choose a model's masks, on which
the paper builds its {base, AI, EOI} variants (issue 14). Each returns {weight name: bool
mask} for the weights eoi_ext.layers finds; sparsify(model, None, distribution=masks)
then gives EOI each layer's realized density.

- snip_masks: SNIP (Lee, Ajanthan and Torr, ICLR 2019), one-batch connection saliency.
- grasp_masks: GraSP (Wang, Zhang and Grosse, ICLR 2020), Hessian-gradient product.
- synflow_masks: SynFlow (Tanaka et al., NeurIPS 2020), data-free, iterative, global.
"""

from .grasp import GRASP_TEMPERATURE, grasp_masks
from .snip import snip_masks
from .synflow import SYNFLOW_ROUNDS, synflow_masks

__all__ = ["GRASP_TEMPERATURE", "SYNFLOW_ROUNDS", "grasp_masks", "snip_masks", "synflow_masks"]
