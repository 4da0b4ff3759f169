"""Standardization with the training split's statistics (eoi_ext/lab/data.py's digits,
eoi_ext/lab/datasets_common.py's standardize_): a feature constant in the training split
is only centered, so the test split stays on the training split's scale."""

from __future__ import annotations

import torch

from eoi_ext.lab.data import load_digits
from eoi_ext.lab.datasets_common import standardize_


def test_digits_test_split_stays_on_scale():
    data = load_digits(seed=0)
    # Before the fix a border pixel always 0 in training was divided by 1e-6: 1e6 in test.
    assert data.x_test.abs().max() < 100  # a pixel nonzero once in training reaches ~38
    assert data.x_train.std(dim=0).max() < 1.01


def test_constant_channel_is_centered_only():
    train = torch.zeros(4, 2, 3, 3)
    train[:, 1] = torch.arange(4.0).view(4, 1, 1)
    test = torch.full((1, 2, 3, 3), 5.0)
    standardize_(train, test)
    assert torch.equal(test[0, 0], torch.full((3, 3), 5.0))  # constant 0: centered only
    expected = (5.0 - 1.5) / torch.tensor([0.0, 1, 2, 3]).repeat_interleave(9).std()
    torch.testing.assert_close(test[0, 1], torch.full((3, 3), float(expected)))
