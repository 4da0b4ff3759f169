"""No silent wrong result (issue 12, cases 3, 4, 5, 7 and 8; docs/reliability.md): a gain
that overflows the dtype, flags that are not bools, the exact-density top-up of a block
within the bitsets' memory, eoi_ext in a forked child, the backend override across
threads."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import threading

import pytest
import torch
from conftest import assert_orthogonal
from torch import nn

import eoi_ext
from eoi_ext.init import sparse_orthogonal_

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_gain_whose_square_overflows_is_refused(dtype):
    limit = math.sqrt(torch.finfo(dtype).max)
    with pytest.raises(ValueError, match=r"gain must be at most .* for torch\.\w+"):
        eoi_ext.sparse_orthogonal(16, 16, 0.3, gain=1.01 * limit, dtype=dtype)
    tensor = torch.ones(16, 16, dtype=dtype)
    with pytest.raises(ValueError, match="gain must be at most"):
        sparse_orthogonal_(tensor, 0.3, gain=-1.01 * limit)
    assert (tensor == 1).all()
    with pytest.raises(ValueError, match="gain must be at most"):
        eoi_ext.sparsify(nn.Linear(16, 16).to(dtype), 0.3, gain=1.01 * limit)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_largest_gain_keeps_exact_zeros_outside_the_mask(dtype):
    gain = 0.99 * math.sqrt(torch.finfo(dtype).max)
    W, M = eoi_ext.sparse_orthogonal(16, 16, 0.3, gain=gain, dtype=dtype)
    assert torch.isfinite(W).all()  # before: 1e39 in float32 gave 177 NaN and 79 inf
    assert (W[~M] == 0).all() and (W[M] != 0).any()
    assert_orthogonal(W.double() / gain, tol=4 * torch.finfo(dtype).eps)


@pytest.mark.parametrize("value", ["False", 0, 1, None])
def test_flags_must_be_bools(value):
    with pytest.raises(TypeError, match="exact_density must be True or False"):
        eoi_ext.sparse_orthogonal(8, 8, 0.5, exact_density=value)
    tensor = torch.zeros(8, 8)
    with pytest.raises(TypeError, match="exact_density must be True or False"):
        sparse_orthogonal_(tensor, 0.5, exact_density=value)
    with pytest.raises(TypeError, match="exact_density must be True or False"):
        eoi_ext.sparsify(nn.Linear(8, 8), 0.5, exact_density=value)
    assert (tensor == 0).all()


def test_init_refuses_tensors_it_cannot_write():
    with torch.inference_mode():
        frozen = torch.zeros(8, 8)
    with pytest.raises(ValueError, match=r"tensor was created in torch\.inference_mode"):
        sparse_orthogonal_(frozen, 0.5)
    with pytest.raises(ValueError, match="tensor has overlapping memory"):
        sparse_orthogonal_(torch.zeros(1, 8).expand(8, 8), 0.5)


def run_python(code: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=dict(os.environ),
    )  # fmt: skip


def test_block_top_up_costs_the_bitsets_not_more():
    """An 8-row block of a 20000^2 matrix: exact_density adds the top-up's replay and
    some fixed scratch, not a per-byte widening of the 50 MB bitsets (before: +16x,
    0.8 GB; now about +0.1 GB, much of it first-use overhead of torch)."""
    code = """
        import json, resource, sys, eoi_ext
        from eoi_ext.build import build
        from eoi_ext.spec import WeightSpec
        exact = sys.argv[1] == "1"
        build(WeightSpec((20000, 20000), 0.001, exact_density=exact), row_range=(0, 8))
        print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    """
    peaks = {}
    for exact in ("0", "1"):
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), exact],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        peaks[exact] = json.loads(result.stdout.splitlines()[-1]) * 1024  # KiB -> bytes
    bitsets = 20000 * math.ceil(20000 / 64) * 8
    assert peaks["1"] - peaks["0"] < 4 * bitsets, peaks


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_hang():
    """The parent has used the OpenMP pool; the child builds a matrix and sparsifies a
    model (before: hung on the first parallel region)."""
    code = """
        import os, sys, warnings, torch, eoi_ext
        torch.set_num_threads(2)
        eoi_ext.sparse_orthogonal(512, 512, 0.3)
        (torch.randn(600, 600) @ torch.randn(600, 600)).sum()
        pid = os.fork()
        if pid == 0:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                W, M = eoi_ext.sparse_orthogonal(512, 512, 0.3)
                model = torch.nn.Sequential(torch.nn.Conv2d(64, 64, 3), torch.nn.Linear(64, 64))
                eoi_ext.sparsify(model, 0.3, exact_density=True)
            restored = torch.get_num_threads() == 2
            torch.set_num_threads(1)  # torch's own ops would hang here too (docs/reliability.md)
            ok = restored and bool((W[~M] == 0).all())
            ok = ok and any("single-threaded" in str(w.message) for w in caught)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """
    result = run_python(code, timeout=240)
    assert result.returncode == 0, result.stderr


def test_backend_override_interleaved_across_threads_and_after_errors():
    """Case 5: two threads enter use_python_backend(), the first leaves before the
    second; an error inside the block. Before, the process stayed on "python" for good."""
    native = eoi_ext.backend("cpu")
    steps = [threading.Event() for _ in range(3)]
    seen: dict[str, str] = {}

    def first() -> None:
        with eoi_ext.use_python_backend():
            steps[0].set()
            steps[1].wait(timeout=30)
        seen["first after"] = eoi_ext.backend("cpu")
        steps[2].set()

    def second() -> None:
        steps[0].wait(timeout=30)
        with eoi_ext.use_python_backend():
            steps[1].set()
            steps[2].wait(timeout=30)
            seen["second inside"] = eoi_ext.backend("cpu")
        seen["second after"] = eoi_ext.backend("cpu")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"first after": native, "second inside": "python", "second after": native}
    with pytest.raises(KeyError), eoi_ext.use_python_backend():
        raise KeyError("inside the block")
    assert eoi_ext.backend("cpu") == native
