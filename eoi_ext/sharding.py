"""Sharded parameters (DTensor): every rank initializes exactly its own shard.

An EOI matrix is a pure function of its plan, and the plan of a layer is small and
built from seeds drawn from the generator, so every rank (same seed, as with
torch.manual_seed on every rank) derives the same plan and computes only its block of
the weight and mask (eoi_ext.build, docs/blocks-and-sharding.md). No collective is
issued; the result equals the single-process initialization (masks exactly, weights to
float rounding). The one exception is opt-in: check_same_draws, a single small
all_gather that catches ranks seeded differently before anything is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .spec import Block

try:  # torch.distributed may be absent from some builds
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor, Replicate, Shard
except ImportError:  # pragma: no cover
    DTensor = None  # type: ignore[assignment,misc]

try:  # FSDP2; public here since torch 2.6 (its sharded gradients run post-accumulate-grad
    # hooks since 2.5, which sparsify relies on)
    from torch.distributed.fsdp import FSDPModule
except ImportError:  # pragma: no cover
    FSDPModule = None  # type: ignore[assignment,misc]

__all__ = [
    "check_same_draws",
    "chunk_range",
    "fsdp_parameters",
    "is_dtensor",
    "like_dtensor",
    "local",
    "local_block",
]


def is_dtensor(tensor: object) -> bool:
    return DTensor is not None and isinstance(tensor, DTensor)


def local(tensor: Tensor) -> Tensor:
    """This rank's local tensor of a DTensor; any other tensor as it is."""
    return tensor.to_local() if is_dtensor(tensor) else tensor


def chunk_range(size: int, world: int, rank: int) -> tuple[int, int]:
    """[begin, end) of rank's chunk of `size` entries over `world` ranks in torch.chunk's
    layout (DTensor's and FSDP2's): chunks of ceil(size / world), the last ones shorter
    or empty."""
    chunk = -(-size // world)
    begin = min(rank * chunk, size)
    return begin, min(begin + chunk, size)


def local_block(tensor: Tensor) -> Block:
    """(rows, cols) of the global weight held by this rank's shard of DTensor `tensor`
    (None: all of that dimension; (None, None) for a plain tensor, which is all here).
    Supports Shard(0), Shard(1) and Replicate() on a 1-D device mesh, with
    torch.chunk-style (possibly uneven, possibly empty) shards."""
    if not is_dtensor(tensor):
        return None, None
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
    world = mesh.size()
    begin, end = chunk_range(size, world, mesh.get_local_rank())
    held = tensor.to_local().shape[placement.dim]
    if held != end - begin:
        raise ValueError(
            f"the local shard has {held} entries along dim {placement.dim}, expected "
            f"{end - begin} (torch.chunk layout of {size} over {world} ranks)"
        )
    return ((begin, end), None) if placement.dim == 0 else (None, (begin, end))


def like_dtensor(block: Tensor, like: Tensor) -> Tensor:
    """`block` (this rank's block) as a DTensor sharded like `like`, without communication."""
    return DTensor.from_local(
        block,
        like.device_mesh,
        like.placements,
        run_check=False,
        shape=like.shape,
        stride=like.stride(),
    )


def fsdp_parameters(model: nn.Module) -> set[int]:
    """ids of the parameters of `model` that FSDP2 (fully_shard) manages: those of
    every FSDPModule in it. FSDP swaps these between their sharded DTensor and an
    unsharded plain tensor around forward and backward, so a mask cannot be a
    parametrization of them (see eoi_ext.sparsify)."""
    if FSDPModule is None:
        return set()
    return {
        id(parameter)
        for module in model.modules()
        if isinstance(module, FSDPModule)
        for parameter in module.parameters()
    }


def _generator_state(generator: torch.Generator | None) -> bytes:
    """The state the draws come from: `generator`, else torch's default CPU generator
    (and the current CUDA one once CUDA is in use, for baselines drawn on the GPU)."""
    if generator is not None:
        return generator.get_state().numpy().tobytes()
    state = torch.get_rng_state().numpy().tobytes()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state += torch.cuda.get_rng_state().numpy().tobytes()
    return state


def check_same_draws(
    tensors: Iterable[Tensor], generator: torch.Generator | None, arguments: object
) -> None:
    """Raises ValueError on every rank when the ranks of the DTensors among `tensors`
    would draw different plans: a fingerprint of the generator state and of `arguments`
    (everything else the result depends on, e.g. shapes and densities) is compared with
    one all_gather_object per device mesh. No-op without DTensors.

    The check is the only collective eoi_ext issues, and only when asked for
    (check_ranks=True): every rank must call it, as with any collective."""
    meshes = {}
    for tensor in tensors:
        if is_dtensor(tensor):
            meshes.setdefault(id(tensor.device_mesh), tensor.device_mesh)
    if not meshes:
        return
    digest = hashlib.blake2b(_generator_state(generator), digest_size=8)
    digest.update(repr(arguments).encode())
    fingerprint = digest.hexdigest()
    for mesh in meshes.values():
        group = mesh.get_group()
        gathered: list[object] = [None] * dist.get_world_size(group)
        dist.all_gather_object(gathered, fingerprint, group=group)
        differing = [rank for rank, value in enumerate(gathered) if value != gathered[0]]
        if differing:
            raise ValueError(
                f"ranks {differing} of the device mesh would draw different plans than rank 0 "
                "(different generator state or arguments): seed every rank alike "
                "(torch.manual_seed(s) or the same generator= seed) and pass the same "
                f"arguments; fingerprints by rank: {gathered}"
            )
