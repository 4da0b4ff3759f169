"""scripts/cuda_toolkit.py, which setup.py asks for CUDA_HOME (issue 16, item 9): a
toolkit named by the environment, found through the `nvcc` on the PATH (itself or the
one a wrapper script runs), by torch's CUDA version, or none with what to set."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "cuda_toolkit.py"
_spec = importlib.util.spec_from_file_location("cuda_toolkit", SCRIPT)
cuda_toolkit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cuda_toolkit)


def toolkit(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "include").mkdir()
    (root / "bin" / "nvcc").write_bytes(b"\x7fELF" + bytes(70000))  # a binary, not a script
    (root / "include" / "cuda_runtime.h").write_text("// header\n")
    return root


def wrapper(folder: Path, target: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "nvcc").write_text(f'#!/bin/sh\nexec {target}/bin/nvcc "$@"\n')
    return folder / "nvcc"


def test_the_environment_wins_and_is_checked(tmp_path: Path):
    real = toolkit(tmp_path / "cuda")
    found = cuda_toolkit.find_cuda_home({"CUDA_HOME": str(real)}, None, lambda _: None)
    assert found == (str(real), "CUDA_HOME")
    found = cuda_toolkit.find_cuda_home({"CUDA_PATH": str(real)}, None, lambda _: None)
    assert found == (str(real), "CUDA_PATH")
    home, why = cuda_toolkit.find_cuda_home({"CUDA_HOME": str(tmp_path)}, None, lambda _: None)
    assert home is None
    assert why == f"CUDA_HOME={tmp_path} has no bin/nvcc and include/cuda_runtime.h"


def test_nvcc_on_the_path_itself(tmp_path: Path):
    real = toolkit(tmp_path / "cuda-13.0")
    home, how = cuda_toolkit.find_cuda_home({}, None, lambda _: str(real / "bin" / "nvcc"))
    assert home == str(real.resolve()) and how.startswith("nvcc on the PATH")


def test_the_toolkit_a_wrapper_script_runs(tmp_path: Path):
    # /usr/local/bin/nvcc as on this project's machine: torch would guess /usr/local.
    real = toolkit(tmp_path / "cuda-13.0")
    script = wrapper(tmp_path / "local" / "bin", real)
    home, how = cuda_toolkit.find_cuda_home({}, "13.0", lambda _: str(script))
    assert home == str(real) and how == f"the toolkit {script} runs"


def test_no_toolkit_says_what_to_set(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cuda_toolkit, "is_toolkit", lambda path: False)
    script = wrapper(tmp_path / "bin", tmp_path / "gone")
    home, why = cuda_toolkit.find_cuda_home({}, "13.0", lambda _: str(script))
    assert home is None and "set CUDA_HOME to the folder with bin/nvcc" in why


@pytest.mark.parametrize("name", ["nvcc", "other"])
def test_is_toolkit_needs_both_files(tmp_path: Path, name):
    real = toolkit(tmp_path / "cuda")
    (real / ("bin/nvcc" if name == "nvcc" else "include/cuda_runtime.h")).unlink()
    assert not cuda_toolkit.is_toolkit(real)
