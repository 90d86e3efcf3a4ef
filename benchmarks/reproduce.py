"""Reproduce the stage-2 trade-off and every alternative; regenerate reports/reproduction.md.

Resumable: every step's output is cached under runs/reproduce/<scale>/ and reused on rerun.

    python benchmarks/reproduce.py                 # full scale (hours on one thread)
    python benchmarks/reproduce.py --scale quick   # tiny slice, under 10 minutes
    python benchmarks/reproduce.py --steps stage2  # one step (data and finetune must have run)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from verirank.eval.reproduce.config import load_config
from verirank.eval.reproduce.run import STEPS, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="full", choices=["full", "quick", "smoke"])
    ap.add_argument("--quick", action="store_true", help="same as --scale quick")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=list(STEPS))
    ap.add_argument("--models", nargs="+", default=["B", "A_prime"], choices=["B", "A_prime"],
                    help="bi-encoders the finetune step trains (run two processes to train both at once)")
    ap.add_argument("--root", default="runs/reproduce", help="cache folder (one subfolder per scale)")
    ap.add_argument("--reports", default=None,
                    help="where the markdown and PNGs go (default: reports/ at full scale, else the run folder)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("verirank.encoders.minilm").setLevel(logging.ERROR)  # truncation notices per batch
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    cfg = load_config("quick" if args.quick else args.scale, seed=args.seed)
    reports = Path(args.reports) if args.reports else (Path("reports") if cfg.scale == "full" else cfg.run_dir(args.root))
    folder = run(cfg, Path(args.root), tuple(args.steps), reports, tuple(args.models))
    print(f"done: {folder}; report in {reports}/")


if __name__ == "__main__":
    main()
