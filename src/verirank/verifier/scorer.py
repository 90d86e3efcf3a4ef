"""Pair scorers over token states (the eval ``PairScorer`` protocol): the verifier and F0/F1."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from verirank.encoders import Encoder
from verirank.errors import InputError
from verirank.types import Mode
from verirank.verifier.runtime import Candidate, NearMissVerifier, QueryStates


@dataclass
class ScoredPairs:
    p_match: np.ndarray  # (N,)
    category_probs: np.ndarray  # (N, C), column 0 = match


def _encode_unique(encoder: Encoder, texts: Sequence[str], batch_size: int = 64) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    unique = list(dict.fromkeys(texts))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for lo in range(0, len(unique), 256):
        part = unique[lo : lo + 256]
        enc = encoder.encode(part, batch_size=batch_size)
        out.update({t: (s, o) for t, s, o in zip(part, enc.token_states, enc.offsets)})
    return out


class VerifierScorer:
    """Calibrated p_match of the verifier for (anchor, text) pairs in one mode."""

    def __init__(self, verifier: NearMissVerifier, encoder: Encoder, mode: Mode | str = Mode.IDENTITY) -> None:
        self.verifier, self.encoder, self.mode = verifier, encoder, Mode(mode)

    @property
    def name(self) -> str:
        return f"verifier:{self.verifier.head_id}:{self.mode.value}"

    def score(self, anchors: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        return self.score_details(anchors, texts).p_match.astype(np.float64)

    def score_details(self, anchors: Sequence[str], texts: Sequence[str]) -> ScoredPairs:
        if len(anchors) != len(texts):
            raise InputError(f"{len(anchors)} anchors but {len(texts)} texts; give one anchor per text")
        encoded = _encode_unique(self.encoder, [*anchors, *texts])
        q_cache = {a: self.verifier.project_query(encoded[a][0]) for a in dict.fromkeys(anchors)}
        doc_texts = list(dict.fromkeys(texts))
        d_cache = dict(zip(doc_texts, self.verifier.project([encoded[t][0] for t in doc_texts])))
        p = np.zeros(len(anchors))
        cats = np.zeros((len(anchors), self.verifier.cfg.n_categories))
        by_anchor: dict[str, list[int]] = {}
        for i, a in enumerate(anchors):
            by_anchor.setdefault(a, []).append(i)
        for a, rows in by_anchor.items():
            q = QueryStates(a, q_cache[a], encoded[a][1])
            cands = [Candidate(texts[i], d_cache[texts[i]], encoded[texts[i]][1]) for i in rows]
            for lo in range(0, len(cands), 64):
                pm, cp, _ = self.verifier.score(q, cands[lo : lo + 64], self.mode)
                p[rows[lo : lo + 64]] = pm
                cats[rows[lo : lo + 64]] = cp
        return ScoredPairs(p, cats)


class TokenBaselineScorer:
    """A training-free score over frozen token states (F0 mean-sim, F1 MaxSim)."""

    def __init__(self, encoder: Encoder, name: str, fn: Callable[[np.ndarray, np.ndarray], float]) -> None:
        self.encoder, self._name, self.fn = encoder, name, fn

    @property
    def name(self) -> str:
        return self._name

    def score(self, anchors: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        encoded = _encode_unique(self.encoder, [*anchors, *texts])
        return np.array([self.fn(encoded[a][0], encoded[t][0]) for a, t in zip(anchors, texts)])
