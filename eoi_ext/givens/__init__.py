"""Rotation plans: the lower-level pieces every EOI matrix is built from.

An EOI matrix of shape (rows, cols) is W = gain * A (rows <= cols) or gain * A^T
(rows > cols) with A = [I_n | 0] G_1 ... G_R, n = min(rows, cols), m = max(rows, cols),
and G_k a Givens rotation in the plane (i_k, j_k) by angle theta_k (docs/algorithm.md,
"One matrix").

A :class:`RotationPlan` holds everything random about `count` such matrices: one seed
per matrix (drawn from a torch.Generator), the pairs and angles of their rotations, and
the symbolic support of A that fixes the mask. Building a plan is cheap (no floating
point on A); :func:`apply_plan` and :func:`support_mask` then write the weights and
masks, whole or any block ``row_range=`` / ``col_range=`` of W, on any device, and
:func:`top_up_` adds the exact-density top-up:

    plan = sample_plan(1024, 1024, 0.1)
    W = apply_plan(plan)[0]                          # (1024, 1024) float32
    M = support_mask(plan)[0]                        # (1024, 1024) bool
    shard = apply_plan(plan, row_range=(0, 256))[0]  # W[0:256], computed alone
    levels = rotation_levels(plan)  # rotations of one level touch disjoint coordinates

Sampling contract (docs/random-stream.md): the seed of matrix b is draw number b of
``torch.randint(0, 2**63 - 1, (count,), generator=generator)``; pairs, angles and
top-up positions are pure functions of the seed (eoi_ext.random_stream), so every
backend builds the same matrix from the same generator state, and a batch of count
matrices equals count consecutive single calls.
"""

from ..top_up import top_up_
from .blocks import adjoint_rotations, apply_plan, support_mask
from .rotation_plan import RotationPlan, select
from .sampling import SEED_BOUND, draw_seeds, plan_from_seeds, rotation_levels, sample_plan

__all__ = [
    "SEED_BOUND",
    "RotationPlan",
    "adjoint_rotations",
    "apply_plan",
    "draw_seeds",
    "plan_from_seeds",
    "rotation_levels",
    "sample_plan",
    "select",
    "support_mask",
    "top_up_",
]
