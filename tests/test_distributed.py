"""Sharded initialization (DTensor on a 1-D CPU mesh, gloo): each of 1-4 processes
initializes only its shard, issues no collective doing so, and the gathered weights and
masks equal the single-process ones."""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from eoi_ext.init import sparse_orthogonal_

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="needs torch.distributed gloo"
)

# (shape, groups, exact_density): uneven shards for every world size up to 4 (7 and 10
# are not multiples of 4; 3 rows over 4 ranks leaves one rank empty).
CASES = [
    ((7, 10), 1, False),
    ((10, 7), 1, True),
    ((12, 5), 3, False),
    ((3, 9), 1, False),
    ((6, 5, 3, 3), 1, True),  # a conv kernel: delta-orthogonal, top-up replayed per shard
    ((6, 4, 3), 2, False),  # grouped conv
]
COLLECTIVES = (
    "all_reduce", "all_gather", "all_gather_into_tensor", "all_gather_object", "broadcast",
    "broadcast_object_list", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
    "gather", "all_to_all", "all_to_all_single", "barrier", "send", "recv", "isend", "irecv",
)  # fmt: skip


@contextlib.contextmanager
def no_collectives():
    """Any torch.distributed collective or point-to-point call inside raises."""
    saved = {}

    def forbidden(name):
        def call(*args, **kwargs):
            raise AssertionError(f"initialization issued a collective: {name}")

        return call

    for name in COLLECTIVES:
        for module in (dist, dist.distributed_c10d):
            if hasattr(module, name):
                saved[(module, name)] = getattr(module, name)
                setattr(module, name, forbidden(name))
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def _shut_down() -> None:
    """Every rank reaches the end before the group goes (a rank leaving while a peer still
    talks to it can abort gloo)."""
    dist.barrier()
    dist.destroy_process_group()


def _exit_cleanly() -> None:
    """Ends a worker that succeeded without running C++ static destructors: at
    interpreter exit, threads that gloo leaves behind sometimes call std::terminate
    ("terminate called without an active exception", SIGABRT) after all checks passed.
    Failures never get here: they raise, and spawn reports them."""
    os._exit(0)


def _worker(rank: int, world: int, store: str) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        mesh = init_device_mesh("cpu", (world,))
        for shape, groups, exact in CASES:
            expected = torch.empty(shape)
            expected_mask = sparse_orthogonal_(
                expected, 0.3, gain=1.5, groups=groups, exact_density=exact,
                generator=torch.Generator().manual_seed(11),
            )  # fmt: skip
            for placement in (Shard(0), Shard(1), Replicate()):
                weight = distribute_tensor(torch.zeros(shape), mesh, [placement])
                with no_collectives():
                    mask = sparse_orthogonal_(
                        weight, 0.3, gain=1.5, groups=groups, exact_density=exact,
                        generator=torch.Generator().manual_seed(11),
                    )  # fmt: skip
                assert tuple(mask.placements) == (placement,)
                assert mask.to_local().shape == weight.to_local().shape
                full, full_mask = weight.full_tensor(), mask.full_tensor()
                where = f"world {world} rank {rank} {shape} groups={groups} {placement}"
                assert torch.equal(full_mask, expected_mask), where
                assert torch.allclose(full, expected, atol=1e-6, rtol=0), where
    finally:
        _shut_down()
    _exit_cleanly()


def _model() -> torch.nn.Module:
    torch.manual_seed(0)  # the same module on every rank and in the reference
    return torch.nn.Sequential(
        torch.nn.Linear(9, 14), torch.nn.Tanh(), torch.nn.Linear(14, 14), torch.nn.Tanh(),
        torch.nn.Linear(14, 14), torch.nn.Linear(14, 5), torch.nn.Conv1d(5, 6, 3),
    )  # fmt: skip


def _sparsify_worker(rank: int, world: int, store: str) -> None:
    """sparsify on a model whose weights are DTensors (Shard(0), Shard(1), Replicate,
    sharded and replicated biases, a conv sharded by input channels) equals sparsify on
    the plain model."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    import eoi_ext
    from eoi_ext.layers import find_layer_weights

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        mesh = init_device_mesh("cpu", (world,))
        for method, bias_std in (("eoi", 0.1), ("random", 0.1), ("eoi", 0.0)):
            kwargs = {"distribution": "erk", "method": method, "bias_std": bias_std}
            reference = _model()
            expected = eoi_ext.sparsify(
                reference, 0.3, generator=torch.Generator().manual_seed(5), **kwargs
            )
            model = _model()
            placements = {
                "0": Shard(0),
                "2": Shard(1),
                "4": Replicate(),
                "5": Shard(0),
                "6": Shard(1),
            }
            for name, placement in placements.items():
                module = model.get_submodule(name)
                module.weight = torch.nn.Parameter(
                    distribute_tensor(module.weight.detach(), mesh, [placement])
                )
                bias_placement = (
                    placement
                    if isinstance(placement, Replicate) or placement.dim == 0
                    else Replicate()
                )
                module.bias = torch.nn.Parameter(
                    distribute_tensor(module.bias.detach(), mesh, [bias_placement])
                )
            with no_collectives():
                sparse = eoi_ext.sparsify(
                    model, 0.3, generator=torch.Generator().manual_seed(5), **kwargs
                )
            where = f"world {world} rank {rank} {method}"
            for layer, ref in zip(
                find_layer_weights(model)[0], find_layer_weights(reference)[0], strict=True
            ):
                got = getattr(layer.module, layer.attr).full_tensor()
                want = getattr(ref.module, ref.attr).detach()
                assert torch.allclose(got, want, atol=1e-6, rtol=0), f"{where} {layer.name}"
                assert torch.equal(
                    sparse.masks[layer.name].full_tensor(), expected.masks[layer.name]
                ), where
                assert torch.allclose(layer.module.bias.full_tensor(), ref.module.bias.detach()), (
                    where
                )
    finally:
        _shut_down()
    _exit_cleanly()


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_sparsify_shards_equal_single_process(world):
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "store")
        mp.spawn(_sparsify_worker, args=(world, store), nprocs=world, join=True)


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shards_equal_single_process(world):
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "store")
        mp.spawn(_worker, args=(world, store), nprocs=world, join=True)


def test_no_collectives_guard_has_teeth():
    with no_collectives(), pytest.raises(AssertionError, match="all_reduce"):
        dist.all_reduce(torch.zeros(1))
