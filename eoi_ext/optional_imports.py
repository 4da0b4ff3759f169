"""Optional dependencies, imported when first needed with one clear error: torchvision
builds EfficientNet-B0 (eoi_ext/models/efficientnet.py) and reads MNIST and CIFAR-10
(eoi_ext/lab/data.py)."""

from __future__ import annotations

from types import ModuleType

import torch

__all__ = ["import_torchvision"]


def import_torchvision(needed_by: str) -> ModuleType:
    """torchvision, or an ImportError naming `needed_by` and the release to install.

    Args:
        needed_by: what needs it, the error's subject (e.g. "efficientnet_b0").

    Returns:
        The torchvision module.

    Raises:
        ImportError: torchvision is not installed, or fails to import (one built for
            another torch fails in its ops, with any exception).

    Examples:
        >>> import importlib.util
        >>> if importlib.util.find_spec("torchvision") is not None:  # optional dependency
        ...     assert eoi_ext.optional_imports.import_torchvision("a test").models
    """
    try:
        import torchvision
    except ImportError as error:
        raise ImportError(
            f"{needed_by} needs torchvision: pip install torchvision (the release built for "
            f"the installed torch {torch.__version__})"
        ) from error
    except Exception as error:  # a torchvision built for another torch fails in its ops
        raise ImportError(
            f"{needed_by} needs torchvision, which is installed but failed to import "
            f"({type(error).__name__}: {error}); install the torchvision release built for "
            f"torch {torch.__version__}"
        ) from error
    return torchvision
