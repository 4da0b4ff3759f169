"""Pure-PyTorch fallback: the compiled pipeline step by step, on any device.

The five functions have the signatures of the compiled ops (eoi_ext.ops), so
eoi_ext.backend.kernels can return either. Each module mirrors one file of csrc/core,
and checks.py the bindings' argument checks:

    csrc/core/support_tracker.*   support_tracker.py   sampling, tracking, stopping rules
    csrc/core/rotation_levels.*   rotation_levels.py   ASAP levels
    csrc/core/apply_rotations.h   apply_rotations.py   rows of A, level by level
    csrc/core/support_mask.*      support_mask.py      masks and the top-up
    csrc/checks.h                 checks.py            argument checks (also run by the
                                                       fake kernels of eoi_ext/ops.py)

csrc/core/random_stream.h is mirrored by eoi_ext/random_stream.py, outside this package
because the block top-up and the tests use it as the contract (docs/backends.md).
"""

from .apply_rotations import apply_plans
from .rotation_levels import rotation_levels
from .support_mask import support_masks, top_up_masks
from .support_tracker import sample_plans

__all__ = ["apply_plans", "rotation_levels", "sample_plans", "support_masks", "top_up_masks"]
