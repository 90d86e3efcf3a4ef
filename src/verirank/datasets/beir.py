"""BEIR-layout retrieval sets: ``corpus.jsonl[.gz]``, ``queries.jsonl[.gz]``, ``qrels/<split>.tsv``."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from pydantic import BaseModel, ConfigDict

import logging

from verirank.corpus import _json_document, read_documents
from verirank.datasets._root import data_root, require_file
from verirank.errors import InputError
from verirank.types import Document

log = logging.getLogger(__name__)

RELEVANCE_SETS = ("cranfield", "cisi", "med", "cacm", "lisa", "npl", "limit-small")


class RetrievalSet(BaseModel):
    """A corpus, its queries and graded judgements ``qrels[query_id][doc_id] = grade``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    corpus: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    skipped_empty: list[str] = []  # ids of corpus records with neither title nor text

    @property
    def judged_queries(self) -> dict[str, str]:
        """Queries with at least one relevant (grade > 0) document."""
        return {q: t for q, t in self.queries.items() if any(g > 0 for g in self.qrels.get(q, {}).values())}


def _open_text(path: Path) -> IO[str]:
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8")


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return folder / names[0]


class CorpusFile(NamedTuple):
    """Documents read from a corpus file, and the ids of empty records that were skipped."""

    documents: list[Document]
    skipped_empty: list[str]


def load_corpus(path: str | Path) -> CorpusFile:
    """Documents of a corpus file (as :func:`verirank.corpus.read_documents`), skipping records
    whose title and text are both empty (Cranfield has two) instead of failing on them."""
    path = Path(path)
    if path.is_dir():
        path = _first_existing(path, ("corpus.jsonl.gz", "corpus.jsonl"))
    require_file(path, "corpus file")
    if ".jsonl" not in path.name.lower():
        return CorpusFile(list(read_documents(path)), [])
    docs: list[Document] = []
    skipped: list[str] = []
    for line_no, line, rec in _json_lines(path):
        if isinstance(rec, dict) and not (rec.get("title") or "").strip() and not (rec.get("text") or "").strip():
            skipped.append(str(rec.get("_id", rec.get("id", f"line {line_no}"))))
            continue
        docs.append(_json_document(line, line_no, path))
    if skipped:
        log.warning("%s: skipped %d empty documents: %s", path, len(skipped), ", ".join(skipped[:10]))
    return CorpusFile(docs, skipped)


def load_queries(path: str | Path) -> dict[str, str]:
    """Queries from a JSONL file of ``{"_id"|"id": ..., "text": ...}`` objects (optionally gzipped)."""
    path = require_file(Path(path), "queries file")
    queries: dict[str, str] = {}
    for line_no, _, rec in _json_lines(path):
        qid = rec.get("_id", rec.get("id")) if isinstance(rec, dict) else None
        text = (rec.get("text") or "").strip() if isinstance(rec, dict) else ""
        if qid is None or not text:
            raise InputError(f"{path}:{line_no}: a query needs '_id' (or 'id') and non-empty 'text'")
        queries[str(qid)] = text
    return queries


def _json_lines(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, raw line, parsed JSON) for each non-blank line; bad JSON names the line."""
    with _open_text(path) as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{line_no}: not valid JSON ({exc.msg}); one JSON object per line") from exc
            yield line_no, line, rec


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Judgements from a TSV ``query-id  corpus-id  score`` (header optional; TREC 4-column accepted)."""
    path = require_file(Path(path), "qrels file")
    qrels: dict[str, dict[str, int]] = {}
    with _open_text(path) as f:
        for line_no, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if len(row) == 1:
                row = row[0].split()
            if not row or not "".join(row).strip():
                continue
            if len(row) == 4:  # TREC: qid iter docid rel
                row = [row[0], row[2], row[3]]
            if len(row) != 3:
                raise InputError(f"{path}:{line_no}: expected 3 tab-separated columns (query-id, corpus-id, score)")
            if line_no == 1 and not row[-1].strip().lstrip("-").isdigit():
                continue  # header
            qid, doc_id, grade = (c.strip() for c in row)
            try:
                qrels.setdefault(qid, {})[doc_id] = int(grade)
            except ValueError:
                raise InputError(f"{path}:{line_no}: score {grade!r} is not an integer") from None
    return qrels


def load_beir(name_or_path: str | Path, *, root: str | Path | None = None, split: str = "test") -> RetrievalSet:
    """Load a BEIR-layout folder: a shipped set by name (``"cranfield"``) or any folder path."""
    path = Path(name_or_path)
    if not path.is_dir():
        if str(name_or_path) in RELEVANCE_SETS or path.parent == Path("."):
            path = data_root(root) / str(name_or_path)
        if not path.is_dir():
            raise InputError(
                f"BEIR folder {path} does not exist; give a folder with corpus.jsonl[.gz], queries.jsonl "
                f"and qrels/{split}.tsv, or one of {RELEVANCE_SETS}"
            )
    corpus, skipped = load_corpus(require_file(_first_existing(path, ("corpus.jsonl.gz", "corpus.jsonl")), "BEIR corpus"))
    queries_path = _first_existing(path, ("queries.jsonl", "queries.jsonl.gz"))
    qrels_path = _first_existing(path / "qrels", (f"{split}.tsv", f"{split}.tsv.gz"))
    return RetrievalSet(
        name=path.name,
        corpus=corpus,
        queries=load_queries(queries_path),
        qrels=load_qrels(qrels_path),
        skipped_empty=skipped,
    )
