"""What every benchmark shares: machine info, timing summaries, interleaved timing, JSON records.

Timings on a shared machine are noisy: report min and median of repeats, and compare runtimes
by ratios of medians measured in the same run with their repeats interleaved (A B A B ...), so
both sides see the same load.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RECORD_FORMAT = "verirank-bench"
RECORD_VERSION = 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> list[str]:
    """The SIMD flags that decide which int8/fp32 kernels run (AVX2, AVX-512, VNNI)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return sorted(f for f in flags if f.startswith(("avx", "fma", "amx")) or "vnni" in f)
    except OSError:
        pass
    return []


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("numpy", "torch", "onnxruntime", "usearch", "transformers"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", None)
        except ImportError:
            out[name] = None
    return out


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu_model": cpu_model(), "cpu_flags": cpu_flags(), "logical_cpus": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(), "versions": versions(),
        "load_avg_at_start": list(os.getloadavg()),
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def summary(values: list[float]) -> dict[str, float]:
    """min / median / max (and p95 when there are enough values) of a list of timings."""
    ordered = sorted(values)
    out = {"min": ordered[0], "median": statistics.median(ordered), "max": ordered[-1], "n": len(ordered)}
    if len(ordered) >= 10:
        out["p95"] = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return out


def interleaved_ms(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1) -> dict[str, dict[str, float]]:
    """Milliseconds per call of each function, repeats interleaved (a b c a b c ...)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(1000 * (time.perf_counter() - started))
    return {name: summary(values) for name, values in times.items()}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def new_record(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT, "format_version": RECORD_VERSION, "benchmark": name,
        "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "args": args, "machine": machine_info(), "sections": {},
    }


def write_record(record: dict[str, Any], directory: Path) -> Path:
    """``directory/<benchmark>-<started>.json`` (one file per run), plus ``<benchmark>-latest.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = record["started_utc"].replace(":", "").replace("-", "")
    path = directory / f"{record['benchmark']}-{stamp}.json"
    text = json.dumps(record, indent=2)
    path.write_text(text)
    (directory / f"{record['benchmark']}-latest.json").write_text(text)
    return path


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A markdown table; the first column left-aligned, the rest right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
