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
    logits: np.ndarray  # (N,) uncalibrated match logits


@dataclass(frozen=True)
class _Encoded:
    pooled: np.ndarray  # (D,)
    states: np.ndarray  # (L, D)
    offsets: np.ndarray  # (L, 2)


def _encode_unique(encoder: Encoder, texts: Sequence[str], batch_size: int = 64,
                   state_layer: int | None = None) -> dict[str, _Encoded]:
    unique = list(dict.fromkeys(texts))
    out: dict[str, _Encoded] = {}
    for lo in range(0, len(unique), 256):
        part = unique[lo : lo + 256]
        enc = encoder.encode(part, batch_size=batch_size, state_layer=state_layer)
        out.update({t: _Encoded(v, s, o) for t, v, s, o in zip(part, enc.pooled, enc.token_states, enc.offsets)})
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
        encoded = _encode_unique(self.encoder, [*anchors, *texts], state_layer=self.verifier.state_layer)
        q_cache = {a: self.verifier.project_query(encoded[a].states) for a in dict.fromkeys(anchors)}
        doc_texts = list(dict.fromkeys(texts))
        d_cache = dict(zip(doc_texts, self.verifier.project([encoded[t].states for t in doc_texts])))
        logits = np.zeros(len(anchors))
        cats = np.zeros((len(anchors), self.verifier.cfg.n_categories))
        by_anchor: dict[str, list[int]] = {}
        for i, a in enumerate(anchors):
            by_anchor.setdefault(a, []).append(i)
        for a, rows in by_anchor.items():
            q = QueryStates(a, q_cache[a], encoded[a].offsets)
            cands = [Candidate(texts[i], d_cache[texts[i]], encoded[texts[i]].offsets,
                               float(encoded[texts[i]].pooled @ encoded[a].pooled)) for i in rows]
            for lo in range(0, len(cands), 64):
                lg, cp, _ = self.verifier.logits(q, cands[lo : lo + 64], self.mode)
                logits[rows[lo : lo + 64]] = lg
                cats[rows[lo : lo + 64]] = cp
        return ScoredPairs(self.verifier.calibrated(logits, self.mode), cats, logits)


class TokenBaselineScorer:
    """A training-free score over frozen token states (F0 mean-sim, F1 MaxSim)."""

    def __init__(self, encoder: Encoder, name: str, fn: Callable[[np.ndarray, np.ndarray], float]) -> None:
        self.encoder, self._name, self.fn = encoder, name, fn

    @property
    def name(self) -> str:
        return self._name

    def score(self, anchors: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        encoded = _encode_unique(self.encoder, [*anchors, *texts])
        return np.array([self.fn(encoded[a].states, encoded[t].states) for a, t in zip(anchors, texts)])
