"""The `eoi` command line: `eoi info` output and its argument errors."""

from __future__ import annotations

import pytest
import torch

import eoi_ext
from eoi_ext.cli import main


def test_info_reports_backend_and_a_stack(capsys):
    assert main(["info", "--layers", "3", "--width", "32", "--density", "0.25"]) == 0
    out = capsys.readouterr().out
    assert f"backend (cpu): {eoi_ext.backend('cpu')}" in out
    assert "initialized 3 layers of 32x32 at target density 0.25 on cpu" in out
    assert "achieved density: 0.2" in out  # 0.25 by the published rule, to 4 digits
    assert "nonzeros outside the masks: 0" in out
    error = float(out.split("|W W^T - I|:")[1].split()[0])
    assert error < 1e-5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "--density", "1.5"], "density must be in (0, 1]"),
        (["info", "--layers", "0"], "--layers must be an integer >= 1"),
        (["info", "--device", "xpu:x"], "--device must be"),
    ],
)
def test_info_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_info_cuda_without_gpu(capsys):
    with pytest.raises(SystemExit):
        main(["info", "--device", "cuda"])
    assert "needs a CUDA build of torch and a GPU" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_info_on_cuda(capsys):
    assert main(["info", "--layers", "4", "--width", "64", "--device", "cuda"]) == 0
    out = capsys.readouterr().out
    assert f"on cuda ({eoi_ext.backend('cuda')})" in out
    assert "nonzeros outside the masks: 0" in out
