"""The library alone: run in a venv holding only torch, numpy and the eoi_ext wheel
(installed with --no-deps), as CI does. Everything a user of the library calls must work
without the lab extra (scikit-learn, matplotlib, tqdm), and the library must not import
the lab.

Usage: python scripts/library_smoke.py   (EOI_EXT_BACKEND=ext to require the extension)
"""

from __future__ import annotations

import importlib.util
import os
import sys

import torch
from torch import nn

import eoi_ext
from eoi_ext.metrics import orthogonality_error, orthogonality_errors

for extra in ("sklearn", "matplotlib", "tqdm"):
    assert importlib.util.find_spec(extra) is None, f"{extra} is installed: not a bare venv"
assert "site-packages" in eoi_ext.__file__, eoi_ext.__file__


class Mixed(nn.Module):
    """A conv, an LSTM, multi-head attention and a Linear: every kind of supported layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(8, 16, 3, padding=1)
        self.lstm = nn.LSTM(16, 16, batch_first=True)
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x).transpose(1, 2)
        h, _ = self.lstm(h)
        h, _ = self.attention(h, h, h)
        return self.head(h.mean(dim=1))


torch.manual_seed(0)
W, M = eoi_ext.sparse_orthogonal(256, 512, 0.1)
assert orthogonality_error(W) < 1e-5 and not W[~M].any()
layer = nn.Linear(64, 32)
mask = eoi_ext.init.sparse_orthogonal_(layer.weight, 0.2)
assert orthogonality_error(layer.weight) < 1e-5 and not layer.weight[~mask].any()

model = Mixed()
sparse = eoi_ext.sparsify(model, 0.3)
expected = {
    "conv.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "attention.in_proj_weight",
    "attention.out_proj.weight", "head.weight",
}  # fmt: skip
assert set(sparse.masks) == expected, sorted(sparse.masks)
assert max(orthogonality_errors(model).values()) < 1e-5
out = model(torch.randn(2, 8, 10))
assert out.shape == (2, 5) and torch.isfinite(out).all()
out.sum().backward()
sparse.remove()

lab = sorted(name for name in sys.modules if name.startswith("eoi_ext.lab"))
assert not lab, f"the library imported the lab: {lab}"
# The wheel ships the lab's experiment specs (pyproject.toml package-data), read as files.
specs = importlib.util.find_spec("eoi_ext").submodule_search_locations[0] + "/lab/specs"
assert os.path.isfile(f"{specs}/res32.toml"), f"the wheel lacks the specs: {specs}"
print(f"library smoke test ok ({eoi_ext.backend()}): {eoi_ext.__file__}")
