"""What a correct result of each op is, for tests/test_fuzz_ops.py: plans, levels, blocks
and masks replayed in float64, one rotation at a time (docs/algorithm.md)."""

from __future__ import annotations

import torch
from torch import Tensor

TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1.6e-2}


def replay(offsets: Tensor, pairs: Tensor, cos_sin: Tensor, m: int) -> list[Tensor]:
    """A = I_m G_1 ... G_R of every matrix in float64, one rotation at a time."""
    plans = []
    for begin, end in zip(offsets.tolist(), offsets.tolist()[1:], strict=False):
        A = torch.eye(m, dtype=torch.float64)
        for (i, j), (c, s) in zip(
            pairs[begin:end].tolist(), cos_sin[begin:end].tolist(), strict=True
        ):
            A[:, [i, j]] = torch.stack([c * A[:, i] - s * A[:, j], s * A[:, i] + c * A[:, j]], 1)
        plans.append(A)
    return plans


def bits(support: Tensor, rows: range) -> Tensor:
    """(count, m, len(rows)) bool: bit r of every S_c."""
    r = torch.tensor(list(rows), dtype=torch.int64)
    return ((support[:, :, r >> 6] >> (r & 63)) & 1).bool()


def check_plan(args: dict, _: dict, result: tuple[Tensor, ...]) -> None:
    offsets, pairs, cos_sin, support = result
    n, m, count = args["n"], args["m"], args["seeds"].shape[0]
    assert offsets.tolist()[0] == 0 and offsets.tolist()[-1] == pairs.shape[0] == cos_sin.shape[0]
    assert offsets.shape == (count + 1,) and bool((offsets.diff() >= 0).all())
    assert bool(((pairs >= 0) & (pairs < m)).all() and (pairs[:, 0] != pairs[:, 1]).all())
    assert bool(((cos_sin.square().sum(1) - 1).abs() <= 1e-12).all())
    assert support.shape == (count, m, (n + 63) // 64)
    for A, S in zip(replay(offsets, pairs, cos_sin, m), bits(support, range(n)), strict=True):
        assert not bool(((A[:n].T != 0) & ~S).any()), "a nonzero of A outside the support"


def check_levels(args: dict, _: dict, levels: Tensor) -> None:
    assert bool((args["pairs"][:, 0] != args["pairs"][:, 1]).all()), "accepted i == j"
    expected: list[int] = []
    for begin, end in zip(args["offsets"].tolist(), args["offsets"].tolist()[1:], strict=False):
        last: dict[int, int] = {}
        for i, j in args["pairs"][begin:end].tolist():
            expected.append(max(last.get(i, 0), last.get(j, 0)))
            last[i] = last[j] = expected[-1] + 1
    assert levels.dtype == torch.int32 and levels.tolist() == expected


def window(args: dict) -> tuple[slice, slice]:
    assert args["coord_end"] >= -1, "accepted a coord_end below -1"
    end = args["m"] if args["coord_end"] == -1 else args["coord_end"]
    return slice(args["row_begin"], args["row_end"]), slice(args["coord_begin"], end)


def check_apply(args: dict, _: dict, __: None) -> None:
    """out is gain * the block of the replayed A; whole rows are orthogonal."""
    out, gain, (rows, coords) = args["out"], args["gain"], window(args)
    got = out.double().mT if args["transposed"] else out.double()
    plans = replay(args["offsets"], args["pairs"], args["cos_sin"], args["m"])
    tol = TOL[out.dtype] * max(1.0, abs(gain))
    if plans:
        torch.testing.assert_close(
            got, gain * torch.stack(plans)[:, rows, coords], rtol=0, atol=tol
        )
    if coords == slice(0, args["m"]):
        rounding = 32 * args["pairs"].shape[0] * torch.finfo(args["cos_sin"].dtype).eps
        eye = torch.eye(got.shape[1], dtype=torch.float64).expand_as(got @ got.mT)
        atol = (tol + rounding) * (1 + gain**2)
        torch.testing.assert_close(got @ got.mT, gain**2 * eye, rtol=0, atol=atol)


def check_masks(args: dict, _: dict, __: None) -> None:
    rows, coords = window(args)
    expected = bits(args["support"], range(rows.start, rows.stop))[:, coords]
    assert torch.equal(args["mask"], expected if args["transposed"] else expected.mT)


def check_top_up(args: dict, before: dict, _: None) -> None:
    mask, held, target = args["mask"], before["mask"], args["target_count"]
    assert args["seeds"].dim() == 1 and target >= 0, "accepted bad seeds or target_count"
    assert bool((mask | held).eq(mask).all()), "top_up_masks dropped an entry"
    wanted = held.flatten(1).sum(1).clamp(min=min(target, held.shape[1] * held.shape[2]))
    assert mask.flatten(1).sum(1).tolist() == wanted.tolist()
