"""Shared helpers for the eoi_ext test suite.

The suite runs twice in CI: once with EOI_EXT_BACKEND=ext (compiled backend) and once with
EOI_EXT_BACKEND=python (pure-PyTorch fallback). Tests use the public API; the few that
compare the two backends directly skip when the extension is not loaded.

The helpers here are deliberately independent of the code under test: orthogonality is
measured in float64 from the produced W, and the stopping rule is re-derived from the
rotation stream with a separate bitset replay (only the stream itself,
eoi_ext.random_stream, is shared, because it *is* the sampling contract).
"""

from __future__ import annotations

import pytest
import torch

import eoi_ext
from eoi_ext.random_stream import draw_rotations

# Orthogonality bounds (max |W W^T - gain^2 I| / gain^2), by output dtype.
ORTHO_TOL = {
    torch.float64: 1e-12,
    torch.float32: 1e-5,
    # 16-bit outputs are rounded once from a float32 result: a few machine epsilons.
    torch.float16: 4 * torch.finfo(torch.float16).eps,  # ~3.9e-3
    torch.bfloat16: 4 * torch.finfo(torch.bfloat16).eps,  # ~3.1e-2
}


def extension_loaded() -> bool:
    return bool(eoi_ext.build_info()["loaded"])


requires_extension = pytest.mark.skipif(
    not extension_loaded(), reason="the compiled extension eoi_ext._C is not loaded"
)


def orthogonality_error(W: torch.Tensor, gain: float = 1.0) -> float:
    """max |W W^T - gain^2 I| on the smaller side of W, computed in float64."""
    assert W.dim() == 2, f"expected a matrix, got shape {tuple(W.shape)}"
    A = W.detach().to(device="cpu", dtype=torch.float64)
    if A.shape[0] > A.shape[1]:
        A = A.T
    gram = A @ A.T
    eye = torch.eye(A.shape[0], dtype=torch.float64)
    return (gram - gain**2 * eye).abs().max().item() if A.numel() else 0.0


def assert_orthogonal(W: torch.Tensor, gain: float = 1.0, tol: float | None = None) -> None:
    tol = ORTHO_TOL[W.dtype] if tol is None else tol
    scale = max(1.0, gain**2)
    error = orthogonality_error(W, gain)
    assert error <= tol * scale, (
        f"{tuple(W.shape)} {W.dtype} gain={gain}: orthogonality error {error:.3e} exceeds "
        f"{tol * scale:.1e}"
    )


def assert_zero_outside_mask(W: torch.Tensor, M: torch.Tensor) -> None:
    assert M.dtype == torch.bool, f"mask dtype is {M.dtype}, expected torch.bool"
    assert M.shape == W.shape, f"mask shape {tuple(M.shape)} != weight shape {tuple(W.shape)}"
    outside = W.detach()[~M]
    count = int((outside != 0).sum())
    assert count == 0, f"{count} entries of W outside the mask are nonzero"


# ---------------------------------------------------------------------------------------
# Independent replay of the stopping rule (docs/algorithm.md, "Stopping rule")
# ---------------------------------------------------------------------------------------


class StreamReplay:
    """Replays the rotation stream of one seed with plain Python-int bitsets.

    counts[k] is the symbolic nonzero count of A = [I_n | 0] G_1 ... G_k, where G_k are
    the first k rotations the seed's stream draws; supports_after(k) are the column
    supports after k rotations.
    """

    CHUNK = 256

    def __init__(self, seed: int, n: int, m: int):
        self.seed, self.n, self.m = seed, n, m
        self.i: list[int] = []
        self.j: list[int] = []
        self.theta: list[float] = []
        self.counts = [n]
        self._supports = [1 << c if c < n else 0 for c in range(m)]

    def extend_to(self, k: int) -> None:
        """Makes counts[0..k] available."""
        assert self.m >= 2, "a 1x1 matrix has no rotations"
        while len(self.counts) <= k:
            first = len(self.i)
            i, j, theta = draw_rotations(self.seed, first, self.CHUNK, self.m)
            self.i += i.tolist()
            self.j += j.tolist()
            self.theta += theta.tolist()
            for a, b in zip(i.tolist(), j.tolist(), strict=True):
                sa, sb = self._supports[a], self._supports[b]
                union = sa | sb
                step = 2 * union.bit_count() - sa.bit_count() - sb.bit_count()
                self._supports[a] = self._supports[b] = union
                self.counts.append(self.counts[-1] + step)

    def count(self, k: int) -> int:
        if self.m >= 2:
            self.extend_to(k)
        return self.counts[k]

    def supports_after(self, k: int) -> list[int]:
        supports = [1 << c if c < self.n else 0 for c in range(self.m)]
        for a, b in zip(self.i[:k], self.j[:k], strict=True):
            supports[a] = supports[b] = supports[a] | supports[b]
        return supports

    def published_rotations(self, density: float) -> int:
        """R by the published rule: the first R with count >= target (the support is then
        full or past the target), or R - 1 if its count is strictly closer to the target."""
        target = density * self.n * self.m
        full = self.n * self.m
        if self.m < 2 or self.n >= target:
            return 0
        k = 0
        while self.count(k) < target and self.count(k) < full:
            k += 1
        assert k >= 1
        before, after = self.count(k - 1), self.count(k)
        return k - 1 if target - before < after - target else k

    def at_most_rotations(self, density: float) -> int:
        """R for exact_density: the last R with count <= target (or the first R that is
        full, when the target is at least n * m)."""
        target = density * self.n * self.m
        full = self.n * self.m
        if self.m < 2 or self.n > target:
            return 0
        k = 0
        while self.count(k) < full and self.count(k + 1) <= target:
            k += 1
        return k


def mask_from_supports(supports: list[int], rows: int, cols: int) -> torch.Tensor:
    """The (rows, cols) bool mask of W for column supports of A (bit r of S_c)."""
    n, m = min(rows, cols), max(rows, cols)
    nbytes = (n + 7) // 8
    data = bytearray(b"".join(s.to_bytes(nbytes, "little") for s in supports))
    words = torch.frombuffer(data, dtype=torch.uint8).view(m, nbytes).to(torch.int64)
    bits = ((words.unsqueeze(-1) >> torch.arange(8)) & 1).reshape(m, 8 * nbytes)[:, :n]
    bits = bits.T.bool()  # (n, m): bit r of S_c at [r, c]
    return bits.contiguous() if rows <= cols else bits.T.contiguous()


def check_plan_rule(plan, density: float, exact_density: bool = False) -> None:
    """Asserts every matrix of a RotationPlan follows the stopping rule exactly: its rotations
    are the first R of its seed's stream, R is what the rule gives, and its support is the
    replayed support after R rotations."""
    n, m = plan.n, plan.m
    target = density * n * m
    full = n * m
    offsets = plan.offsets.tolist()
    for b, seed in enumerate(plan.seeds.tolist()):
        replay = StreamReplay(seed, n, m)
        got = offsets[b + 1] - offsets[b]
        expected = (
            replay.at_most_rotations(density)
            if exact_density
            else replay.published_rotations(density)
        )
        where = f"{plan.rows}x{plan.cols} d={density} seed={seed} matrix {b}"
        assert got == expected, f"{where}: plan has R={got}, the stopping rule gives {expected}"
        R = got
        if m >= 2:
            replay.extend_to(R + 1)
        nnz = replay.count(R)
        # The rule, spelled out.
        if exact_density:
            assert nnz <= target or R == 0, f"{where}: count {nnz} after R exceeds {target}"
            assert nnz == full or m < 2 or replay.count(R + 1) > target, (
                f"{where}: one more rotation ({replay.count(R + 1)}) would still fit {target}"
            )
        elif nnz >= target or nnz == full:
            assert R == 0 or replay.count(R - 1) < target, (
                f"{where}: R - 1 rotations already reached the target"
            )
        else:  # stopped one short: the next count is past the target and farther
            after = replay.count(R + 1)
            assert after >= target and target - nnz < after - target, (
                f"{where}: stopped short at {nnz} but {after} is not farther from {target}"
            )
        pairs = plan.pairs[offsets[b] : offsets[b + 1]]
        assert pairs[:, 0].tolist() == replay.i[:R], f"{where}: i differs from the stream"
        assert pairs[:, 1].tolist() == replay.j[:R], f"{where}: j differs from the stream"
        cos_sin = plan.cos_sin[offsets[b] : offsets[b + 1]]
        theta = torch.tensor(replay.theta[:R], dtype=torch.float64)
        assert torch.allclose(cos_sin[:, 0], torch.cos(theta), rtol=0, atol=1e-15)
        assert torch.allclose(cos_sin[:, 1], torch.sin(theta), rtol=0, atol=1e-15)
        mask = eoi_ext.givens.support_mask(plan)[b]
        expected_mask = mask_from_supports(replay.supports_after(R), plan.rows, plan.cols)
        assert torch.equal(mask, expected_mask), f"{where}: support differs from the replay"
        assert int(mask.sum()) == nnz


def expected_exact_count(rows: int, cols: int, density: float) -> int:
    """Mask size with exact_density=True: round(d * rows * cols), but never below the
    minimum-density matrix's min(rows, cols) entries."""
    return max(round(density * rows * cols), min(rows, cols))


def density_step_bound(rows: int, cols: int) -> float:
    """The largest density change of one rotation: 2 * n new entries out of rows * cols."""
    return 2 * min(rows, cols) / (rows * cols)


@pytest.fixture
def make_generator():
    """make_generator(seed) -> a fresh CPU torch.Generator seeded with seed."""

    def make(seed: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    return make


@pytest.fixture
def generator(make_generator) -> torch.Generator:
    return make_generator(1234)
