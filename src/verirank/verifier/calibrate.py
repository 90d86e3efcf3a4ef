"""Calibration on a user's own labelled pairs: temperature, then thresholds for a target FAR."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.errors import InputError


def read_labelled_pairs(path: str | Path) -> list[tuple[str, str, int]]:
    """JSONL rows with ``query``/``anchor``, ``candidate``/``text`` and ``label`` (1 = match)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; give a JSONL file of labelled pairs")
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                query = rec.get("query", rec.get("anchor"))
                cand = rec.get("candidate", rec.get("text"))
                label = int(rec["label"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path}:{n}: need query/anchor, candidate/text and label 0/1 ({exc})") from exc
            if label not in (0, 1) or not isinstance(query, str) or not isinstance(cand, str):
                raise InputError(f"{path}:{n}: label must be 0 or 1 and texts must be strings")
            rows.append((query, cand, label))
    labels = {r[2] for r in rows}
    if labels != {0, 1}:
        raise InputError(f"{path}: calibration needs both matches (1) and non-matches (0); found labels {sorted(labels)}")
    return rows


def threshold_for_far(p_match: np.ndarray, labels: np.ndarray, target_far: float) -> float:
    """Smallest threshold whose false-accept rate on label-0 pairs is <= ``target_far``."""
    neg = np.sort(p_match[labels == 0])
    if not len(neg):
        raise InputError("no non-matching pairs to measure a false-accept rate on")
    allowed = int(np.floor(target_far * len(neg)))  # negatives that may sit at or above the threshold
    return float(np.nextafter(neg[len(neg) - allowed - 1], 1.0)) if allowed < len(neg) else 0.0


def calibrate_on_pairs(checkpoint_dir: str | Path, rows: Sequence[tuple[str, str, int]], *, mode: str,
                       target_far: float) -> dict[str, Any]:
    """Score pairs with the checkpoint, refit the mode's temperature and thresholds, save in place."""
    from verirank.encoders import load_encoder
    from verirank.verifier import checkpoint
    from verirank.verifier.runtime import NearMissVerifier
    from verirank.verifier.scorer import VerifierScorer
    from verirank.verifier.train import expected_calibration_error, fit_mode_calibration

    verifier = NearMissVerifier.load(checkpoint_dir)
    scorer = VerifierScorer(verifier, load_encoder("torch"), mode)
    logits = scorer.score_details([r[0] for r in rows], [r[1] for r in rows]).logits
    x, y = logits, np.array([r[2] for r in rows])
    fitted = fit_mode_calibration(x, y, target_far=target_far)
    p = 1 / (1 + np.exp(-(x / fitted.temperature + fitted.bias)))
    fitted.strict_accept = threshold_for_far(p, y, target_far)
    cal = verifier.calibration
    setattr(cal, mode, fitted)
    far = float((p[y == 0] >= fitted.strict_accept).mean())
    tar = float((p[y == 1] >= fitted.strict_accept).mean())
    result = {"mode": mode, "pairs": len(rows), "temperature": fitted.temperature, "bias": fitted.bias,
              "strict_accept": fitted.strict_accept, "far_at_strict": far, "tar_at_strict": tar,
              "ece": expected_calibration_error(p, y), "target_far": target_far}
    cal.metrics[f"user_calibration_{mode}"] = result
    meta = checkpoint.read_meta(checkpoint_dir)
    checkpoint.save(verifier.model, cal, checkpoint_dir,
                    {k: v for k, v in meta.items() if k not in ("config", "calibration", "token_head_id")})
    return result
