"""``verirank profile``: stage-1 relevance + near-miss robustness report for a corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from verirank.cli.app import RuntimeOpt, app, console, fail, out
from verirank.errors import VerirankError


@app.command()
def profile(
    corpus: Annotated[Path, typer.Option("--corpus", help="corpus.jsonl[.gz] (BEIR), .jsonl or .txt file, or a BEIR folder.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for report.md, report.html, report.json.")],
    queries: Annotated[Optional[Path], typer.Option(help="queries.jsonl ({_id, text}) for the relevance part.")] = None,
    qrels: Annotated[Optional[Path], typer.Option(help="qrels TSV (query-id, corpus-id, score) for the relevance part.")] = None,
    level: Annotated[str, typer.Option(help="Verification level: off|light|full|strict.")] = "off",
    runtime: RuntimeOpt = "torch",
    max_docs: Annotated[Optional[int], typer.Option(help="Use only the first N documents.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and bootstrap.")] = 0,
    generated_anchors: Annotated[int, typer.Option(
        help="Corpus sentences to generate near-misses from; rarer categories fit 1-5% of them (0: skip).")] = 2000,
    max_words: Annotated[Optional[int], typer.Option(
        help="Longest sentence (words) the generator rewrites; 0: no limit (more pairs, fewer valid). "
             "Default: the audited per-category limits.")] = None,
    handwritten: Annotated[bool, typer.Option(
        help="Score the 70 hand-written triples shipped with verirank (every category, with paraphrases).")] = True,
    shipped_pairs: Annotated[int, typer.Option(help="Pairs sampled from each shipped set, cannot/hans/mrpc (0: skip).")] = 300,
    shipped_split: Annotated[str, typer.Option(help="Split of the shipped sets: test (held out), train or all.")] = "test",
    data_root: Annotated[Optional[Path], typer.Option(help="Shipped data directory (default: $VERIRANK_DATA or ../shared/data).")] = None,
    top_k: Annotated[int, typer.Option(help="Documents retrieved per query.")] = 100,
    n_resamples: Annotated[int, typer.Option(help="Bootstrap resamples for the 95% CIs.")] = 1000,
    batch_size: Annotated[int, typer.Option(help="Texts per encoder batch.")] = 64,
) -> None:
    """Profile a corpus: nDCG@10/Recall@100/MRR@10 (with qrels) and per-category near-miss separation."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from verirank.eval.profile import ProfileConfig, run_profile
    from verirank.eval.report import category_rows, relevance_rows, write_report

    config = ProfileConfig(
        corpus=str(corpus), queries=str(queries) if queries else None, qrels=str(qrels) if qrels else None,
        level=level, runtime=runtime, max_docs=max_docs, seed=seed, generated_anchors=generated_anchors,
        max_words=max_words, handwritten=handwritten, shipped_pairs=shipped_pairs, shipped_split=shipped_split,
        data_root=str(data_root) if data_root else None, top_k=top_k, n_resamples=n_resamples, batch_size=batch_size,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            tasks: dict[str, int] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            report = run_profile(config, progress=progress)
        files = write_report(report, out_dir)
    except VerirankError as exc:
        fail(exc)
        return
    if report.relevance is not None:
        table = Table(title="relevance (stage 1)")
        for col in ("metric", "value [95% CI]"):
            table.add_column(col)
        for row in relevance_rows(report):
            table.add_row(*row)
        out.print(table)
    for result in report.nearmiss:
        table = Table(title=f"near-misses: {result.name} ({result.n_pairs} pairs)")
        for col in ("category", "neg", "pos", "anchors", "pairwise acc", "AUROC", "FAR@TAR95"):
            table.add_column(col)
        for row in category_rows(result):
            table.add_row(*row)
        out.print(table)
    for step, why in report.skipped.items():
        console.print(f"[yellow]skipped {step}:[/] {why}")
    console.print(f"report written to {files.directory} (report.md, report.html, report.json)")
