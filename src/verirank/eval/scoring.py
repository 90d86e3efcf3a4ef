"""Pair scorers for evaluation: ``score(anchors, texts) -> (N,)`` with higher = "states the same".

The stage-1 cosine scorer is the default (``level="off"``). :func:`make_scorer` is the one place
that maps a verification level to a scorer; a verifier-backed scorer plugs in there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from verirank.encoders import Encoder
from verirank.errors import ConfigError, InputError, VerirankError
from verirank.types import Level, Mode

ProgressCallback = Callable[[str, int, int], None]  # (step description, done, total)


@runtime_checkable
class PairScorer(Protocol):
    """Scores (anchor, text) pairs; higher means the text more likely states the same."""

    @property
    def name(self) -> str: ...

    def score(self, anchors: Sequence[str], texts: Sequence[str]) -> np.ndarray: ...


class CosineScorer:
    """Stage-1 cosine of the unchanged embedder's pooled vectors (each unique text encoded once)."""

    def __init__(self, encoder: Encoder, *, batch_size: int = 64, progress: ProgressCallback | None = None) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.progress = progress

    @property
    def name(self) -> str:
        return f"cosine:{self.encoder.encoder_id}"

    def score(self, anchors: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        if len(anchors) != len(texts):
            raise InputError(f"{len(anchors)} anchors but {len(texts)} texts; give one anchor per text")
        unique = list(dict.fromkeys([*anchors, *texts]))
        row = {t: i for i, t in enumerate(unique)}
        vectors = np.zeros((len(unique), self.encoder.dim), dtype=np.float32)
        step = self.batch_size * 4
        for lo in range(0, len(unique), step):
            vectors[lo : lo + step] = self.encoder.encode(unique[lo : lo + step], batch_size=self.batch_size).pooled
            if self.progress:
                self.progress("encoding pairs", min(lo + step, len(unique)), len(unique))
        a = vectors[[row[t] for t in anchors]]  # (N, D)
        b = vectors[[row[t] for t in texts]]  # (N, D)
        return (a * b).sum(axis=1).astype(np.float64)


VerifierScorerFactory = Callable[[Level, Encoder], PairScorer]


def shipped_verifier_scorer(level: Level, encoder: Encoder) -> PairScorer:
    """The shipped verifier's calibrated p_match in identity mode (the default verifier factory)."""
    try:
        from verirank.verifier.runtime import NearMissVerifier
        from verirank.verifier.scorer import VerifierScorer

        verifier = NearMissVerifier.load()
    except (VerirankError, ImportError) as exc:
        raise ConfigError(
            f"level={level.value!r} needs a verifier and none is available ({exc}); "
            "profile with --level off (stage-1 cosine), or train/install a verifier checkpoint"
        ) from exc
    return VerifierScorer(verifier, encoder, Mode.IDENTITY)


def make_scorer(
    level: Level | str, encoder: Encoder, *, verifier_factory: VerifierScorerFactory | None = None,
    batch_size: int = 64, progress: ProgressCallback | None = None,
) -> PairScorer:
    """The scorer for a verification level: stage-1 cosine for ``off``, else the verifier's.

    ``verifier_factory(level, encoder)`` builds the verifier scorer (default:
    :func:`shipped_verifier_scorer`); it raises :class:`ConfigError` when no verifier is available.
    """
    try:
        level = Level(level)
    except ValueError:
        raise ConfigError(f"level={level!r}; choose one of {[lv.value for lv in Level]}") from None
    if level is Level.OFF:
        return CosineScorer(encoder, batch_size=batch_size, progress=progress)
    return (verifier_factory or shipped_verifier_scorer)(level, encoder)
