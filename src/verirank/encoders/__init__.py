"""Stage-1 encoders: the :class:`Encoder` protocol and the shipped MiniLM-L6 paths."""

from __future__ import annotations

from verirank.encoders.base import EncodedBatch, Encoder
from verirank.errors import ConfigError

RUNTIMES = ("torch", "onnx")


def load_encoder(runtime: str = "torch", max_tokens: int = 256) -> Encoder:
    """The shipped all-MiniLM-L6-v2, on ``"torch"`` (fp32) or ``"onnx"`` (int8)."""
    from verirank.encoders import minilm

    if runtime == "torch":
        return minilm.TorchMiniLM(max_tokens)
    if runtime == "onnx":
        return minilm.OnnxMiniLM(max_tokens)
    raise ConfigError(f"unknown encoder runtime {runtime!r}; choose one of {RUNTIMES}")


__all__ = ["EncodedBatch", "Encoder", "RUNTIMES", "load_encoder"]
