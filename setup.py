"""Builds eoi_ext and its compiled extension eoi_ext._C against the installed torch.

Build with `pip install --no-build-isolation -e .` (or `pip wheel --no-build-isolation .`)
so the extension is compiled against the torch you run. Environment:
  EOI_EXT_SKIP_EXTENSION=1   build the pure-Python package only (the fallback backend)
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CppExtension

ROOT = Path(__file__).parent
CORE_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "csrc" / "core").glob("*.cpp"))


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


def extensions() -> list:
    if os.environ.get("EOI_EXT_SKIP_EXTENSION", "0") == "1":
        return []
    write_build_config()
    # The CUDA kernels (csrc/cuda) will join here as a CUDAExtension when torch has
    # CUDA and nvcc is found; the CPU build below is always available.
    return [
        CppExtension(
            "eoi_ext._C",
            sources=["csrc/ops.cpp", *CORE_SOURCES],
            include_dirs=[str(ROOT / "csrc")],
            extra_compile_args={
                "cxx": ["-O3", "-g0", "-fopenmp", f'-DEOI_TORCH_VERSION="{torch.__version__}"'],
            },
            extra_link_args=["-fopenmp"],
        )
    ]


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtension})
