"""Read documents from BEIR ``corpus.jsonl`` (optionally gzipped), plain ``.jsonl`` or ``.txt``."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from verirank.errors import InputError
from verirank.types import Document

SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".txt", ".txt.gz")


def _open_text(path: Path) -> IO[str]:
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict")


def read_documents(path: str | Path) -> Iterator[Document]:
    """Yield Documents from a file. A BEIR record's title is prepended to its text.

    ``.txt``: one document per non-empty line, id = line number. ``.jsonl``: one JSON
    object per line with ``_id``/``id`` and ``text`` (+ optional ``title``, ``metadata``).
    """
    path = Path(path)
    if path.is_dir():
        candidate = next((path / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (path / n).exists()), None)
        if candidate is None:
            raise InputError(f"{path} is a directory without corpus.jsonl[.gz]; point at a file")
        path = candidate
    if not path.exists():
        raise InputError(f"{path} does not exist; give a .jsonl, .jsonl.gz or .txt file")
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise InputError(f"{path}: unsupported file type; use one of {', '.join(SUFFIXES)}")
    is_txt = ".txt" in name
    line_no = 0
    try:
        with _open_text(path) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                yield _txt_document(line, line_no) if is_txt else _json_document(line, line_no, path)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: line {line_no + 1} is not valid UTF-8 (byte {exc.start}); "
            "re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc}); is the file truncated or not gzip?") from exc


def _txt_document(line: str, line_no: int) -> Document:
    return Document(id=str(line_no), text=line.strip())


def _json_document(line: str, line_no: int, path: Path) -> Document:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{line_no}: not valid JSON ({exc.msg}); one JSON object per line") from exc
    if not isinstance(rec, dict):
        raise InputError(f"{path}:{line_no}: expected a JSON object, got {type(rec).__name__}")
    doc_id = rec.get("_id", rec.get("id"))
    if doc_id is None:
        raise InputError(f"{path}:{line_no}: record has no '_id' or 'id' field")
    title = (rec.get("title") or "").strip()
    text = (rec.get("text") or "").strip()
    if title and not text.lower().startswith(title.lower()):
        text = f"{title}. {text}" if text else title
    if not text:
        raise InputError(f"{path}:{line_no}: document {doc_id!r} has empty text; remove it or fill it")
    metadata = rec.get("metadata") or {}
    return Document(id=str(doc_id), text=text, metadata=metadata)
