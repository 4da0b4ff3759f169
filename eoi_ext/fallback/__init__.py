"""Pure-PyTorch fallback: the compiled pipeline step by step, on any device.

Each module mirrors one file of csrc/core and the functions have the signatures of the
compiled ops (eoi_ext.ops), so eoi_ext.givens can use either.
"""

from .apply_rotations import apply_plans
from .rotation_levels import rotation_levels
from .support_mask import support_masks, top_up_masks
from .support_tracker import sample_plans

__all__ = ["apply_plans", "rotation_levels", "sample_plans", "support_masks", "top_up_masks"]
