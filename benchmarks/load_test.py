"""Load test of ``verirank serve`` on loopback: many concurrent clients against the demo index.

Builds the demo index (examples/demo_corpus.jsonl) in a temporary directory, starts
``verirank serve`` on a free port, waits for /readyz, then runs ``--clients`` concurrent clients
that each send ``--requests`` requests (search at level full, verify, rerank, in turn, over the
demo queries). Reports latency percentiles per route and overall, status counts, throughput and
the server's own batch sizes (from /metrics). No timed asserts: it records what it measured.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/load_test.py --clients 200 --requests 20 \
        --seed 0 --out reports/bench/load_test.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {}
    return {"n": len(latencies_ms), "p50_ms": round(percentile(latencies_ms, 50), 1),
            "p95_ms": round(percentile(latencies_ms, 95), 1), "p99_ms": round(percentile(latencies_ms, 99), 1),
            "max_ms": round(max(latencies_ms), 1), "mean_ms": round(statistics.fmean(latencies_ms), 1)}


def requests_for(queries: list[dict], docs: dict[str, str], rng: random.Random, n: int) -> list[tuple[str, dict]]:
    """n requests cycling search / verify / rerank over the demo queries."""
    out = []
    for i in range(n):
        item = rng.choice(queries)
        query, mode = item["query"], item.get("mode", "relevance")
        cands = [docs[d] for d in [item["expects"], *item.get("trap", [])] if d in docs] or ["no candidate"]
        kind = i % 3
        if kind == 0:
            out.append(("/v1/search", {"query": query, "k": 5, "level": "full", "mode": mode, "candidates": 10}))
        elif kind == 1:
            out.append(("/v1/verify", {"query": query, "candidates": cands, "mode": mode, "level": "full"}))
        else:
            out.append(("/v1/rerank", {"query": query, "documents": cands, "top_n": 3, "mode": mode}))
    return out


async def client(base: str, http: httpx.AsyncClient, plan: list[tuple[str, dict]], results: list) -> None:
    for route, body in plan:
        started = time.perf_counter()
        try:
            res = await http.post(base + route, json=body)
            status = res.status_code
        except httpx.HTTPError as exc:
            status = f"client error: {type(exc).__name__}"
        results.append((route, status, 1000 * (time.perf_counter() - started)))


async def run_load(base: str, plans: list[list[tuple[str, dict]]], timeout_s: float) -> tuple[list, float]:
    results: list = []
    limits = httpx.Limits(max_connections=len(plans), max_keepalive_connections=len(plans))
    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(base, http, plan, results) for plan in plans))
        return results, time.perf_counter() - started


def batch_sizes(metrics_text: str) -> dict[str, float]:
    """Mean calls per model call, per stage, from the server's histogram."""
    sums = dict(re.findall(r'verirank_batch_size_sum\{stage="(\w+)"\} ([\d.e+]+)', metrics_text))
    counts = dict(re.findall(r'verirank_batch_size_count\{stage="(\w+)"\} ([\d.e+]+)', metrics_text))
    return {stage: round(float(sums[stage]) / float(counts[stage]), 2) for stage in counts if float(counts[stage])}


def stage_seconds(metrics_text: str) -> dict[str, float]:
    """Seconds the server spent in model calls, per stage (encode, project, verify)."""
    found = re.findall(r'verirank_stage_latency_seconds_sum\{stage="(\w+)"\} ([\d.e+-]+)', metrics_text)
    return {stage: round(float(value), 2) for stage, value in found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--requests", type=int, default=20, help="requests per client")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout-s", type=float, default=300.0, help="per-request client timeout")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "load_test.json")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    load_before = [round(x, 2) for x in os.getloadavg()]  # other jobs on the machine share its cores
    queries = json.loads((ROOT / "examples" / "demo_queries.json").read_text("utf-8"))
    docs = {d["_id"]: d["text"] for d in map(json.loads, (ROOT / "examples" / "demo_corpus.jsonl").open())}
    verirank = [sys.executable, "-m", "verirank.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "demo_index"
        subprocess.run([*verirank, "index", str(ROOT / "examples" / "demo_corpus.jsonl"), "--index", str(index)],
                       check=True, capture_output=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*verirank, "serve", "--index", str(index), "--port", str(port),
                                   "--log-level", "warning", "--max-k", "100"],
                                  stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "server.log", "w"))
        try:
            deadline = time.time() + 180
            while True:
                try:
                    if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.time() > deadline:
                    print((Path(tmp) / "server.log").read_text()[-3000:], file=sys.stderr)
                    raise SystemExit("server did not become ready")
                time.sleep(0.5)
            plans = [requests_for(queries, docs, rng, args.requests) for _ in range(args.clients)]
            asyncio.run(run_load(base, [plans[0][:3]], args.timeout_s))  # warm-up, not counted
            results, elapsed = asyncio.run(run_load(base, plans, args.timeout_s))
            metrics_text = httpx.get(base + "/metrics", timeout=10).text
        finally:
            server.terminate()
            server.wait(30)
        server_log = (Path(tmp) / "server.log").read_text()
    record_load = [round(x, 2) for x in os.getloadavg()]
    statuses = Counter(str(s) for _, s, _ in results)
    by_route = {route: summary([ms for r, _, ms in results if r == route]) for route in sorted({r for r, _, _ in results})}
    record = {
        "benchmark": "load_test",
        "command": " ".join(["python", "benchmarks/load_test.py", *sys.argv[1:]]),
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "niceness": os.nice(0),
                    "load_average_before": load_before},
        "clients": args.clients,
        "requests_per_client": args.requests,
        "requests": len(results),
        "elapsed_s": round(elapsed, 1),
        "throughput_rps": round(len(results) / elapsed, 1),
        "status_counts": dict(statuses),
        "errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "errors_other": sum(n for s, n in statuses.items() if not s.startswith("2") and not s.startswith("5")),
        "latency_all": summary([ms for _, _, ms in results]),
        "latency_by_route": by_route,
        "mean_batch_size": batch_sizes(metrics_text),
        "model_seconds_by_stage": stage_seconds(metrics_text),
        "server_log_tracebacks": server_log.count("Traceback"),
        "load_average_after": record_load,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    print("| route | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|")
    for route, s in [*by_route.items(), ("all", record["latency_all"])]:
        print(f"| {route} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    print(f"{len(results)} requests in {elapsed:.1f}s ({record['throughput_rps']} req/s); statuses {dict(statuses)}; "
          f"mean batch sizes {record['mean_batch_size']}")
    return 0 if record["errors_5xx"] == 0 and record["errors_other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
