"""Where the shipped datasets live: ``root=`` argument, else ``$VERIRANK_DATA``, else ``../shared/data``.

Nothing is read at import time; the repo-relative default is only looked at when a loader runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from verirank.errors import InputError

ENV_VAR = "VERIRANK_DATA"


def _repo_default() -> Path:
    # src/verirank/datasets/_root.py -> parents[3] is the repository root in a source checkout.
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def data_root(root: str | Path | None = None) -> Path:
    """The data directory: ``root`` if given, else ``$VERIRANK_DATA``, else ``<repo>/../shared/data``.

    Raises :class:`InputError` naming the path tried and how to point verirank at the data.
    """
    if root is not None:
        path, origin = Path(root), "root= argument"
    elif os.environ.get(ENV_VAR):
        path, origin = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        path, origin = _repo_default(), "default location beside the repository"
    if not path.is_dir():
        raise InputError(
            f"data directory {path} (from the {origin}) does not exist; "
            f"set {ENV_VAR}=/path/to/shared/data or pass root=/path/to/shared/data"
        )
    return path


def has_data_root(root: str | Path | None = None) -> bool:
    """True when :func:`data_root` would find a directory."""
    try:
        data_root(root)
    except InputError:
        return False
    return True


def require_file(path: Path, what: str) -> Path:
    """Return ``path`` if it is a file, else raise an :class:`InputError` saying what is missing."""
    if not path.is_file():
        raise InputError(
            f"{what}: {path} does not exist; check the data directory "
            f"(set {ENV_VAR} or pass root=) and that the dataset folder is complete"
        )
    return path
