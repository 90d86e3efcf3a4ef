"""Token heads: what turns encoder token states into the states stored for stage 2."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TokenHead(Protocol):
    """Maps (L, encoder_dim) token states to (L, dim) stored states; id recorded in the index."""

    @property
    def head_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def state_layer(self) -> int | None:
        """Encoder layer whose token states ``project`` reads (None: the last layer)."""

    def project(self, states: list[np.ndarray]) -> list[np.ndarray]: ...


class IdentityHead:
    """Stores the encoder's own last-layer states (used when no verifier is loaded)."""

    def __init__(self, dim: int) -> None:
        self._dim = dim

    @property
    def head_id(self) -> str:
        return "identity"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def state_layer(self) -> int | None:
        return None

    def project(self, states: list[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(s, dtype=np.float32) for s in states]
