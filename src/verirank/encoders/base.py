"""The encoder protocol: one forward pass gives the pooled vector and the token states."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from verirank.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedBatch:
    """Stage-1 output for a batch of texts.

    ``pooled`` is (B, D) float32, L2-normalised: the recall vector, never altered.
    ``token_states[i]`` is (L_i, D) float32: states of the real tokens of text i (last layer, or
    the ``state_layer`` asked of ``encode``)
    ([CLS]/[SEP] and padding removed); ``offsets[i]`` is (L_i, 2) int32 character spans.
    """

    pooled: np.ndarray
    token_states: list[np.ndarray]
    offsets: list[np.ndarray]
    truncated: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.pooled.shape[0])

    def rows(self, lo: int, hi: int) -> EncodedBatch:
        """Texts ``lo`` to ``hi - 1``, as a batch of their own."""
        return EncodedBatch(self.pooled[lo:hi], self.token_states[lo:hi], self.offsets[lo:hi], self.truncated[lo:hi])

    def row(self, i: int) -> EncodedBatch:
        """Text ``i`` alone, as a batch of one."""
        return self.rows(i, i + 1)


@runtime_checkable
class Encoder(Protocol):
    """Anything that maps texts to a pooled vector plus token states in one pass."""

    @property
    def encoder_id(self) -> str:
        """Exact model + runtime id, recorded in every index built with it."""

    @property
    def space(self) -> str:
        """Embedding space id: encoders sharing it produce interchangeable vectors."""

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32, state_layer: int | None = None) -> EncodedBatch:
        """``state_layer``: the layer whose token states are returned (None: the last)."""


def check_texts(texts: Sequence[str], what: str = "text") -> list[str]:
    """Refuse empty/whitespace/non-string texts with a message naming the position."""
    if isinstance(texts, str):
        raise InputError(f"expected a list of {what}s, got a single string; wrap it: [{texts[:40]!r}]")
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"{what} #{i} is {type(text).__name__}, not str; pass strings only")
        if not text.strip():
            raise InputError(f"{what} #{i} is empty or whitespace; remove it or give it content")
        out.append(text)
    return out


def batches_by_length(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indices of items in batches of at most ``size``, shortest first (padding stays small)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[lo : lo + size] for lo in range(0, len(order), size)]


def mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked mean over tokens then L2 normalisation: (B, L, D), (B, L) -> (B, D)."""
    mask_f = mask[..., None].astype(np.float32)
    summed = (states * mask_f).sum(axis=1)
    counts = np.clip(mask_f.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def extend_states(encoder: Encoder, texts: Sequence[str], encoded: EncodedBatch, max_tokens: int,
                  state_layer: int | None = None) -> EncodedBatch:
    """Token states of texts longer than the encoder window, continued pass by pass over the rest of
    each text until ``max_tokens`` states or its end. Pooled vectors (stage 1) stay as encoded."""
    states, offsets = list(encoded.token_states), list(encoded.offsets)
    pending = [i for i, cut in enumerate(encoded.truncated) if cut and 0 < len(states[i]) < max_tokens]
    while pending:
        starts = {i: int(offsets[i][-1, 1]) for i in pending}
        pending = [i for i in pending if texts[i][starts[i]:].strip()]
        if not pending:
            break
        more = encoder.encode([texts[i][starts[i]:] for i in pending], state_layer=state_layer)
        still = []
        for j, i in enumerate(pending):
            room = max_tokens - len(states[i])
            states[i] = np.concatenate([states[i], more.token_states[j][:room]])
            offsets[i] = np.concatenate([offsets[i], more.offsets[j][:room] + starts[i]]).astype(offsets[i].dtype)
            if more.truncated[j] and len(states[i]) < max_tokens:
                still.append(i)
        pending = still
    return EncodedBatch(encoded.pooled, states, offsets, encoded.truncated)
