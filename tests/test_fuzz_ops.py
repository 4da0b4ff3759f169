"""Hypothesis fuzzing of the five ops (issue 12): valid arguments, up to two of them
replaced by another shape, dtype, stride, device (meta) or value (tests/test_op_validation.py
has the hostile ones by name). Each call ends in a clear error (CLEAR, saying "eoi_ext", no
tensor written) or a correct result (checked against a float64 replay), never in a crash.

The hypothesis loop runs in a child interpreter (this file as a script, faulthandler on),
so a segfault or abort is a failed test with the child's output, not a dead pytest. The
child fuzzes the compiled ops where EOI_EXT_BACKEND loads them (meta tensors then reach
their fake kernels, eoi_ext/ops.py), else the fallback.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
from collections.abc import Callable

import torch
from fuzz_checks import TOL, check_apply, check_levels, check_masks, check_plan, check_top_up
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from torch import Tensor

import eoi_ext
from eoi_ext import fallback, ops

CLEAR = (RuntimeError, ValueError, TypeError, IndexError)
# Hostile ints; 2^31 - 1 is left out: as m it is a valid side that allocates gigabytes.
INTS = [-(2**63), -5, -2, -1, 0, 2**31, 2**40, 2**63 - 1]
FLOATS = [math.nan, math.inf, -math.inf, 0.0, -1.0, 1.5, 1e-9]
DTYPES = [torch.bool, torch.uint8, torch.int32, torch.int64, torch.float16, torch.bfloat16,
          torch.float32, torch.float64]  # fmt: skip
SEEDS = st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3)
# No "explain" phase: on a failure it spends minutes before reporting the shrunk example.
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate, Phase.shrink])  # fmt: skip


def test_ops_never_crash() -> None:
    child = subprocess.run([sys.executable, "-X", "faulthandler", __file__], capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    code, output = child.returncode, child.stdout[-6000:] + child.stderr[-6000:]
    crash = f" (signal {signal.Signals(-code).name})" if code < 0 else ""
    assert code == 0, f"fuzz child exited {code}{crash}:\n{output}"


def mutated(data: st.DataObject, args: dict[str, object]) -> dict[str, object]:
    """args with up to two arguments replaced (often none: a valid call)."""
    args = dict(args)
    for name in data.draw(st.lists(st.sampled_from(sorted(args)), max_size=2)):
        value = args[name]
        if isinstance(value, bool):
            args[name] = not value
        elif isinstance(value, int):
            args[name] = data.draw(st.sampled_from(INTS) | st.integers(value - 3, value + 3))
        elif isinstance(value, float):
            args[name] = data.draw(st.sampled_from(FLOATS))
        else:
            args[name] = mutated_tensor(data, value)
    return args


def mutated_tensor(data: st.DataObject, t: Tensor) -> Tensor:
    """t with another dtype, layout, device, shape or values."""
    how = data.draw(st.sampled_from(["dtype", "stride", "meta", "dim", "flat", "short", "values"]))
    if how == "dtype":
        return t.to(data.draw(st.sampled_from(DTYPES)))
    if how == "stride":  # the same values, every stride doubled
        return torch.stack([t, t], -1)[..., 0]
    if how == "meta":
        return t.to("meta")
    if how in ("dim", "flat", "short"):
        return t[None] if how == "dim" else t.reshape(-1) if how == "flat" else t[:-1]
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**32)))
    if t.dtype == torch.bool or t.is_floating_point():
        return torch.randn(t.shape, generator=g).to(t.dtype)
    return torch.randint(-2, 12, t.shape, generator=g, dtype=t.dtype)


def run(op: str, args: dict[str, object], check: Callable[..., None]) -> None:
    """Calls op; a clear error must leave the tensors as they were, a result must pass check."""
    tensors = {k: v for k, v in args.items() if isinstance(v, Tensor)}
    before = {k: v.clone() for k, v in tensors.items() if not v.is_meta}
    try:
        result = getattr(IMPL, op)(**args)
    except CLEAR as error:
        assert "eoi_ext" in str(error), f"{op}: unclear {type(error).__name__}: {error}"
        for k, v in before.items():
            torch.testing.assert_close(tensors[k], v, rtol=0, atol=0, equal_nan=True)
        return
    if not any(t.is_meta for t in tensors.values()):  # meta: shapes only
        check(args, before, result)


def plan_args(data: st.DataObject) -> dict[str, object]:
    n = data.draw(st.integers(1, 10))
    m = data.draw(st.integers(n, 16))
    seeds = torch.tensor(data.draw(SEEDS), dtype=torch.int64)
    density = data.draw(st.floats(0.05, 1.0))
    return {"seeds": seeds, "n": n, "m": m, "density": density, "at_most": data.draw(st.booleans())}


def block_args(data: st.DataObject, count: int, rows: int, m: int, dtype: torch.dtype) -> dict:
    """A block of rows [0, rows) and coordinates [0, m) of count matrices, with its output."""
    r0, r1 = sorted(data.draw(st.lists(st.integers(0, rows), min_size=2, max_size=2)))
    c0, c1 = sorted(data.draw(st.lists(st.integers(0, m), min_size=2, max_size=2)))
    transposed = data.draw(st.booleans())
    shape = (count, c1 - c0, r1 - r0) if transposed else (count, r1 - r0, c1 - c0)
    end = -1 if c1 == m and data.draw(st.booleans()) else c1
    return {"row_begin": r0, "row_end": r1, "transposed": transposed, "coord_begin": c0,
            "coord_end": end, "output": torch.empty(shape, dtype=dtype)}  # fmt: skip


@FUZZ
@given(st.data())
def fuzz_plan_ops(data: st.DataObject) -> None:
    """sample_plans, then rotation_levels, apply_plans and support_masks on its plan."""
    plan = plan_args(data)
    run("sample_plans", mutated(data, plan), check_plan)
    offsets, pairs, cos_sin, support = IMPL.sample_plans(**plan)
    count, n, m = offsets.shape[0] - 1, plan["n"], plan["m"]
    run(
        "rotation_levels", mutated(data, {"offsets": offsets, "pairs": pairs, "m": m}), check_levels
    )
    block = block_args(data, count, m, m, data.draw(st.sampled_from(list(TOL))))
    args = {"offsets": offsets, "pairs": pairs, "cos_sin": cos_sin, "m": m,
            "gain": data.draw(st.floats(-3, 3)), "out": block.pop("output"), **block}  # fmt: skip
    run("apply_plans", mutated(data, args), check_apply)
    block = block_args(data, count, n, m, torch.bool)
    args = {"support": support, "n": n, "m": m, "mask": block.pop("output"), **block}
    run("support_masks", mutated(data, args), check_masks)


@FUZZ
@given(st.data())
def fuzz_top_up_masks(data: st.DataObject) -> None:
    seeds = torch.tensor(data.draw(SEEDS), dtype=torch.int64)
    rows, cols = data.draw(st.integers(0, 8)), data.draw(st.integers(0, 8))
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 99)))
    mask = torch.rand(seeds.shape[0], rows, cols, generator=g) < data.draw(st.floats(0, 1))
    args = {
        "seeds": seeds,
        "target_count": data.draw(st.integers(0, rows * cols + 3)),
        "mask": mask,
    }
    run("top_up_masks", mutated(data, args), check_top_up)


if __name__ == "__main__":  # the child of test_ops_never_crash
    IMPL = ops if eoi_ext.build_info()["loaded"] else fallback
    print(f"fuzzing {IMPL.__name__}", flush=True)
    fuzz_plan_ops()
    fuzz_top_up_masks()
