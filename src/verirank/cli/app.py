"""``verirank index | search | info``; other commands register themselves from sibling modules."""

from __future__ import annotations

import json
import logging
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from verirank.errors import InputError, VerirankError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Retrieval that does not silently return the wrong match.")
console = Console(stderr=True)
out = Console()

IndexOpt = Annotated[Path, typer.Option("--index", "-i", help="Index directory.")]
RuntimeOpt = Annotated[str, typer.Option("--runtime", help="Encoder runtime: torch (fp32) or onnx (int8).")]
ModeOpt = Annotated[str, typer.Option(help="Verifier mode: relevance|identity.")]


def fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)


@app.command()
def index(
    source: Annotated[Path, typer.Argument(help="corpus.jsonl[.gz] (BEIR), .jsonl or .txt file, or a BEIR folder.")],
    index_dir: IndexOpt,
    runtime: RuntimeOpt = "torch",
    batch_size: Annotated[int, typer.Option(help="Texts per encoder batch.")] = 64,
    chunk: Annotated[int, typer.Option(help="Documents per atomic commit.")] = 5000,
    upsert: Annotated[bool, typer.Option(help="Replace documents whose id is already indexed.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Index only the first N documents.")] = None,
) -> None:
    """Encode a corpus and add it to an index (created if missing)."""
    from verirank.corpus import read_documents
    from verirank.pipeline import Pipeline

    try:
        docs = list(islice(read_documents(source), limit))
        pipe = Pipeline.default(index_dir, runtime=runtime, autocommit=False)
        started = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("indexing", total=len(docs), rate="")
            for lo in range(0, len(docs), chunk):
                part = docs[lo : lo + chunk]
                for blo in range(0, len(part), batch_size * 4):
                    pipe.add(part[blo : blo + batch_size * 4], batch_size=batch_size, overwrite=upsert)
                    done = lo + blo + len(part[blo : blo + batch_size * 4])
                    bar.update(task, completed=done, rate=f"{done / (time.perf_counter() - started):.0f} docs/s")
                pipe.index.commit()
        elapsed = time.perf_counter() - started
        info = pipe.info()
    except VerirankError as exc:
        fail(exc)
        return
    console.print(
        f"indexed {len(docs)} documents in {elapsed:.1f}s ({len(docs) / max(elapsed, 1e-9):.0f} docs/s, {runtime}); "
        f"index now holds {info.count}, {info.bytes_per_document or 0:.0f} bytes/doc on disk"
        + (f"; {info.truncated_documents} truncated to the encoder window" if info.truncated_documents else "")
    )


def _where(text: str | None) -> dict | None:
    """--where: a JSON object of metadata filters."""
    if text is None:
        return None
    try:
        where = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--where is not JSON ({exc.msg}); pass an object, e.g. --where '{{\"topic\": \"x\"}}'") from None
    if not isinstance(where, dict):
        raise InputError(f"--where must be a JSON object, got {type(where).__name__}; e.g. --where '{{\"topic\": \"x\"}}'")
    return where


def _reason_text(reasons: list) -> str:
    if not reasons:
        return ""
    r = reasons[0]
    span = f" {r.candidate_span.text!r}" if r.candidate_span else ""
    return f"{r.category.value}{span}"


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Query text.")],
    index_dir: IndexOpt,
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 10,
    level: Annotated[Optional[str], typer.Option(
        help="Verification level: off|light|full|strict (default: full when the index has the verifier's "
             "token states, else off).")] = None,
    mode: ModeOpt = "relevance",
    candidates: Annotated[Optional[int], typer.Option(help="Stage-1 hits to verify (default 2k).")] = None,
    budget_ms: Annotated[Optional[float], typer.Option(help="Stop verifying once this many ms are spent.")] = None,
    keep_rejected: Annotated[bool, typer.Option(help="Keep rejected hits, marked and ranked last.")] = False,
    where: Annotated[Optional[str], typer.Option(help='Metadata filter as a JSON object, e.g. \'{"topic": "x"}\'.')] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines (one hit per line) instead of a table.")] = False,
    runtime: RuntimeOpt = "torch",
) -> None:
    """Search an index."""
    from verirank.pipeline import Pipeline

    try:
        filters = _where(where)
        pipe = Pipeline.open(index_dir, runtime=runtime)
        hits = pipe.search(query, k=k, level=level, mode=mode, candidates=candidates, where=filters,
                           budget_ms=budget_ms, keep_rejected=keep_rejected)
    except VerirankError as exc:
        fail(exc)
        return
    if as_json:
        for hit in hits:
            sys.stdout.write(hit.model_dump_json() + "\n")
        return
    table = Table(title=f"{query!r} (level={level}, mode={mode})")
    for col in ("rank", "id", "score", "verdict", "reason", "text"):
        table.add_column(col)
    for hit in hits:
        verdict = f"{hit.decision.value} p={hit.p_match:.2f}" if hit.decision else "-"
        reason = _reason_text(hit.reasons) if hit.decision and hit.decision.value != "accept" else ""
        table.add_row(str(hit.rank + 1), hit.id, f"{hit.score:.3f}", verdict, reason, hit.text[:100])
    out.print(table)
    checked = next((hit.constraints for hit in hits if hit.constraints), [])
    if checked:
        out.print("query constraints: " + "; ".join(f"{c.kind.value} {c.text!r}" for c in checked))


@app.command()
def verify(
    query: Annotated[str, typer.Argument(help="Query text.")],
    candidates: Annotated[list[str], typer.Argument(help="Candidate texts to verify against the query.")],
    level: Annotated[str, typer.Option(help="Verification level: light|full|strict.")] = "full",
    mode: ModeOpt = "relevance",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines (one verdict per line) instead of a table.")] = False,
) -> None:
    """Verdicts for a query against candidate texts (no index needed)."""
    from verirank.pipeline import Pipeline

    try:
        verdicts = Pipeline.default().verify(query, candidates, mode=mode, level=level)
    except VerirankError as exc:
        fail(exc)
        return
    if as_json:
        for verdict in verdicts:
            sys.stdout.write(verdict.model_dump_json() + "\n")
        return
    table = Table(title=f"{query!r} (level={level}, mode={mode})")
    for col in ("#", "verdict", "p_match", "reason", "candidate"):
        table.add_column(col)
    for i, v in enumerate(verdicts):
        reason = _reason_text(v.reasons) if v.decision.value != "accept" else ""
        table.add_row(str(i + 1), v.decision.value, f"{v.p_match:.3f}", reason, v.candidate[:100])
    out.print(table)


@app.command()
def info(index_dir: IndexOpt) -> None:
    """Describe an index: count, models, sizes."""
    from verirank.index.embedded import EmbeddedIndex

    try:
        described = EmbeddedIndex.open(index_dir).info()
    except VerirankError as exc:
        fail(exc)
        return
    out.print_json(json.dumps(described.model_dump()))


@app.command()
def compact(index_dir: IndexOpt) -> None:
    """Merge an index's segments into one, dropping deleted and replaced documents."""
    from verirank.index.embedded import EmbeddedIndex

    try:
        index = EmbeddedIndex.open(index_dir)
        segments, bytes_before = index.segment_count(), index.info().bytes_on_disk or 0
        started = time.perf_counter()
        index.compact()
        elapsed = time.perf_counter() - started
        info = index.info()
    except VerirankError as exc:
        fail(exc)
        return
    console.print(
        f"compacted {segments} segment(s) into {index.segment_count()} in {elapsed:.1f}s: "
        f"{info.count} documents, {bytes_before / 1e6:.1f} MB -> {(info.bytes_on_disk or 0) / 1e6:.1f} MB on disk"
    )



from verirank.cli import train as _train_commands  # noqa: E402,F401  (registers train, calibrate)

from verirank.cli import profile as _profile  # noqa: E402,F401  (registers `verirank profile`)

from verirank.cli import serve as _serve  # noqa: E402,F401  (registers `verirank serve`)
