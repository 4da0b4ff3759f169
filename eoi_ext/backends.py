"""The backend seam: which implementation of the five ops runs, and why.

Every EOI matrix is built by five ops (sample_plans, rotation_levels, apply_plans,
support_masks, top_up_masks; docs/backends.md, "The seam"). Two implementations exist
with the same signatures: the compiled ops of eoi_ext._C (eoi_ext.ops) and the
pure-PyTorch fallback (eoi_ext.fallback). This module alone decides between them:

- it loads eoi_ext._C at import, refusing an extension built against another torch and
  warning once why the fallback runs (importing eoi_ext never fails because of it);
- :func:`kernels` returns the implementation for a device: the compiled ops where the
  extension has kernels for that device type, else the fallback;
- :func:`use_python_backend` forces the fallback inside a block; the override is a
  context variable, so threads and asyncio tasks each see their own.

EOI_EXT_BACKEND selects the backend at import:
  "auto" (default)   the compiled extension where it supports the device, else python
  "python"           always the pure-PyTorch fallback (eoi_ext._C is not even loaded)
  "ext"              the compiled extension; an ImportError if it cannot be loaded
"""

from __future__ import annotations

import contextlib
import importlib
import os
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType
from typing import Any, Protocol

import torch
from torch import Tensor

from . import fallback

__all__ = ["Kernels", "backend", "build_info", "kernels", "use_python_backend"]

REBUILD_COMMAND = "pip install --no-build-isolation -e ."
BACKEND_CHOICES = ("auto", "python", "ext")


class Kernels(Protocol):
    """What a backend provides: the five ops, with the signatures of eoi_ext.ops."""

    def sample_plans(
        self, seeds: Tensor, n: int, m: int, density: float, at_most: bool,
        pin_memory: bool = False,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]: ...  # fmt: skip

    def rotation_levels(self, offsets: Tensor, pairs: Tensor, m: int) -> Tensor: ...

    def apply_plans(
        self, offsets: Tensor, pairs: Tensor, cos_sin: Tensor, m: int, row_begin: int,
        row_end: int, transposed: bool, gain: float, out: Tensor, coord_begin: int = 0,
        coord_end: int = -1,
    ) -> None: ...  # fmt: skip

    def support_masks(
        self, support: Tensor, n: int, m: int, row_begin: int, row_end: int,
        transposed: bool, mask: Tensor, coord_begin: int = 0, coord_end: int = -1,
    ) -> None: ...  # fmt: skip

    def top_up_masks(self, seeds: Tensor, target_count: int, mask: Tensor) -> None: ...


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
        # Loading an extension built for another torch can fail with undefined symbols
        # or worse, so it is not even imported.
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

# Imported after eoi_ext._C: loading _C defines torch.ops.eoi_ext.*, and importing ops
# registers their fake kernels, so both exist as soon as eoi_ext is imported.
from . import ops  # noqa: E402

_FORCED_PYTHON: ContextVar[bool] = ContextVar("eoi_ext_forced_python", default=False)


# Device types the loaded extension has kernels for (empty without the extension): read
# once, since backend() runs on every op call.
EXTENSION_DEVICES: tuple[str, ...] = (
    () if EXTENSION is None
    else tuple(name.removesuffix("-ext") for name in EXTENSION.build_info()["backends"])
)  # fmt: skip


def backend(device: torch.device | str | None = "cpu") -> str:
    """Names the backend that runs for tensors on `device`.

    Args:
        device: a device or device string; None means the CPU.

    Returns:
        "cpu-ext" (compiled C++), "cuda-ext" (compiled CUDA) or "python" (the
        pure-PyTorch fallback, which runs on any device).

    Examples:
        >>> eoi_ext.backend("meta")
        'python'
        >>> with eoi_ext.use_python_backend():
        ...     eoi_ext.backend("cpu")
        'python'
    """
    device_type = torch.device("cpu" if device is None else device).type
    if device_type in EXTENSION_DEVICES and not _FORCED_PYTHON.get():
        return f"{device_type}-ext"
    return "python"


def kernels(device: torch.device | str | None) -> Kernels:
    """The ops that run for tensors on `device`: eoi_ext.ops or eoi_ext.fallback."""
    return fallback if backend(device) == "python" else ops  # type: ignore[return-value]


@contextlib.contextmanager
def use_python_backend() -> Iterator[None]:
    """Runs every eoi_ext call inside the block on the pure-PyTorch fallback.

    As EOI_EXT_BACKEND=python, but in-process and temporary: for comparing backends in
    one run, as `eoi bench` does. The override lives in a context variable, so other
    threads (and asyncio tasks) keep their own backend.

    Returns:
        A context manager.

    Examples:
        >>> with eoi_ext.use_python_backend():
        ...     W, M = eoi_ext.sparse_orthogonal(8, 8, 0.5)
        >>> W.shape
        torch.Size([8, 8])
    """
    token = _FORCED_PYTHON.set(True)
    try:
        yield
    finally:
        _FORCED_PYTHON.reset(token)


def build_info() -> dict[str, Any]:
    """How the extension was built.

    Returns:
        {"loaded": True, "backends": [...], "torch": ..., ...} from eoi_ext._C, or
        {"loaded": False, "reason": why the fallback runs}.

    Examples:
        >>> info = eoi_ext.build_info()
        >>> info["loaded"] == (eoi_ext.backend("cpu") == "cpu-ext")
        True
    """
    if EXTENSION is None:
        return {"loaded": False, "reason": UNAVAILABLE_REASON}
    return {"loaded": True, **EXTENSION.build_info()}
