"""`make demo`: index a small corpus full of deliberate near-misses, then show stage 1 beside
stage 2 for a few queries, so the near-misses that cosine similarity lets through are visible."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import verirank
from verirank.corpus import read_documents

HERE = Path(__file__).resolve().parent
console = Console(width=160)


def main() -> int:
    docs = list(read_documents(HERE / "demo_corpus.jsonl"))
    queries = json.loads((HERE / "demo_queries.json").read_text("utf-8"))
    started = time.perf_counter()
    pipe = verirank.Pipeline.default()  # shipped encoder + verifier, in-memory embedded index
    pipe.add(docs)
    console.print(f"[bold]indexed {len(docs)} passages[/] in {time.perf_counter() - started:.1f}s "
                  f"(verifier token head {pipe.index.spec.token_head_id})\n")
    fixed = 0
    for item in queries:
        query, mode = item["query"], item.get("mode", "relevance")
        plain = pipe.search(query, k=5, level="off")
        verified = pipe.search(query, k=5, level="full", mode=mode, candidates=10)  # rejects dropped
        caught = [h for h in pipe.search(query, k=10, level="full", mode=mode, candidates=10, keep_rejected=True)
                  if h.decision is not None and h.decision.value == "reject" and h.id in item.get("trap", [])]
        table = Table(title=f"{query!r}  (mode={mode})", title_justify="left", show_lines=False)
        table.add_column("#", width=2)
        table.add_column("stage 1 (cosine)", width=62)
        table.add_column("verified (full)", width=62)
        table.add_column("verdict", width=26)
        for r in range(5):
            left = _cell(plain[r], item) if r < len(plain) else ""
            right, verdict = ("", "")
            if r < len(verified):
                hit = verified[r]
                right = _cell(hit, item)
                verdict = f"{hit.decision.value} p={hit.p_match:.2f}" if hit.decision else "not verified"
                if hit.reasons and hit.decision.value != "accept":
                    reason = hit.reasons[0]
                    span = f" '{reason.candidate_span.text}'" if reason.candidate_span else ""
                    verdict += f"\n{reason.category.value}{span}"
            table.add_row(str(r + 1), left, right, verdict)
        console.print(table)
        for hit in caught:
            reason = hit.reasons[0]
            console.print(f"  [red]rejected near-miss[/] {hit.text!r} p={hit.p_match:.2f} ({reason.category.value}"
                          + (f", '{reason.candidate_span.text}'" if reason.candidate_span else "") + ")")
        traps = set(item.get("trap", []))
        top_plain = plain[0].id if plain else None
        accepted = [h for h in verified if h.decision and h.decision.value == "accept"]
        if top_plain in traps and (not accepted or accepted[0].id not in traps):
            fixed += 1
        console.print()
    console.print(f"[bold]queries where stage 1 ranked a near-miss first and verification fixed it: {fixed}/"
                  f"{sum(1 for q in queries if q.get('trap'))}[/]\n")
    check_identity_verdicts(pipe, queries, {d.id: d for d in docs})
    check_relevance_verdicts(pipe, queries)
    return 0


def check_relevance_verdicts(pipe: verirank.Pipeline, queries: list[dict]) -> None:
    """Relevance mode, level full, over each query's top 10: passages that address the query
    (expected, answers) accepted; traps (violating a constraint of the query) rejected; every
    other passage rejected or ranked below all the addressing ones. Also the abstain rate."""
    failures, checks, decisions = [], 0, []
    for item in (q for q in queries if q.get("mode", "relevance") == "relevance"):
        hits = pipe.search(item["query"], k=10, level="full", mode="relevance", candidates=10, keep_rejected=True)
        addressing = {item["expects"], *item.get("answers", [])}
        lowest = max((h.rank for h in hits if h.id in addressing), default=-1)
        for hit in hits:
            decisions.append(hit.decision.value)
            verdict = f"{hit.decision.value} p={hit.p_match:.2f}"
            if hit.id in addressing:
                checks += 1
                if hit.decision.value != "accept":
                    failures.append(f"addresses {item['query']!r}: {hit.text[:50]!r} {verdict}")
            elif hit.id in item.get("trap", []):
                checks += 1
                if hit.decision.value != "reject":
                    failures.append(f"violates {item['query']!r}: {hit.text[:50]!r} {verdict}")
            else:
                checks += 1
                if hit.decision.value != "reject" and hit.rank < lowest:
                    failures.append(f"unrelated to {item['query']!r} yet above an answer: {hit.text[:50]!r} {verdict}")
    abstain = decisions.count("abstain") / max(1, len(decisions))
    console.print(f"\n[bold]relevance-mode checks: {checks - len(failures)}/{checks} right[/] (answers accepted, "
                  f"traps rejected, unrelated passages rejected or ranked below the answers); abstain rate "
                  f"{abstain:.0%} of {len(decisions)} verdicts")
    for failure in failures:
        console.print(f"  [yellow]not right:[/] {failure}")


def check_identity_verdicts(pipe: verirank.Pipeline, queries: list[dict], docs: dict) -> None:
    """Identity mode, level full: is every expected answer accepted, and every hand-made near-miss
    rejected with its own category? Says plainly which are not."""
    failures = []
    checks = 0
    for item in (q for q in queries if q.get("mode") == "identity"):
        ids = [item["expects"], *item.get("trap", [])]
        verdicts = pipe.verify(item["query"], [docs[i].text for i in ids], mode="identity", level="full")
        for doc_id, verdict in zip(ids, verdicts):
            checks += 1
            kind = docs[doc_id].metadata.get("kind")
            if doc_id == item["expects"]:
                if verdict.decision.value != "accept":
                    failures.append(f"expected answer {docs[doc_id].text!r} for {item['query']!r}: "
                                    f"{verdict.decision.value} (p={verdict.p_match:.2f})")
            elif verdict.decision.value != "reject" or verdict.reasons[0].category.value != kind:
                got = verdict.reasons[0].category.value if verdict.reasons else "-"
                failures.append(f"near-miss {docs[doc_id].text!r} ({kind}) for {item['query']!r}: "
                                f"{verdict.decision.value} as {got} (p={verdict.p_match:.2f})")
    console.print(f"[bold]identity-mode checks: {checks - len(failures)}/{checks} right[/] (expected answers "
                  "accepted, near-misses rejected with their own category)")
    for failure in failures:
        console.print(f"  [yellow]not right:[/] {failure}")


def _cell(hit: verirank.SearchHit, item: dict) -> str:
    # "answers": passages that address the question with another fact (relevant, not traps);
    # a trap violates a constraint of the query ("from Vienna" for "to Vienna")
    mark = " [green](expected)[/]" if hit.id == item.get("expects") else (
        " [green](answers)[/]" if hit.id in item.get("answers", []) else (
            " [red](near-miss)[/]" if hit.id in item.get("trap", []) else ""))
    return f"{hit.stage1_score:.3f} {hit.text[:52]}{mark}"


if __name__ == "__main__":
    sys.exit(main())
