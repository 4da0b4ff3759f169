"""Finds the CUDA toolkit setup.py builds the kernels with (issue 16, item 9).

torch.utils.cpp_extension takes CUDA_HOME, else CUDA_PATH, else the folder above the
`nvcc` on the PATH. Where that `nvcc` is a wrapper script (`exec /usr/local/cuda-13.0/
bin/nvcc "$@"` in /usr/local/bin), torch's guess is /usr/local, and the build stops at
cuda_runtime.h. setup.py asks this module first and sets CUDA_HOME to a real toolkit: a
folder with bin/nvcc and include/cuda_runtime.h. Torch-free, so the tests import it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["find_cuda_home", "is_toolkit"]

_WRAPPED = re.compile(r"(/[^\s'\"]*?)/bin/nvcc\b")


def is_toolkit(path: str | Path) -> bool:
    """Whether `path` holds a CUDA toolkit: bin/nvcc and include/cuda_runtime.h."""
    path = Path(path)
    return (path / "bin" / "nvcc").is_file() and (path / "include" / "cuda_runtime.h").is_file()


def _wrapped_toolkits(nvcc: Path) -> list[Path]:
    """The toolkit folders a small `nvcc` wrapper script names (`.../bin/nvcc`)."""
    try:
        if nvcc.stat().st_size > 65536:  # a real nvcc binary, not a script
            return []
        text = nvcc.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [Path(found) for found in _WRAPPED.findall(text)]


def find_cuda_home(
    environ: Mapping[str, str] = os.environ,
    cuda_version: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> tuple[str | None, str]:
    """The CUDA toolkit to build with, and where it was found or why none was.

    Args:
        environ: the environment (CUDA_HOME or CUDA_PATH win when set).
        cuda_version: torch.version.cuda, for /usr/local/cuda-<version>.
        which: finds `nvcc` on the PATH.

    Returns:
        (folder, how it was found), or (None, what to set) when there is none.

    Examples:
        >>> find_cuda_home({"CUDA_HOME": "/nowhere"})
        (None, 'CUDA_HOME=/nowhere has no bin/nvcc and include/cuda_runtime.h')
    """
    for name in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(name):
            if is_toolkit(environ[name]):
                return environ[name], name
            return None, f"{name}={environ[name]} has no bin/nvcc and include/cuda_runtime.h"
    candidates: list[tuple[Path, str]] = []
    nvcc = which("nvcc")
    if nvcc:
        real = Path(nvcc).resolve()
        candidates.append((real.parent.parent, f"nvcc on the PATH ({nvcc})"))
        candidates += [(p, f"the toolkit {nvcc} runs") for p in _wrapped_toolkits(real)]
    if cuda_version:
        candidates.append((Path(f"/usr/local/cuda-{cuda_version}"), f"torch's CUDA {cuda_version}"))
    candidates.append((Path("/usr/local/cuda"), "/usr/local/cuda"))
    for path, how in candidates:
        if is_toolkit(path):
            return str(path), how
    return None, ("no CUDA toolkit found (nvcc on the PATH, /usr/local/cuda): set CUDA_HOME "
                  "to the folder with bin/nvcc and include/cuda_runtime.h")  # fmt: skip
