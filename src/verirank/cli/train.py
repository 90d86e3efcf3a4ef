"""``verirank train`` and ``verirank calibrate``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Optional

import typer

from verirank.cli.app import app, console, fail
from verirank.errors import ConfigError, InputError, VerirankError


@app.command()
def train(
    config: Annotated[Optional[Path], typer.Option("--config", help="TrainConfig JSON (fields default when absent).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Run directory (resumes from OUT/last.pt).")] = Path("runs/verifier"),
    steps: Annotated[Optional[int], typer.Option(help="Override the number of steps.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Override the seed.")] = None,
) -> None:
    """Train the verifier end to end on CPU (checkpointed, resumable, seeded)."""
    from dataclasses import replace

    from verirank.verifier.train import TrainConfig, train as run_training

    try:
        cfg = TrainConfig()
        if config is not None:
            try:
                cfg = TrainConfig.from_json(json.loads(config.read_text("utf-8")))
            except (OSError, json.JSONDecodeError, TypeError) as exc:
                raise ConfigError(f"cannot read training config {config}: {exc}") from exc
        if steps is not None:
            cfg = replace(cfg, steps=steps)
        if seed is not None:
            cfg = replace(cfg, seed=seed)
        if not Path(cfg.data_root).exists():
            raise ConfigError(f"data_root {cfg.data_root} does not exist; set it in the config to the shared/data folder")
        final = run_training(cfg, out, report=lambda msg: console.print(msg, highlight=False))
    except VerirankError as exc:
        fail(exc)
        return
    console.print(f"checkpoint: {final}")


@app.command()
def calibrate(
    pairs: Annotated[Path, typer.Option("--pairs", help="JSONL of labelled pairs: {query|anchor, candidate|text, label}.")],
    target_far: Annotated[float, typer.Option("--target-far", help="False-accept rate for the strict operating point.")] = 0.01,
    mode: Annotated[str, typer.Option(help="relevance or identity.")] = "relevance",
    checkpoint_dir: Annotated[Optional[Path], typer.Option("--checkpoint", help="Checkpoint to calibrate (default: shipped).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the calibrated checkpoint (default: in place).")] = None,
) -> None:
    """Fit temperature and thresholds on your own labelled pairs; save them with the checkpoint."""
    from verirank.verifier import checkpoint
    from verirank.verifier.calibrate import calibrate_on_pairs, read_labelled_pairs

    try:
        if not 0 < target_far < 1:
            raise InputError(f"--target-far must be in (0, 1), got {target_far}")
        source = checkpoint_dir or checkpoint.shipped_path()
        target = out or source
        if target == checkpoint.shipped_path() and out is None:
            raise InputError("refusing to overwrite the shipped checkpoint; pass --out DIR for your calibrated copy")
        rows = read_labelled_pairs(pairs)
        if target != source:
            shutil.copytree(source, target, dirs_exist_ok=True)
        result = calibrate_on_pairs(target, rows, mode=mode, target_far=target_far)
    except VerirankError as exc:
        fail(exc)
        return
    console.print_json(json.dumps(result))
