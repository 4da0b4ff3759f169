"""Loads the compiled extension eoi_ext._C, or explains once why the fallback runs.

Importing eoi_ext never fails because of the extension: when it is missing, was built
against another torch, or fails to load, eoi_ext warns once and the pure-PyTorch
fallback (eoi_ext.fallback) does the work.

EOI_EXT_BACKEND selects the backend:
  "auto" (default)   the compiled extension where it supports the device, else python
  "python"           always the pure-PyTorch fallback
  "ext"              the compiled extension; an error if it cannot be loaded
"""

from __future__ import annotations

import contextlib
import importlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

import torch

REBUILD_COMMAND = "pip install --no-build-isolation -e ."
BACKEND_CHOICES = ("auto", "python", "ext")


def _requested_backend() -> str:
    value = os.environ.get("EOI_EXT_BACKEND", "auto").strip().lower() or "auto"
    if value not in BACKEND_CHOICES:
        raise ValueError(
            f"EOI_EXT_BACKEND must be one of {', '.join(BACKEND_CHOICES)}, got {value!r}"
        )
    return value


def _load() -> tuple[ModuleType | None, str]:
    """Returns (the loaded extension module or None, why it is not loaded)."""
    try:
        config = importlib.import_module("eoi_ext._build_config")
    except ImportError:
        return None, "the compiled extension eoi_ext._C is not built"
    if torch.__version__ != config.TORCH_VERSION:
        return None, (
            f"the compiled extension was built against torch {config.TORCH_VERSION} but torch "
            f"{torch.__version__} is installed; rebuild it with `{REBUILD_COMMAND}`"
        )
    try:
        return importlib.import_module("eoi_ext._C"), ""
    except (ImportError, OSError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return None, (
            f"the compiled extension eoi_ext._C failed to load ({first_line}); "
            f"rebuild it with `{REBUILD_COMMAND}`"
        )


REQUESTED = _requested_backend()
if REQUESTED == "python":
    EXTENSION, UNAVAILABLE_REASON = None, "EOI_EXT_BACKEND=python"
else:
    EXTENSION, UNAVAILABLE_REASON = _load()
    if EXTENSION is None:
        if REQUESTED == "ext":
            raise ImportError(f"EOI_EXT_BACKEND=ext, but {UNAVAILABLE_REASON}")
        warnings.warn(
            f"eoi_ext: {UNAVAILABLE_REASON}; using the pure-PyTorch fallback (slower, same "
            "results).",
            RuntimeWarning,
            stacklevel=2,
        )


def extension_devices() -> tuple[str, ...]:
    """Device types the loaded extension has kernels for (empty without the extension)."""
    if EXTENSION is None:
        return ()
    backends = EXTENSION.build_info()["backends"]
    return tuple(name.removesuffix("-ext") for name in backends)


_forced_python = False


def backend(device: torch.device | str | None = "cpu") -> str:
    """Names the backend that runs for tensors on `device`.

    Returns "cpu-ext" (compiled C++), "cuda-ext" (compiled CUDA) or "python" (the
    pure-PyTorch fallback, which runs on any device).
    """
    device_type = torch.device("cpu" if device is None else device).type
    if device_type in extension_devices() and not _forced_python:
        return f"{device_type}-ext"
    return "python"


@contextlib.contextmanager
def use_python_backend() -> Iterator[None]:
    """Within the block, every eoi_ext call runs the pure-PyTorch fallback (as with
    EOI_EXT_BACKEND=python, but in-process and temporary): for comparing backends in one
    run, as `eoi bench` does. Not thread-safe."""
    global _forced_python
    previous, _forced_python = _forced_python, True
    try:
        yield
    finally:
        _forced_python = previous


def build_info() -> dict:
    """How the extension was built (empty dict with the reason when it is not loaded)."""
    if EXTENSION is None:
        return {"loaded": False, "reason": UNAVAILABLE_REASON}
    return {"loaded": True, **EXTENSION.build_info()}
