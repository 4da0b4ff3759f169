"""Sharded parameters (DTensor): every rank initializes exactly its own shard.

An EOI matrix is a pure function of its plan, and the plan of a layer is small and
built from seeds drawn from the generator, so every rank (same seed, as with
torch.manual_seed on every rank) derives the same plan and computes only its block of
the weight and mask (eoi_ext.givens.weight_block / mask_block). No collective is
issued; the result equals the single-process initialization (masks exactly, weights to
float rounding).
"""

from __future__ import annotations

from torch import Tensor

try:  # torch.distributed may be absent from some builds
    from torch.distributed.tensor import DTensor, Replicate, Shard
except ImportError:  # pragma: no cover
    DTensor = None  # type: ignore[assignment,misc]


def is_dtensor(tensor: object) -> bool:
    return DTensor is not None and isinstance(tensor, DTensor)


def local_block(tensor: Tensor) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(rows, cols) of the global weight held by this rank's shard of DTensor `tensor`
    (None: all of that dimension). Supports Shard(0), Shard(1) and Replicate() on a
    1-D device mesh, with torch.chunk-style (possibly uneven, possibly empty) shards."""
    mesh, placements = tensor.device_mesh, tuple(tensor.placements)
    if mesh.ndim != 1 or len(placements) != 1:
        raise ValueError(
            "sharded weights must live on a 1-D device mesh with one placement, got mesh "
            f"shape {tuple(mesh.shape)} and placements {placements}"
        )
    placement = placements[0]
    if isinstance(placement, Replicate):
        return None, None
    if not isinstance(placement, Shard) or placement.dim not in (0, 1):
        raise ValueError(
            f"placements must be Shard(0), Shard(1) or Replicate(), got {placement} "
            "(Partial and other shardings are not supported)"
        )
    size = tensor.shape[placement.dim]
    world, rank = mesh.size(), mesh.get_local_rank()
    chunk = -(-size // world)
    begin = min(rank * chunk, size)
    end = min(begin + chunk, size)
    local = tensor.to_local().shape[placement.dim]
    if local != end - begin:
        raise ValueError(
            f"the local shard has {local} entries along dim {placement.dim}, expected "
            f"{end - begin} (torch.chunk layout of {size} over {world} ranks)"
        )
    return ((begin, end), None) if placement.dim == 0 else (None, (begin, end))


def like_dtensor(local: Tensor, like: Tensor) -> Tensor:
    """`local` (this rank's block) as a DTensor sharded like `like`, without communication."""
    return DTensor.from_local(
        local,
        like.device_mesh,
        like.placements,
        run_check=False,
        shape=like.shape,
        stride=like.stride(),
    )
