"""A sparsified model trained by Lightning and loaded back from its checkpoint (issue 13).

Where to sparsify a LightningModule (hooks masking, the default):
- in ``__init__``: works as it is. load_from_checkpoint builds the module (sparsified
  afresh, so the mask buffers exist) and load_state_dict then overwrites weights and masks
  with the saved ones.
- in ``setup()`` or ``on_fit_start()``: works for training (the parameters stay the same
  objects, so an optimizer built before, as ``configure_optimizers`` is before
  ``on_fit_start``, is still right), but load_from_checkpoint builds a module without mask
  buffers and its strict load_state_dict refuses the ``*_eoi_mask`` keys; fixing the saved
  masks in ``on_load_checkpoint`` (called before that load) makes it work.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import eoi_ext

L = pytest.importorskip("lightning")

# Lightning 2.6 on torch 2.13: its own use of the deprecated torch.utils._pytree.LeafSpec.
pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec.* is deprecated")


class SparseMLP(L.LightningModule):
    def __init__(self, where: str = "init", fix_on_load: bool = True) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = nn.Sequential(
            nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2)
        )
        self.sparse = None
        if where == "init":
            self.sparsify()

    def sparsify(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.sparse = eoi_ext.sparsify(self.model, 0.5, distribution="uniform", generator=generator)

    def setup(self, stage: str) -> None:
        if self.hparams.where == "setup":
            self.sparsify()

    def on_fit_start(self) -> None:
        if self.hparams.where == "on_fit_start":
            self.sparsify()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if self.hparams.where != "init" and self.hparams.fix_on_load:
            eoi_ext.fix_masks(self, eoi_ext.masks_in(checkpoint["state_dict"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], index: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def data() -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 8, generator=g), torch.randint(0, 2, (64,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=16)


def fit(module: L.LightningModule, root) -> str:
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=True,
        default_root_dir=root, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(module, data())
    assert trainer.global_step == 4
    return trainer.checkpoint_callback.best_model_path


def assert_zero_outside(module: nn.Module) -> dict[str, torch.Tensor]:
    state = module.state_dict()
    masks = eoi_ext.masks_in(state)
    assert sorted(masks) == ["model.0.weight", "model.2.weight", "model.4.weight"]
    for name, mask in masks.items():
        assert not state[name][~mask].any(), name
    return masks


@pytest.mark.parametrize("where", ["init", "setup", "on_fit_start"])
def test_lightning_checkpoint_round_trip(where, tmp_path):
    torch.manual_seed(0)
    module = SparseMLP(where)
    start = module.model[2].weight.detach().clone()
    path = fit(module, tmp_path)
    assert not torch.equal(module.model[2].weight, start)  # trained
    masks = assert_zero_outside(module)
    assert all(torch.equal(masks["model." + n], m) for n, m in module.sparse.masks.items())

    torch.manual_seed(1)  # another initialization: everything must come from the checkpoint
    loaded = SparseMLP.load_from_checkpoint(path)
    x = torch.randn(5, 8)
    assert torch.equal(loaded.eval()(x), module.eval()(x))
    loaded_masks = assert_zero_outside(loaded)
    assert all(torch.equal(loaded_masks[n], masks[n]) for n in masks)

    optimizer = torch.optim.Adam(loaded.parameters(), lr=1e-2)  # training goes on sparse
    loaded.train()(x).square().mean().backward()
    optimizer.step()
    assert_zero_outside(loaded)


def test_sparsified_in_setup_needs_the_masks_fixed_on_load(tmp_path):
    module = SparseMLP("setup", fix_on_load=False)
    path = fit(module, tmp_path)
    with pytest.raises(RuntimeError, match="_eoi_mask"):  # the fresh module has no buffers
        SparseMLP.load_from_checkpoint(path)
