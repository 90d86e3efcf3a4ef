"""Crash-safe on-disk layout: immutable segment folders + an atomically replaced manifest.

    DIR/manifest.json        {"format", "format_version": 2, "generation", "spec", "segments", ...}
    DIR/seg-000007-00/...    the rows one commit (or one merge) added: docs.jsonl, vectors.npy,
                             keys.npy, tokens_*.npy, deletes.npy (tombstones), hnsw.usearch
    DIR/gen-000003/...       a format-1 generation: read as one segment without tombstones

A commit writes only its new segment into a temp folder, fsyncs it, renames it into place,
then replaces manifest.json with ``os.replace``. A crash at any point leaves the previous
manifest naming only complete, unchanged segments. Folders no manifest names are removed
after a publish, and only while no reader is opening the index (see :func:`reader_lock`).
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
FORMAT_VERSION = 2  # 1: one generation folder holding every row; 2: segments + tombstones
MANIFEST = "manifest.json"
WRITER_LOCK = ".lock"
READER_LOCK = ".readers.lock"


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


def describe(path: Path) -> dict[str, Any]:
    """fsync ``path`` and return its manifest entry (size and sha256)."""
    with path.open("rb+") as f:
        os.fsync(f.fileno())
    return {"bytes": path.stat().st_size, "sha256": file_digest(path)}


def read_manifest(root: Path) -> dict[str, Any]:
    """The current manifest, with format 1 presented as format 2 (one segment, no tombstones)."""
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
    if version < 2:
        return upgrade_v1(manifest)
    return manifest


def upgrade_v1(manifest: dict[str, Any]) -> dict[str, Any]:
    """A format-1 manifest as format 2: its generation folder is the single segment.

    Nothing on disk changes; the next commit writes a format-2 manifest that still names the
    old folder (which keeps its file names), so the upgrade costs no rewrite.
    """
    try:
        name = f"gen-{manifest['generation']:06d}"
        segment = {"name": name, "rows": manifest["count"], "files": manifest["files"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexError_(f"format-1 manifest lacks {exc}; the index is damaged: rebuild it or restore a backup") from exc
    return {**manifest, "format_version": 2, "upgraded_from": 1, "segments": [segment] if manifest["files"] else []}


def verify_files(seg_dir: Path, files: dict[str, dict[str, Any]], checksums: bool) -> None:
    for name, meta in files.items():
        path = seg_dir / name
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
    with (root / WRITER_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def reader_lock(root: Path) -> Iterator[None]:
    """Held (shared) while a reader goes from reading the manifest to holding every file open.

    Once opened, a reader keeps its files memory-mapped or in memory, and on POSIX an
    unlinked file stays readable through its open mapping; only the gap between reading
    the manifest and mapping the files needs protecting from garbage collection. A
    read-only directory (no lock file can be made) is read without the lock.
    """
    try:
        handle = (root / READER_LOCK).open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SegmentWriter:
    """Collects the files of one segment in a temp folder; ``finish`` renames it into place."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.tmp = root / f".tmp-{name}-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def finish(self) -> dict[str, dict[str, Any]]:
        """fsync every file, rename the folder to its final name; returns the file entries."""
        files = {path.name: describe(path) for path in sorted(self.tmp.iterdir())}
        fsync_dir(self.tmp)
        final = self.root / self.name
        if final.exists():  # left by a crashed writer that never published its manifest
            shutil.rmtree(final)
        os.rename(self.tmp, final)
        return files


def add_file(seg_dir: Path, name: str, write: Any) -> dict[str, Any]:
    """Add a derived file (an HNSW graph) to an existing segment folder, crash-safely.

    ``write(path)`` writes it to a temp name that is then renamed; the segment's data files
    are never touched, and a manifest that does not list the new file ignores it.
    """
    tmp = seg_dir / f".tmp-{name}-{os.getpid()}"
    write(tmp)
    entry = describe(tmp)
    os.rename(tmp, seg_dir / name)
    fsync_dir(seg_dir)
    return entry


def publish(root: Path, manifest: dict[str, Any]) -> None:
    """Make ``manifest`` current with one atomic rename (segment folders must be in place)."""
    fsync_dir(root)
    manifest = {**manifest, "format": FORMAT, "format_version": FORMAT_VERSION}
    staging = root / f".{MANIFEST}.{os.getpid()}.tmp"
    staging.write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    with staging.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(staging, root / MANIFEST)
    fsync_dir(root)


def collect_garbage(root: Path, keep: set[str]) -> list[str]:
    """Delete segment folders no manifest names, and temp files of dead writers.

    Call with the writer lock held. Skipped (returns []) while any reader is between reading
    a manifest and opening its files; the next commit tries again.
    """
    try:
        handle = (root / READER_LOCK).open("a")
    except OSError:
        return []
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        try:
            removed = []
            for child in root.iterdir():
                if child.name in keep:
                    if child.is_dir():
                        for part in child.glob(".tmp-*"):
                            part.unlink(missing_ok=True)
                    continue
                if child.is_dir() and child.name.startswith(("seg-", "gen-", ".tmp-seg-", ".tmp-gen-")):
                    shutil.rmtree(child, ignore_errors=True)
                    removed.append(child.name)
                elif child.is_file() and child.name.startswith(f".{MANIFEST}.") and child.name.endswith(".tmp"):
                    child.unlink(missing_ok=True)
            return removed
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
