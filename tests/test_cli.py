"""The `eoi` command line (eoi_ext.lab.cli): output, flag errors before anything runs,
and the lab extra."""

from __future__ import annotations

import builtins
import json
import sys

import pytest
import torch

import eoi_ext
from eoi_ext.lab import cli
from eoi_ext.lab.cli import main


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
        (["info", "--density", "1.5"], "argument --density: must be a density in (0, 1]"),
        (["info", "--density", "nan"], "argument --density: must be a density in (0, 1]"),
        (["info", "--layers", "0"], "argument --layers: must be an integer >= 1"),
        (["info", "--width", "x"], "argument --width: must be an integer >= 1"),
        (["info", "--device", "xpu:x"], "argument --device: must be cpu or cuda"),
        (["info", "--device", "meta"], "argument --device: must be cpu or cuda"),
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


def test_demo_quick(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--plot", str(plot), "--no-progress", "--steps", "60"]) == 0
    out = capsys.readouterr().out
    for method in ("eoi", "base", "ai", "sao"):  # the paper's comparison
        assert f"[{method}] init" in out and f"| {method} |" in out
    assert "[ai] init" in out and "(1000 SGD steps)" in out  # the published AI's count
    assert plot.stat().st_size > 10_000
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_writes_metrics(tmp_path, capsys):
    path = tmp_path / "metrics.json"
    argv = ["train", "--depth", "6", "--width", "16", "--epochs", "0.5", "--distribution", "erk"]
    assert main([*argv, "--method", "svd_ai", "--json", str(path), "--no-progress"]) == 0
    metrics = json.loads(path.read_text())
    assert metrics["config"]["method"] == "svd_ai" and metrics["config"]["data"] == "digits"
    assert metrics["steps"] == len(metrics["losses"]) == 6  # ceil(0.5 * 1437 / 128)
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert set(metrics["jacobian_singular_values"]) == {"mean", "std", "min", "max"}
    assert set(metrics["orthogonality_error"]["per_layer"]) == set(metrics["layer_densities"])
    assert set(metrics["isometry_error"]) == set(metrics["layer_densities"])
    assert "metrics in" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "--model", "cnn"],
            "--model cnn needs image data (--data mnist or cifar10 or cifar100 or tiny_imagenet "
            "or synthetic)",
        ),
        (["train", "--data", "mnist"], "--data mnist needs --root"),
        (["train", "--data", "mnist", "--root", "/no/such/dir"], "--root '/no/such/dir' is not"),
        (["train", "--epochs", "0"], "argument --epochs: must be a positive number"),
        (["train", "--lr", "inf"], "argument --lr: must be a positive number"),
        (["train", "--bias-std", "-1"], "argument --bias-std: must be a finite number >= 0"),
        (["train", "--gain", "nan"], "argument --gain: must be a finite number"),
        (["train", "--method", "magic"], "invalid choice"),
        (["train", "--activation", "gelu"], "invalid choice"),
        (["train", "--model", "vgg16", "--data", "cifar10", "--depth", "3"], "--depth: fixed"),
        (["train", "--model", "cifar_resnet"], "needs 32 x 32 RGB images (--data cifar10 or"),
        (["train", "--model", "efficientnet_b0"], "needs RGB images (--data cifar10 or"),
        (["train", "--model", "cifar_conv", "--data", "mnist"], "needs 32 x 32 RGB images"),
        (["train", "--conv-mode", "full"], "invalid choice"),
        (["demo", "--steps", "0"], "argument --steps: must be an integer >= 1"),
        (["demo", "--ai-iterations", "0"], "argument --ai-iterations: must be an integer"),
    ],
)
def test_train_and_demo_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main([*argv, "--no-progress"])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_root_without_the_dataset(tmp_path, capsys):
    """A root that does not hold the files is a usage error naming --root (never a
    download); needs torchvision, which the CPU test venv may lack."""
    pytest.importorskip("torchvision")
    with pytest.raises(SystemExit) as raised:
        main(["train", "--data", "mnist", "--root", str(tmp_path), "--no-progress"])
    assert raised.value.code == 2
    assert "--root: mnist was not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["demo", "train", "bench"])
def test_commands_name_the_missing_extra(command, monkeypatch, capsys):
    monkeypatch.setattr(cli, "missing_extra", lambda: ["matplotlib", "tqdm"])
    with pytest.raises(SystemExit) as raised:
        main([command])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert f"eoi {command} needs the lab extra (matplotlib, tqdm not installed)" in err
    assert 'pip install "eoi_ext[lab]"' in err


def test_info_needs_no_extra(monkeypatch, capsys):
    monkeypatch.setattr(cli, "missing_extra", lambda: ["scikit-learn", "matplotlib", "tqdm"])
    assert main(["info", "--layers", "2", "--width", "8"]) == 0
    assert "initialized 2 layers" in capsys.readouterr().out


def test_library_errors_are_not_turned_into_usage_errors(monkeypatch):
    """After the flags are checked, an error is a failure with its traceback, not a usage
    message that hides where it came from."""

    def broken(*args, **kwargs):
        raise ValueError("an internal failure")

    monkeypatch.setattr(cli, "run_info", broken)
    with pytest.raises(ValueError, match="an internal failure"):
        main(["info"])


def test_a_broken_torchvision_is_a_usage_error(tmp_path, monkeypatch, capsys):
    """torchvision built for another torch raises RuntimeError in its ops at import: named
    as such (before: a raw RuntimeError traceback)."""
    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "torchvision" or name.startswith("torchvision."):
            raise RuntimeError("operator torchvision::nms does not exist")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(builtins, "__import__", broken)
    with pytest.raises(SystemExit) as raised:
        main(["train", "--data", "mnist", "--root", str(tmp_path), "--no-progress"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "--data mnist: loading mnist needs torchvision, which is installed but failed" in err
    assert "RuntimeError: operator torchvision::nms does not exist" in err
