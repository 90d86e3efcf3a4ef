"""Crash-safe on-disk layout: immutable generation folders + an atomically replaced manifest.

    DIR/manifest.json        {"format", "format_version", "generation", "spec", "files", ...}
    DIR/gen-000007/...       every data file of that generation (.npy, docs.jsonl, hnsw)

A commit writes a complete new generation into a temp folder, fsyncs it, renames it into
place, then replaces manifest.json with ``os.replace``. A crash at any point leaves the
previous manifest pointing at the previous, complete generation.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verirank.errors import IndexError_

FORMAT = "verirank-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not root.exists():
        raise IndexError_(f"no index at {root}: the directory does not exist; build one with `verirank index FILE --index {root}`")
    if not path.exists():
        raise IndexError_(f"{root} is not a verirank index (no {MANIFEST}); build one with `verirank index FILE --index {root}`")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexError_(f"{path} is corrupt ({exc}); restore it from a backup or rebuild the index") from exc
    if manifest.get("format") != FORMAT:
        raise IndexError_(f"{path} is not a verirank index manifest (format={manifest.get('format')!r})")
    version = manifest.get("format_version", 0)
    if version > FORMAT_VERSION:
        raise IndexError_(
            f"{root} uses index format {version}, newer than this verirank reads ({FORMAT_VERSION}); "
            "upgrade verirank"
        )
    return manifest


def verify_files(gen_dir: Path, files: dict[str, dict[str, Any]], checksums: bool) -> None:
    for name, meta in files.items():
        path = gen_dir / name
        if not path.exists():
            raise IndexError_(f"index file {path} is missing; the index is damaged: rebuild it or restore a backup")
        size = path.stat().st_size
        if size != meta["bytes"]:
            raise IndexError_(f"index file {path} has {size} bytes, manifest says {meta['bytes']}; the index is damaged")
        if checksums and file_digest(path) != meta["sha256"]:
            raise IndexError_(f"index file {path} fails its sha256 check; the index is damaged: rebuild or restore it")


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time per index directory (advisory flock)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class GenerationWriter:
    """Collects the files of one generation in a temp folder; ``publish`` makes it current."""

    def __init__(self, root: Path, generation: int) -> None:
        self.root = root
        self.generation = generation
        self.name = f"gen-{generation:06d}"
        self.tmp = root / f".tmp-{self.name}-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def publish(self, manifest: dict[str, Any]) -> None:
        files = {}
        for path in sorted(self.tmp.iterdir()):
            with path.open("rb+") as f:
                os.fsync(f.fileno())
            files[path.name] = {"bytes": path.stat().st_size, "sha256": file_digest(path)}
        fsync_dir(self.tmp)
        final = self.root / self.name
        if final.exists():  # left by a crashed writer that never published its manifest
            shutil.rmtree(final)
        os.rename(self.tmp, final)
        fsync_dir(self.root)
        manifest = {**manifest, "format": FORMAT, "format_version": FORMAT_VERSION,
                    "generation": self.generation, "files": files}
        staging = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        staging.write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
        with staging.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(staging, self.root / MANIFEST)
        fsync_dir(self.root)
        remove_stale(self.root, keep=self.name)


def remove_stale(root: Path, keep: str) -> None:
    """Delete generations other than ``keep`` and temp folders of dead writers."""
    for child in root.iterdir():
        if child.is_dir() and child.name != keep and (child.name.startswith("gen-") or child.name.startswith(".tmp-gen-")):
            shutil.rmtree(child, ignore_errors=True)
