"""The verifier on ONNX Runtime: token head and scorer exported from the torch checkpoint.

    verifier = load_onnx_verifier()              # shipped checkpoint, exported at load (a few s)
    pipe = verirank.Pipeline.default(verifier=verifier)

:class:`OnnxVerifierModel` stands in for :class:`~verirank.verifier.model.Verifier` inside a
:class:`~verirank.verifier.runtime.NearMissVerifier` (the two methods the runtime calls,
``project`` and ``score_projected``, same tensors in and out), so calibration, decisions and
reasons are the torch path's. The export needs the ``onnx`` package; ``quantize=True`` adds
ONNX Runtime's dynamic int8 quantisation of the MatMul weights.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from verirank._optional import require

log = logging.getLogger(__name__)


def _exportable(model: Any) -> tuple[Any, Any]:
    """torch modules over ``model``'s weights whose graphs keep batch and lengths dynamic."""
    torch = require("torch", extra="torch")
    from verirank.verifier.model import similarity_map

    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, states: Any, mask: Any) -> Any:
            return self.inner.project(states, mask)  # (B, L, token_dim)

    class Scorer(torch.nn.Module):
        """``Verifier.score_projected`` for lengths already padded to whole patches."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, q: Any, q_mask: Any, d: Any, d_mask: Any, mode: Any, cosine: Any) -> tuple[Any, Any, Any]:
            m, cfg = self.inner, self.inner.cfg
            p = cfg.patch
            maps = similarity_map(q, q_mask, d, d_mask)  # (B, 4, Lq, Ld), Lq and Ld multiples of p
            b, _, lq, ld = maps.shape
            pq, pd = lq // p, ld // p
            patches = maps.reshape(b, 4, pq, p, pd, p).permute(0, 2, 4, 1, 3, 5)  # (B, Pq, Pd, 4, p, p)
            patches = patches.reshape(b, pq * pd, 4 * p * p)
            pad = patches[..., 3 * p * p :].sum(-1) == 0  # (B, Pq*Pd)
            pos = m.row_pos.weight[:pq][:, None, :] + m.col_pos.weight[:pd][None, :, :]  # (Pq, Pd, d_model)
            x = m.patch_embed(patches) + pos.reshape(1, pq * pd, -1)
            cls = m.cls.expand(b, 1, -1) + m.mode_embed(mode)[:, None]
            c = cosine[:, None]  # (B, 1)
            if cfg.use_cosine:
                cls = cls + m.cosine_embed(torch.cat([c, c**2, c**3], dim=1))[:, None]
            x = torch.cat([cls, x], dim=1)  # (B, 1 + Pq*Pd, d_model)
            pad = torch.cat([torch.zeros_like(pad[:, :1]), pad], dim=1)
            for block in m.blocks:
                x = block(x, pad)
            pooled = m.norm(x[:, 0])
            logits = m.match_head(pooled).squeeze(-1)
            if cfg.use_cosine:
                logits = logits + m.cosine_skip(c).squeeze(-1)
            return logits, m.category_head(pooled), maps[:, 0]

    return Head().eval(), Scorer().eval()


def export(model: Any) -> tuple[bytes, bytes]:
    """ONNX bytes of the token head and of the scorer (batch and lengths dynamic)."""
    torch = require("torch", extra="torch")
    require("onnx", extra="onnx")
    head, scorer = _exportable(model)
    cfg = model.cfg
    b, lq, ld = 3, 2 * cfg.patch, 5 * cfg.patch
    states, mask = torch.randn(b, 11, cfg.encoder_dim), torch.ones(b, 11, dtype=torch.bool)
    q = torch.nn.functional.normalize(torch.randn(b, lq, cfg.token_dim), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(b, ld, cfg.token_dim), dim=-1)
    args = (q, torch.ones(b, lq, dtype=torch.bool), d, torch.ones(b, ld, dtype=torch.bool),
            torch.zeros(b, dtype=torch.long), torch.zeros(b))
    out_head, out_scorer = io.BytesIO(), io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
        torch.onnx.export(head, (states, mask), out_head, dynamo=False, opset_version=17,
                          input_names=["states", "mask"], output_names=["projected"],
                          dynamic_axes={"states": {0: "B", 1: "L"}, "mask": {0: "B", 1: "L"},
                                        "projected": {0: "B", 1: "L"}})
        torch.onnx.export(scorer, args, out_scorer, dynamo=False, opset_version=17,
                          input_names=["q", "q_mask", "d", "d_mask", "mode", "cosine"],
                          output_names=["logits", "category_logits", "maps"],
                          dynamic_axes={"q": {0: "B", 1: "Lq"}, "q_mask": {0: "B", 1: "Lq"},
                                        "d": {0: "B", 1: "Ld"}, "d_mask": {0: "B", 1: "Ld"},
                                        "mode": {0: "B"}, "cosine": {0: "B"},
                                        "logits": {0: "B"}, "category_logits": {0: "B"},
                                        "maps": {0: "B", 1: "Lq", 2: "Ld"}})
    return out_head.getvalue(), out_scorer.getvalue()


def quantize_dynamic(model_bytes: bytes) -> bytes:
    """ONNX Runtime dynamic int8 quantisation (MatMul weights int8, activations per call)."""
    import tempfile

    quantization = require("onnxruntime.quantization", extra="onnx")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(model_bytes)
        quantization.quantize_dynamic(str(src), str(dst), weight_type=quantization.QuantType.QInt8,
                                      op_types_to_quantize=["MatMul", "Gemm"])
        return dst.read_bytes()


def session_options(threads: int | None = None) -> Any:
    """ONNX Runtime options for a shared CPU: ``threads`` intra-op threads (None: ORT's default),
    and no spin-waiting (spinning threads steal cycles from other processes on a busy machine)."""
    ort = require("onnxruntime", extra="onnx")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxVerifierModel:
    """The two calls a :class:`NearMissVerifier` makes of its model, on ONNX Runtime."""

    def __init__(self, cfg: Any, head_onnx: bytes, scorer_onnx: bytes, threads: int | None = None) -> None:
        ort = require("onnxruntime", extra="onnx")
        self._torch = require("torch", extra="torch")
        self.cfg = cfg
        providers = ["CPUExecutionProvider"]
        self._head = ort.InferenceSession(head_onnx, session_options(threads), providers=providers)
        self._scorer = ort.InferenceSession(scorer_onnx, session_options(threads), providers=providers)

    @classmethod
    def from_model(cls, model: Any, quantize: bool = False, threads: int | None = None) -> OnnxVerifierModel:
        head, scorer = export(model)
        if quantize:
            head, scorer = quantize_dynamic(head), quantize_dynamic(scorer)
        return cls(model.cfg, head, scorer, threads)

    def project(self, states: Any, mask: Any) -> Any:
        # states: (B, L, encoder_dim) float32, mask: (B, L) bool -> (B, L, token_dim)
        (out,) = self._head.run(None, {"states": np.ascontiguousarray(states.numpy(), dtype=np.float32),
                                       "mask": mask.numpy()})
        return self._torch.from_numpy(out)

    def score_projected(self, q: Any, q_mask: Any, d: Any, d_mask: Any, mode: Any,
                        cosine: Any = None) -> tuple[Any, Any, Any]:
        """Same contract as ``Verifier.score_projected``; lengths are cut to the model's limits and
        padded to whole patches here (the graph's reshapes need them)."""
        cfg, torch = self.cfg, self._torch
        lq, ld = min(q.shape[1], cfg.max_query_tokens), min(d.shape[1], cfg.max_doc_tokens)
        q, q_mask = _to_patches(q.numpy()[:, :lq], q_mask.numpy()[:, :lq], cfg.patch)
        d, d_mask = _to_patches(d.numpy()[:, :ld], d_mask.numpy()[:, :ld], cfg.patch)
        cos = np.zeros(len(q), np.float32) if cosine is None else cosine.numpy().astype(np.float32)
        logits, cats, maps = self._scorer.run(None, {"q": q, "q_mask": q_mask, "d": d, "d_mask": d_mask,
                                                     "mode": mode.numpy().astype(np.int64), "cosine": cos})
        return torch.from_numpy(logits), torch.from_numpy(cats), torch.from_numpy(maps[:, :lq, :ld])


def _to_patches(x: np.ndarray, mask: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad (B, L, t) and its mask along L to a multiple of ``p`` (at least one patch)."""
    length = max(p, math.ceil(x.shape[1] / p) * p)
    if length == x.shape[1]:
        return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(mask)
    out = np.zeros((x.shape[0], length, x.shape[2]), np.float32)
    out[:, : x.shape[1]] = x
    out_mask = np.zeros((x.shape[0], length), bool)
    out_mask[:, : x.shape[1]] = mask
    return out, out_mask


def load_onnx_verifier(path: str | Path | None = None, *, quantize: bool = False, threads: int | None = None,
                       **load_options: Any) -> Any:
    """``NearMissVerifier.load(path)`` with its token head and scorer on ONNX Runtime.

    Verdicts match the torch verifier's to float tolerance (``quantize=False``); the token head
    keeps its id, so indexes built with either runtime are interchangeable.
    """
    from verirank.verifier.runtime import NearMissVerifier

    verifier = NearMissVerifier.load(path, **load_options)
    verifier.model = OnnxVerifierModel.from_model(verifier.model, quantize=quantize, threads=threads)
    return verifier
