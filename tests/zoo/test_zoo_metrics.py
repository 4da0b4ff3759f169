"""eoi_ext.metrics.orthogonality_errors on a real model (issue 13): torchvision resnet50
after sparsify(model, 0.1), every weight measured on its masked value, convolutions as
maps on periodic signals. Its time is printed (pytest -s), not asserted: the target is
under 2 s on the 2-core CI machine (benchmarks/zoo.py measures it too).

Runs in the zoo venv (scripts/zoo_venv.sh); skipped where torchvision is missing.
"""

from __future__ import annotations

import time

import pytest
import torch
from zoo_checks import ORTHO_TOL, sparsify

import eoi_ext

models = pytest.importorskip("torchvision.models")


def test_resnet50_orthogonality_errors() -> None:
    torch.manual_seed(0)
    model = models.resnet50(weights=None)
    sparse, _ = sparsify(model)
    start = time.perf_counter()
    errors = eoi_ext.metrics.orthogonality_errors(model)
    print(f"\nresnet50 orthogonality_errors: {time.perf_counter() - start:.2f} s")
    assert set(errors) == set(sparse.masks)
    assert len(errors) == 54  # 53 convolutions and the classifier
    bad = {name: error for name, error in errors.items() if not error < ORTHO_TOL}
    assert not bad, bad
