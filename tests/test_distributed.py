"""Sharded initialization (DTensor on a 1-D CPU mesh, gloo): each of 1-4 processes
initializes only its shard, issues no collective doing so, and the gathered weights and
masks equal the single-process ones: plain DTensors, tensor-parallel style models, and
FSDP2 (fully_shard) models built on the meta device; ranks seeded differently are caught
by the opt-in check; unsupported placements are refused."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import timedelta

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
TIMEOUT = timedelta(seconds=60)
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


def _start(rank: int, world: int, store: str) -> None:
    """Joins the gloo group. A timeout bounds every collective, so a rank that fails
    (and exits, reported by spawn) never leaves its peers waiting forever."""
    dist.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world, timeout=TIMEOUT
    )


def _finish() -> None:
    """Ends a worker whose checks all passed: every rank reaches the end before the group
    goes (a rank leaving while a peer still talks to it can abort gloo), then the process
    exits without C++ static destructors: at interpreter exit, threads that gloo leaves
    behind sometimes call std::terminate (SIGABRT) after all checks passed. A failing
    worker never gets here: it raises, exits, and spawn reports it."""
    dist.barrier()
    dist.destroy_process_group()
    os._exit(0)


def _worker(rank: int, world: int, store: str) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    _start(rank, world, store)
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
    _finish()


def _model() -> torch.nn.Module:
    torch.manual_seed(0)  # the same module on every rank and in the reference
    return torch.nn.Sequential(
        torch.nn.Linear(9, 14), torch.nn.Tanh(), torch.nn.Linear(14, 14), torch.nn.Tanh(),
        torch.nn.Linear(14, 14), torch.nn.Linear(14, 5), torch.nn.Conv1d(5, 6, 3),
    )  # fmt: skip


def _sparsify_worker(rank: int, world: int, store: str) -> None:
    """sparsify on a model whose weights are DTensors (Shard(0), Shard(1), Replicate,
    sharded and replicated biases, a conv sharded by input channels) equals sparsify on
    the plain model; also when the model is built and sharded on the meta device, then
    materialized with to_empty."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    import eoi_ext
    from eoi_ext.layers import find_layer_weights

    _start(rank, world, store)
    mesh = init_device_mesh("cpu", (world,))
    for method, bias_std, meta in (("eoi", 0.1, False), ("random", 0.1, False), ("eoi", 0.0, True)):
        kwargs = {"distribution": "erk", "method": method, "bias_std": bias_std}
        reference = _model()
        expected = eoi_ext.sparsify(
            reference, 0.3, generator=torch.Generator().manual_seed(5), **kwargs
        )
        with torch.device("meta" if meta else "cpu"):
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
                distribute_tensor(module.weight.detach(), mesh, [placement], src_data_rank=None)
            )
            bias_placement = (
                placement if isinstance(placement, Replicate) or placement.dim == 0 else Replicate()
            )
            module.bias = torch.nn.Parameter(
                distribute_tensor(module.bias.detach(), mesh, [bias_placement], src_data_rank=None)
            )
        if meta:
            model.to_empty(device="cpu")
        with no_collectives():
            sparse = eoi_ext.sparsify(
                model, 0.3, generator=torch.Generator().manual_seed(5), **kwargs
            )
        where = f"world {world} rank {rank} {method} meta={meta}"
        for layer, ref in zip(
            find_layer_weights(model)[0], find_layer_weights(reference)[0], strict=True
        ):
            got = getattr(layer.module, layer.attr).full_tensor()
            want = getattr(ref.module, ref.attr).detach()
            assert torch.allclose(got, want, atol=1e-6, rtol=0), f"{where} {layer.name}"
            assert torch.equal(
                sparse.masks[layer.name].full_tensor(), expected.masks[layer.name]
            ), where
            assert torch.allclose(layer.module.bias.full_tensor(), ref.module.bias.detach()), where
    _finish()


def _fsdp_model() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(9, 14), torch.nn.Tanh(), torch.nn.Linear(14, 14), torch.nn.Tanh(),
        torch.nn.Linear(14, 5),
    )  # fmt: skip


def _fully_sharded(mesh) -> torch.nn.Module:
    """_fsdp_model built on the meta device, fully_shard per Linear and at the root, then
    materialized with to_empty (uninitialized values)."""
    from torch.distributed.fsdp import fully_shard

    with torch.device("meta"):
        model = _fsdp_model()
    for module in model:
        if isinstance(module, torch.nn.Linear):
            fully_shard(module, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model.to_empty(device="cpu")


def _train(model: torch.nn.Module, steps: int = 3) -> None:
    """AdamW with weight decay on the same batches on every rank (so the data-parallel
    mean gradient is the single-process one)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    data = torch.Generator().manual_seed(7)
    for _ in range(steps):
        x, y = torch.randn(8, 9, generator=data), torch.randn(8, 5, generator=data)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def _bits(tensor: torch.Tensor) -> torch.Tensor:
    """The local shard's bits (a copy): equal bits, even for NaN."""
    return tensor.to_local().detach().clone().view(torch.int32)


def _fsdp_worker(rank: int, world: int, store: str) -> None:
    """An FSDP2 model built on the meta device and materialized with to_empty: sparsify
    writes each rank's shards with no collective and equals sparsify on the plain model;
    the masks stay fixed through training (which matches the single-process run); the
    seed check catches ranks seeded differently without touching the model; unsupported
    placements are refused."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Partial, Shard, distribute_tensor

    import eoi_ext

    _start(rank, world, store)
    mesh = init_device_mesh("cpu", (world,))
    where = f"world {world} rank {rank}"
    kwargs = {"distribution": "er", "bias_std": 0.1}
    reference = _fsdp_model()
    expected = eoi_ext.sparsify(
        reference, 0.3, generator=torch.Generator().manual_seed(5), **kwargs
    )
    model = _fully_sharded(mesh)
    with no_collectives():
        sparse = eoi_ext.sparsify(model, 0.3, generator=torch.Generator().manual_seed(5), **kwargs)
    assert set(sparse.hooks) == set(expected.masks), where
    for i in (0, 2, 4):
        name = f"{i}.weight"
        assert model[i].weight_eoi_mask is sparse.masks[name], where
        assert tuple(sparse.masks[name].placements) == (Shard(0),), where
        assert torch.equal(sparse.masks[name].full_tensor(), expected.masks[name]), where
        want = reference[i].weight.detach()
        assert torch.allclose(model[i].weight.full_tensor(), want, atol=1e-6, rtol=0), where
        assert torch.equal(model[i].bias.full_tensor(), reference[i].bias.detach()), where
    assert "0.weight_eoi_mask" in model.state_dict(), where
    assert sparse.density == expected.density, where

    _train(model)
    _train(reference)
    for i in (0, 2, 4):
        full, mask = model[i].weight.full_tensor(), expected.masks[f"{i}.weight"]
        assert torch.count_nonzero(full[~mask]) == 0, f"{where}: {i}.weight left its mask"
        assert torch.count_nonzero(full[mask]) == mask.sum(), where
        want = reference[i].weight.detach()
        assert torch.allclose(full, want, atol=1e-5, rtol=0), f"{where} {i}.weight"
    sparse.remove()
    assert not sparse.hooks and not hasattr(model[0], "weight_eoi_mask"), where
    assert not model[0].weight._post_accumulate_grad_hooks, where

    # The opt-in seed check: equal seeds pass and give the same model; a rank seeded
    # differently makes every rank raise before anything is written.
    model = _fully_sharded(mesh)
    checked = eoi_ext.sparsify(
        model, 0.3, generator=torch.Generator().manual_seed(5), check_ranks=True, **kwargs
    )
    assert torch.equal(checked.masks["2.weight"].full_tensor(), expected.masks["2.weight"])
    if world > 1:
        model = _fully_sharded(mesh)
        # to_empty leaves garbage (NaN too): compare bits, not values.
        before = {k: _bits(v) for k, v in model.state_dict().items()}
        seed = 5 if rank == 0 else 6
        with pytest.raises(ValueError, match=r"ranks \[1.*\] .*would draw different plans"):
            eoi_ext.sparsify(
                model, 0.3, generator=torch.Generator().manual_seed(seed), check_ranks=True
            )
        after = model.state_dict()
        assert after.keys() == before.keys(), where
        assert all(torch.equal(_bits(after[k]), v) for k, v in before.items()), where
        weight = distribute_tensor(torch.zeros(6, 4), mesh, [Shard(0)])
        with pytest.raises(ValueError, match="would draw different plans"):
            sparse_orthogonal_(weight, 0.5, check_ranks=True, gain=1.0 + rank)
        assert torch.count_nonzero(weight.to_local()) == 0, where

    # Placements other than Shard(0), Shard(1), Replicate() on a 1-D mesh.
    partial = DTensor.from_local(torch.zeros(6, 4), mesh, [Partial()], run_check=False)
    with pytest.raises(ValueError, match=r"placements must be Shard\(0\), Shard\(1\)"):
        sparse_orthogonal_(partial, 0.5)
    kernel = DTensor.from_local(torch.zeros(4, 4, 3), mesh, [Shard(2)], run_check=False)
    with pytest.raises(ValueError, match="placements must be"):
        sparse_orthogonal_(kernel, 0.5)
    assert torch.count_nonzero(kernel.to_local()) == 0, where
    if world == 4:
        grid = init_device_mesh("cpu", (2, 2))
        square = distribute_tensor(torch.zeros(6, 4), grid, [Shard(0), Shard(1)])
        with pytest.raises(ValueError, match="1-D device mesh"):
            sparse_orthogonal_(square, 0.5)
        conv = torch.nn.Conv1d(4, 6, 3)
        conv.weight = torch.nn.Parameter(
            distribute_tensor(conv.weight.detach(), grid, [Shard(0), Shard(0)])
        )
        conv.bias = None
        with pytest.raises(ValueError, match="1-D device mesh"):
            eoi_ext.sparsify(conv, 0.5)
        assert not hasattr(conv, "parametrizations"), where
    _finish()


@pytest.mark.skipif(
    not hasattr(torch.distributed.fsdp, "fully_shard"), reason="FSDP2 is public from torch 2.6"
)
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_fsdp_meta_model_shards_equal_single_process(world):
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "store")
        mp.spawn(_fsdp_worker, args=(world, store), nprocs=world, join=True)


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
