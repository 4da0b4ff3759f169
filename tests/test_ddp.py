"""DistributedDataParallel with hooks masking (docs/masking.md): the gradient hook masks
the gradient DDP averages, with and without gradient_as_bucket_view, so every rank trains
the same sparse model and no weight leaves its mask. Ranks see different batches."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch
import torch.multiprocessing as mp
from test_distributed import _finish, _start
from torch import nn

import eoi_ext


def _ddp_worker(rank: int, world: int, store: str, bucket_view: bool) -> None:
    _start(rank, world, store)
    torch.manual_seed(0)  # the same model and masks on every rank
    model = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 4))
    sparse = eoi_ext.sparsify(model, 0.3)
    ddp = nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=bucket_view)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=0.1)
    data = torch.Generator().manual_seed(rank)
    for _ in range(3):
        optimizer.zero_grad()
        ddp(torch.randn(8, 16, generator=data)).square().sum().backward()
        for layer in sparse.layers:
            assert not layer.parameter.grad[~sparse.masks[layer.name]].any(), layer.name
        optimizer.step()
    for layer in sparse.layers:
        weight = layer.parameter.detach()
        assert not weight[~sparse.masks[layer.name]].any(), layer.name
        gathered = [torch.empty_like(weight) for _ in range(world)]
        torch.distributed.all_gather(gathered, weight)
        assert all(torch.equal(other, weight) for other in gathered)  # one model
    _finish()


@pytest.mark.parametrize("bucket_view", [False, True])
def test_ddp_averages_masked_gradients(bucket_view):
    with tempfile.TemporaryDirectory() as folder:
        store = os.path.join(folder, "store")
        mp.spawn(_ddp_worker, args=(2, store, bucket_view), nprocs=2, join=True)
