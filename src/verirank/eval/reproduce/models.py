"""The encoders and models the reproduction compares, all built from the packaged MiniLM-L6 weights.

* :class:`DualStateMiniLM`: model A as shipped; one pass gives the pooled vector, the token states
  the verifier reads (``state_layer``) and, kept aside, the last-layer token states MaxSim reads.
* :func:`finetune_biencoder`: B (MNRL on relevance pairs + identity triplets) or A' (relevance
  pairs only); :class:`FinetunedMiniLM` loads either as a stage-1 encoder.
* :func:`train_cross_encoder` / :class:`CrossEncoder`: a MiniLM-L6 cross-encoder fine-tuned on the
  verifier's identity training pairs.

MNRL is written in plain torch: cross-entropy over ``scale * cos(anchor_i, candidate_j)`` where
the candidates are every positive of the batch plus the hard negatives, the target being the
anchor's own positive (scale 10, stated; sentence-transformers' default is 20).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.encoders.minilm import TorchMiniLM, model_dir
from verirank.errors import ConfigError

log = logging.getLogger(__name__)


class DualStateMiniLM(TorchMiniLM):
    """TorchMiniLM that also keeps each text's last-layer token states (float16) in ``last_states``
    and its pooled vector in ``pooled_of``."""

    def __init__(self, max_tokens: int = 256) -> None:
        super().__init__(max_tokens)
        self.last_states: dict[str, np.ndarray] = {}
        self.pooled_of: dict[str, np.ndarray] = {}

    def _encoded(self, text: str, last_states: np.ndarray, pooled: np.ndarray) -> None:
        self.last_states[text] = last_states.astype(np.float16)
        self.pooled_of[text] = pooled


class FinetunedMiniLM(TorchMiniLM):
    """MiniLM-L6 with fine-tuned weights (B or A') saved by :func:`finetune_biencoder`."""

    def __init__(self, weights: Path, name: str, max_tokens: int = 256) -> None:
        super().__init__(max_tokens)
        from safetensors.torch import load_file

        self.model.load_state_dict(load_file(str(weights)))
        self.model.eval()
        self.runtime = f"torch-fp32+{name}"


def _bert(num_labels: int | None = None) -> Any:
    import transformers
    from safetensors.torch import load_file

    config = transformers.BertConfig.from_json_file(str(model_dir() / "config.json"))
    state = load_file(str(model_dir() / "model.safetensors"))
    state = {k.removeprefix("bert."): v for k, v in state.items()
             if not k.startswith("pooler.") and not k.endswith("position_ids")}
    if num_labels is None:
        model = transformers.BertModel(config, add_pooling_layer=False)
        model.load_state_dict(state, strict=False)
        return model
    config.num_labels = num_labels
    model = transformers.BertForSequenceClassification(config)
    missing, _ = model.bert.load_state_dict(state, strict=False)
    if [m for m in missing if "pooler" not in m]:
        raise ConfigError(f"MiniLM weights do not fit the cross-encoder body (missing {missing[:3]})")
    return model


def _tokenizer(max_len: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding()
    return tok


def _batch(tok: Any, items: Sequence[Any]) -> dict[str, Any]:
    import torch

    enc = tok.encode_batch(list(items))
    return {"input_ids": torch.tensor([e.ids for e in enc]),
            "attention_mask": torch.tensor([e.attention_mask for e in enc]),
            "token_type_ids": torch.tensor([e.type_ids for e in enc])}


def mnrl_loss(anchors: Any, candidates: Any, scale: float) -> Any:
    """MultipleNegativesRankingLoss: (B, D) anchors, (B + N, D) candidates whose first B rows are the
    anchors' positives (the rest hard negatives) -> mean cross-entropy of the right positive."""
    import torch
    import torch.nn.functional as F

    logits = scale * F.normalize(anchors, dim=-1) @ F.normalize(candidates, dim=-1).T  # (B, B + N)
    return F.cross_entropy(logits, torch.arange(anchors.shape[0]))


def warmup_then_linear_decay(opt: Any, steps: int) -> Any:
    """A learning-rate schedule: linear warm-up over the first tenth of ``steps``, then linear decay."""
    import torch

    warmup = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / steps))


def run_steps(model: Any, opt: Any, steps: int, loss_at: Callable[[int], Any], name: str, *, sched: Any = None,
              clip: float | None = None, log_every: int = 25) -> list[float]:
    """The optimisation loop every model trained here shares: ``loss_at(step)`` builds a batch and
    returns its loss; backward, optional gradient clipping, optimiser and scheduler steps. Returns the
    loss curve."""
    import torch

    losses: list[float] = []
    for step in range(steps):
        loss = loss_at(step)
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(float(loss.detach()))
        if step % log_every == 0:
            log.info("%s step %d/%d loss %.4f", name, step, steps, losses[-1])
    return losses


def save_trained(model: Any, out: Path, losses: Sequence[float], started: float,
                 metadata: dict[str, str] | None = None) -> dict[str, float]:
    """``out/model.safetensors`` (with ``metadata``), and the loss curve's ends and the seconds taken."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors"),
              metadata=metadata)
    return {"loss_first": float(np.mean(losses[:10])), "loss_last": float(np.mean(losses[-10:])),
            "seconds": time.perf_counter() - started}


def finetune_biencoder(relevance: Sequence[tuple[str, str]], triplets: Sequence[tuple[str, str, str]],
                       out: Path, *, steps: int, batch: int, max_len: int, lr: float, scale: float,
                       seed: int) -> dict[str, Any]:
    """MNRL fine-tune of MiniLM-L6. With ``triplets`` (B), half of each batch is relevance pairs and
    half identity triplets (anchor, anchor, near-miss); without (A'), the whole batch is relevance
    pairs. Saves ``out/model.safetensors``; returns the loss curve and timing."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = _bert()
    model.train()
    tok = _tokenizer(max_len)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = warmup_then_linear_decay(opt, steps)
    rel, tri = list(relevance), list(triplets)
    n_tri = batch // 2 if tri else 0
    started = time.perf_counter()

    def embed(texts: list[str]) -> Any:
        b = _batch(tok, texts)
        hidden = model(**b).last_hidden_state  # (B, L, D)
        mask = b["attention_mask"].unsqueeze(-1).float()
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def loss_at(step: int) -> Any:
        pairs = rng.sample(rel, batch - n_tri)
        trips = rng.sample(tri, n_tri) if n_tri else []
        anchors = [a for a, _ in pairs] + [a for a, _, _ in trips]
        positives = [p for _, p in pairs] + [p for _, p, _ in trips]
        negatives = [n for _, _, n in trips]
        emb = embed(anchors + positives + negatives)
        k = len(anchors)
        return mnrl_loss(emb[:k], emb[k:], scale)

    losses = run_steps(model, opt, steps, loss_at, f"finetune {out.name}", sched=sched, clip=1.0)
    return {"steps": steps, "batch": batch, "identity_triplets_per_batch": n_tri, "max_len": max_len, "lr": lr,
            "mnrl_scale": scale, **save_trained(model, out, losses, started)}


def train_cross_encoder(pairs: Sequence[tuple[str, str, int]], out: Path, *, steps: int, batch: int, max_len: int,
                        lr: float, seed: int) -> dict[str, Any]:
    """BCE fine-tune of a MiniLM-L6 cross-encoder (body from the bi-encoder, new linear head) on
    (anchor, text, label) pairs. Saves ``out/model.safetensors``."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = _bert(num_labels=1)
    model.train()
    tok = _tokenizer(max_len)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = warmup_then_linear_decay(opt, steps)
    data = list(pairs)
    started = time.perf_counter()

    def loss_at(step: int) -> Any:
        chunk = rng.sample(data, batch)
        logits = model(**_batch(tok, [(a, t) for a, t, _ in chunk])).logits.squeeze(-1)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([float(y) for *_, y in chunk]))

    losses = run_steps(model, opt, steps, loss_at, "cross-encoder", sched=sched, clip=1.0)
    return {"steps": steps, "batch": batch, "max_len": max_len, "lr": lr, **save_trained(model, out, losses, started)}


class CrossEncoder:
    """The fine-tuned cross-encoder at inference: (query, passage) -> relevance logit."""

    def __init__(self, weights: Path, max_len: int = 256) -> None:
        import torch
        from safetensors.torch import load_file

        self._torch = torch
        self.model = _bert(num_labels=1)
        self.model.load_state_dict(load_file(str(weights)))
        self.model.eval()
        self.tok = _tokenizer(max_len)

    def score(self, queries: Sequence[str], texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros(len(texts))
        with self._torch.inference_mode():
            for lo in range(0, len(texts), batch_size):
                items = list(zip(queries[lo : lo + batch_size], texts[lo : lo + batch_size]))
                out[lo : lo + batch_size] = self.model(**_batch(self.tok, items)).logits.squeeze(-1).double().numpy()
        return out
