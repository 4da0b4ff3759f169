"""Measurements of initialized weights."""

from __future__ import annotations

import torch
from torch import Tensor


def orthogonality_error(weight: Tensor, gain: float = 1.0) -> float:
    """max |W W^T - gain^2 I| on the smaller side of W, computed in float64.

    weight: (rows, cols) or a stack (..., rows, cols); for tall matrices W^T W is used.
    Returns the largest entry over the whole stack (0.0 for an empty stack).
    """
    w = weight.detach().to(device="cpu", dtype=torch.float64)
    if w.shape[-2] > w.shape[-1]:
        w = w.transpose(-2, -1)
    if w.numel() == 0:
        return 0.0
    eye = torch.eye(w.shape[-2], dtype=torch.float64)
    return float((w @ w.transpose(-2, -1) - gain**2 * eye).abs().max())
