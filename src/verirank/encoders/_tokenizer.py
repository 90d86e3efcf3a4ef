"""WordPiece tokenisation shared by the torch and ONNX MiniLM paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from verirank._optional import require



@dataclass(frozen=True)
class TokenBatch:
    input_ids: np.ndarray  # (B, L) int64
    attention_mask: np.ndarray  # (B, L) int64
    token_type_ids: np.ndarray  # (B, L) int64
    special: np.ndarray  # (B, L) bool: [CLS]/[SEP]/padding
    offsets: np.ndarray  # (B, L, 2) int32
    truncated: list[bool]


class WordPieceTokenizer:
    """A `tokenizers` fast tokenizer with truncation that is detected, logged and reported."""

    def __init__(self, tokenizer_json: Path, max_tokens: int) -> None:
        tokenizers = require("tokenizers", extra="torch")
        self._tok = tokenizers.Tokenizer.from_file(str(tokenizer_json))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_tokens)
        self.max_tokens = max_tokens

    def __call__(self, texts: Sequence[str]) -> TokenBatch:
        encodings = self._tok.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        batch = len(encodings)
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.int64)
        special = np.ones((batch, length), dtype=bool)
        offsets = np.zeros((batch, length, 2), dtype=np.int32)
        truncated = []
        for i, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[i, :n] = enc.ids
            mask[i, :n] = enc.attention_mask
            special[i, :n] = np.asarray(enc.special_tokens_mask, dtype=bool)
            offsets[i, :n] = np.asarray(enc.offsets, dtype=np.int32).reshape(n, 2)
            truncated.append(bool(enc.overflowing))
        return TokenBatch(ids, mask, np.zeros_like(ids), special, offsets, truncated)
