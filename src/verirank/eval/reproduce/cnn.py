"""A small CNN over the token similarity map: the trained member of the F0 / F1 family.

Input: the cosine map between a query's and a candidate's frozen MiniLM-L6 last-layer token states
(the states F0 mean-sim and F1 MaxSim read), cropped or zero-padded to ``query_tokens x doc_tokens``,
plus a second channel marking the real (not padded) cells. Three 3x3 convolutions with ReLU (2x2 max
pooling after the first two), global max pooling and a two-layer MLP give one match logit. Trained
with BCE on the cross-encoder's training pairs (the verifier's identity training pairs,
``training_data(seed).cross``); the encoder stays frozen. The weights file carries the architecture
config in its metadata, so it alone rebuilds the model.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verirank.errors import ConfigError
from verirank.eval.reproduce.cache import cached_model
from verirank.eval.reproduce.config import ReproConfig
from verirank.eval.reproduce.models import run_steps, save_trained
from verirank.eval.reproduce.stage2 import cosine_map, token_states

log = logging.getLogger(__name__)
StatesOf = Callable[[list[str]], list[np.ndarray]]


@dataclass(frozen=True)
class MapCNNConfig:
    query_tokens: int = 32  # map rows: the first query tokens kept
    doc_tokens: int = 96  # map columns: the first candidate tokens kept
    channels: tuple[int, ...] = (16, 32, 32)  # one 3x3 conv per entry
    hidden: int = 32  # MLP width

    @classmethod
    def from_json(cls, text: str) -> MapCNNConfig:
        raw = json.loads(text)
        return cls(**{**raw, "channels": tuple(raw["channels"])})


def fixed_maps(pairs: Sequence[tuple[np.ndarray, np.ndarray]], config: MapCNNConfig) -> np.ndarray:
    """(query states (Lq, D), candidate states (Ld, D)) pairs -> (N, 2, query_tokens, doc_tokens) float32:
    channel 0 the cosine map cropped / zero-padded, channel 1 1.0 on its real cells."""
    out = np.zeros((len(pairs), 2, config.query_tokens, config.doc_tokens), dtype=np.float32)
    for i, (q, d) in enumerate(pairs):
        m = cosine_map(q[: config.query_tokens], d[: config.doc_tokens])  # (lq, ld)
        out[i, 0, : m.shape[0], : m.shape[1]] = m
        out[i, 1, : m.shape[0], : m.shape[1]] = 1.0
    return out


def build_map_cnn(config: MapCNNConfig) -> Any:
    """The network: (B, 2, query_tokens, doc_tokens) maps -> (B,) logits."""
    from torch import nn

    layers: list[Any] = []
    width = 2
    for i, channels in enumerate(config.channels):
        layers += [nn.Conv2d(width, channels, kernel_size=3, padding=1), nn.ReLU()]
        if i < len(config.channels) - 1:
            layers.append(nn.MaxPool2d(2))  # (B, C, H, W) -> (B, C, H/2, W/2)
        width = channels
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(),  # (B, C, 1, 1) -> (B, C)
               nn.Linear(width, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1), nn.Flatten(0)]  # (B, 1) -> (B,)
    return nn.Sequential(*layers)


def train_map_cnn(pairs: Sequence[tuple[str, str, int]], states_of: StatesOf, out: Path, *, steps: int, batch: int,
                  lr: float, seed: int, config: MapCNNConfig | None = None) -> dict[str, Any]:
    """BCE training on (query, text, label) pairs, each batch's token states from ``states_of`` (the
    frozen encoder). Saves ``out/model.safetensors``; returns the loss curve and timing."""
    import torch

    config = config or MapCNNConfig()
    data = list(pairs)
    if len(data) < batch:
        raise ConfigError(f"{len(data)} training pairs < cnn_batch={batch}; lower cnn_batch or add pairs")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = build_map_cnn(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    started = time.perf_counter()

    def loss_at(step: int) -> Any:
        chunk = rng.sample(data, batch)
        states = states_of([q for q, _, _ in chunk] + [t for _, t, _ in chunk])
        maps = torch.from_numpy(fixed_maps(list(zip(states[:batch], states[batch:])), config))  # (B, 2, Lq, Ld)
        labels = torch.tensor([float(y) for *_, y in chunk])
        return torch.nn.functional.binary_cross_entropy_with_logits(model(maps), labels)

    losses = run_steps(model, opt, steps, loss_at, "map CNN", log_every=50)
    return {"steps": steps, "batch": batch, "lr": lr, "config": asdict(config),
            "parameters": sum(p.numel() for p in model.parameters()),
            **save_trained(model, out, losses, started, metadata={"config": json.dumps(asdict(config))})}


class MapCNN:
    """The trained CNN at inference: token states of (query, candidate) pairs -> match logits."""

    def __init__(self, weights: Path) -> None:
        import torch
        from safetensors import safe_open
        from safetensors.torch import load_file

        self._torch = torch
        with safe_open(str(weights), framework="pt") as f:
            meta = f.metadata() or {}
        if "config" not in meta:
            raise ConfigError(f"{weights} has no map-CNN config in its metadata; retrain it with train_map_cnn")
        self.config = MapCNNConfig.from_json(meta["config"])
        self.model = build_map_cnn(self.config)
        self.model.load_state_dict(load_file(str(weights)))
        self.model.eval()

    def score_pairs(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], batch_size: int = 256) -> np.ndarray:
        out = np.zeros(len(pairs))
        with self._torch.inference_mode():
            for lo in range(0, len(pairs), batch_size):
                maps = self._torch.from_numpy(fixed_maps(pairs[lo : lo + batch_size], self.config))
                out[lo : lo + batch_size] = self.model(maps).double().numpy()
        return out

    def score_states(self, query: np.ndarray, docs: Sequence[np.ndarray]) -> np.ndarray:
        return self.score_pairs([(query, d) for d in docs])

    def pair_scorer(self, encoder: Any) -> Callable[[list[str], list[str]], np.ndarray]:
        """Scores (anchor, text) pairs from ``encoder``'s last-layer states (the near-miss sets)."""
        def score(anchors: list[str], texts: list[str]) -> np.ndarray:
            states = token_states(encoder, anchors + texts)
            return self.score_pairs(list(zip(states[: len(anchors)], states[len(anchors) :])))
        return score


def train_cnn(cfg: ReproConfig, run: Path, encoder: Any) -> dict[str, Any]:
    """The map CNN on the cross-encoder's training pairs, over ``encoder``'s last-layer states (cached by
    its weights; the training texts' states are dropped once used)."""
    from verirank.eval.reproduce.training import training_data

    def train() -> dict[str, Any]:
        data = training_data(cfg.seed)
        return {**train_map_cnn(data.cross, lambda texts: token_states(encoder, texts, keep=False),
                                run / "models" / "cnn", steps=cfg.cnn_steps, batch=cfg.cnn_batch, lr=cfg.cnn_lr,
                                seed=cfg.seed), "pairs": len(data.cross)}
    return cached_model(run / "models" / "cnn", train)


def load_cnn(cfg: ReproConfig, run: Path, encoder: Any) -> MapCNN:
    """The trained map CNN (trained first if the ``cnn`` step has not run)."""
    train_cnn(cfg, run, encoder)
    return MapCNN(run / "models" / "cnn" / "model.safetensors")
