"""eoi_ext: Exact Orthogonal Initialization (EOI) of sparse neural networks.

Every sparse weight matrix is a product of random Givens rotations: exactly orthogonal
at any density, with its sparsity mask sampled together with its values (Nowak et al.,
ICML 2024). Importing never fails because the compiled extension is missing: the
pure-PyTorch fallback then runs (see eoi_ext.backend()).

The library needs only torch and numpy. The experiment lab (the `eoi` command, demo,
training, benchmarks) is eoi_ext.lab, with the extra ``pip install "eoi_ext[lab]"``.
"""

from . import baselines, conv_modes, givens, init, layers, mask_sources, metrics, models, progress
from .backends import backend, build_info, use_python_backend
from .densities import layer_densities
from .mask_keys import masks_in
from .matrices import sparse_orthogonal, sparse_orthogonal_batch
from .saved_masks import fix_masks, load_sparse
from .sparse_model import SparseModel
from .sparsify import sparsify

__version__ = "0.1.0"

__all__ = [
    "SparseModel",
    "__version__",
    "backend",
    "baselines",
    "build_info",
    "conv_modes",
    "fix_masks",
    "givens",
    "init",
    "layer_densities",
    "layers",
    "load_sparse",
    "mask_sources",
    "masks_in",
    "metrics",
    "models",
    "progress",
    "sparse_orthogonal",
    "sparse_orthogonal_batch",
    "sparsify",
    "use_python_backend",
]
