"""Builds eoi_ext and its compiled extension eoi_ext._C against the installed torch.

Build with `pip install --no-build-isolation -e .` (or `pip wheel --no-build-isolation .`)
so the extension is compiled against the torch you run. Environment:
  EOI_EXT_SKIP_EXTENSION=1   build the pure-Python package only (the fallback backend)
  EOI_EXT_CUDA=auto|1|0      CUDA kernels: auto (default) builds them when torch has CUDA
                             and nvcc is found; 1 requires them; 0 builds the CPU extension
  TORCH_CUDA_ARCH_LIST       GPU architectures to compile for, e.g. "9.0" (H100 / H200);
                             unset: those of the visible GPUs (torch's rule)
  CUDA_HOME                  the CUDA toolkit (bin/nvcc, include/cuda_runtime.h); unset:
                             found by scripts/cuda_toolkit.py (nvcc on the PATH, through a
                             wrapper script, /usr/local/cuda-<torch's CUDA>, /usr/local/cuda)
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from setuptools import setup

ROOT = Path(__file__).parent


def find_toolkit() -> tuple[str | None, str]:
    """The CUDA toolkit scripts/cuda_toolkit.py finds, as CUDA_HOME before
    torch.utils.cpp_extension reads it (torch's own guess stops at an `nvcc` wrapper
    script's folder): (folder, how it was found), or (None, what to set)."""
    path = ROOT / "scripts" / "cuda_toolkit.py"
    spec = importlib.util.spec_from_file_location("cuda_toolkit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    home, how = module.find_cuda_home(os.environ, torch.version.cuda)
    if home is not None:
        os.environ["CUDA_HOME"] = home
    return home, how


TOOLKIT, TOOLKIT_HOW = find_toolkit() if torch.version.cuda else (None, "a CPU torch")

from torch.utils.cpp_extension import (  # noqa: E402  (after CUDA_HOME is settled)
    BuildExtension,
    CppExtension,
    CUDAExtension,
)

CORE_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc" / "core").glob("*.cpp"))
CUDA_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc" / "cuda").glob("*.cu"))
CUDA_MODES = ("auto", "1", "0")


def write_build_config() -> None:
    """Records the torch version the extension is compiled against.

    eoi_ext reads it before loading eoi_ext._C, so an extension built for another torch
    is never loaded (loading it could fail with undefined symbols or worse).
    """
    text = (
        '"""Written by setup.py at build time; do not edit."""\n\n'
        f"TORCH_VERSION = {torch.__version__!r}\n"
    )
    (ROOT / "eoi_ext" / "_build_config.py").write_text(text)


def build_cuda() -> bool:
    """Whether to compile the CUDA kernels (EOI_EXT_CUDA, see the module docstring)."""
    mode = os.environ.get("EOI_EXT_CUDA", "auto").strip().lower() or "auto"
    if mode not in CUDA_MODES:
        raise ValueError(f"EOI_EXT_CUDA must be one of {', '.join(CUDA_MODES)}, got {mode!r}")
    if torch.version.cuda is None:
        missing = f"torch {torch.__version__} is a CPU build"
    elif TOOLKIT is None:
        missing = TOOLKIT_HOW
    else:
        missing = ""
    if mode == "1" and missing:
        raise RuntimeError(f"EOI_EXT_CUDA=1 but {missing}")
    return mode != "0" and not missing


def cuda_archs() -> str:
    """The architectures the kernels are compiled for, as recorded in build_info()."""
    archs = os.environ.get("TORCH_CUDA_ARCH_LIST", "").strip()
    if archs:
        return archs
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        capabilities = {torch.cuda.get_device_capability(i) for i in range(count)}
        return ";".join(f"{major}.{minor}" for major, minor in sorted(capabilities))
    return "torch default"


def extensions() -> list:
    if os.environ.get("EOI_EXT_SKIP_EXTENSION", "0") == "1":
        return []
    write_build_config()
    common = {
        "include_dirs": [str(ROOT / "csrc")],
        "extra_link_args": ["-fopenmp"],
    }
    cxx = ["-O3", "-g0", "-fopenmp", f'-DEOI_TORCH_VERSION="{torch.__version__}"']
    if not build_cuda():
        return [
            CppExtension(
                "eoi_ext._C",
                sources=["csrc/ops.cpp", *CORE_SOURCES],
                extra_compile_args={"cxx": cxx},
                **common,
            )
        ]
    cuda_macros = [
        "-DEOI_WITH_CUDA",
        f'-DEOI_CUDA_VERSION="{torch.version.cuda}"',
        f'-DEOI_CUDA_ARCHS="{cuda_archs()}"',
    ]
    return [
        CUDAExtension(
            "eoi_ext._C",
            sources=["csrc/ops.cpp", "csrc/ops_cuda.cpp", *CORE_SOURCES, *CUDA_SOURCES],
            extra_compile_args={
                "cxx": cxx + cuda_macros,
                # No --use_fast_math: the kernels round like the CPU (rotation_tile.h).
                "nvcc": ["-O3", *cuda_macros],
            },
            **common,
        )
    ]


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtension})
