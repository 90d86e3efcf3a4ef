"""Import optional dependencies lazily, with an install hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from verirank.errors import MissingDependency


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"{module!r} is not installed; it is needed here. "
            f'Install it with: pip install "verirank[{extra}]"'
        ) from exc
