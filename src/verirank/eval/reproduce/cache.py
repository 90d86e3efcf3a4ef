"""Step outputs on disk: JSON and .npy written to a temp name then renamed, so a killed run
never leaves a half-written file that a rerun would trust."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def cached_json(path: Path, compute: Callable[[], T]) -> T:
    """``compute()`` once; later calls read ``path``."""
    if path.exists():
        log.info("cached: %s", path)
        return read_json(path)  # type: ignore[no-any-return]
    value = compute()
    write_json(path, value)
    return value


def cached_model(folder: Path, train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A trained model's metadata (``folder/train.json``): ``train()`` (which writes
    ``folder/model.safetensors``) runs unless both files exist."""
    meta_path = folder / "train.json"
    if (folder / "model.safetensors").exists() and meta_path.exists():
        return cached_json(meta_path, dict)
    return cached_json(meta_path, train)


def cached_array(path: Path, compute: Callable[[], np.ndarray]) -> np.ndarray:
    if path.exists():
        log.info("cached: %s", path)
        return np.load(path, allow_pickle=False)
    value = np.asarray(compute())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, value, allow_pickle=False)
    os.replace(tmp, path)
    return value
