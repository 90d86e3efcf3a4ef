"""What every adapter writes into a kept document's metadata."""

from __future__ import annotations

from typing import Any

from verirank.types import SearchHit

# metadata keys the adapters add (prefixed so they do not clobber the caller's own)
KEYS = ("p_match", "verirank_decision", "verirank_reasons", "verirank_score", "verirank_stage1_score")


def verdict_metadata(hit: SearchHit) -> dict[str, Any]:
    """p_match, decision, reasons (JSON-ready) and scores of a verified hit."""
    return {
        "p_match": hit.p_match,
        "verirank_decision": hit.decision.value if hit.decision is not None else None,
        "verirank_reasons": [r.model_dump(mode="json") for r in hit.reasons],
        "verirank_score": hit.score,
        "verirank_stage1_score": hit.stage1_score,
    }
