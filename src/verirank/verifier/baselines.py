"""Training-free late-interaction baselines on frozen token states (the paper's F0 and F1)."""

from __future__ import annotations

import numpy as np


def _unit(states: np.ndarray) -> np.ndarray:
    return states / np.clip(np.linalg.norm(states, axis=1, keepdims=True), 1e-12, None)


def mean_similarity(query_states: np.ndarray, doc_states: np.ndarray) -> float:
    """F0: the mean of the token cosine map."""
    return float((_unit(query_states) @ _unit(doc_states).T).mean())


def maxsim(query_states: np.ndarray, doc_states: np.ndarray) -> float:
    """F1: ColBERT MaxSim, each query token's best match averaged over query tokens."""
    return float((_unit(query_states) @ _unit(doc_states).T).max(axis=1).mean())


BASELINES = {"F0_mean_sim": mean_similarity, "F1_maxsim": maxsim}
