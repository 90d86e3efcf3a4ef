"""The stage-2 verifier, whole, in one file.

Pipeline per (query, candidate) pair, after arXiv 2604.16351 ("F4"), with a trainable token head:

    frozen encoder token states  (Lq, 384), (Ld, 384)      <- same forward pass as stage 1
                                                              (layer ``state_layer``: v2 reads layer 4)
      -> TokenHead (shared)      (Lq, t), (Ld, t)          <- candidate side stored at index time
                                                              (v2: trainable copies of encoder layers 5-6)
      -> similarity map          (Lq, Ld) cosine + row-max + col-max + valid channels
      -> p x p patches           (Pq * Pd, C * p * p)      <- padded per batch, not to a fixed size
      -> [CLS + mode + stage-1 cosine] + patches + 2-D position embeddings
      -> pre-norm Transformer    n_layers
      -> heads                   match logit (+ a linear term in the stage-1 cosine), category logits

Every hyper-parameter lives in :class:`VerifierConfig`; ``Verifier(config)`` reads nothing else.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CATEGORIES = (
    "match",
    "negation",
    "role_reversal",
    "spatial",
    "binding",
    "comparative",
    "numeric",
    "exclusion",
)
MODES = ("relevance", "identity")


@dataclass(frozen=True)
class VerifierConfig:
    encoder_dim: int = 384  # width of the frozen encoder's token states
    encoder_layers: int = 6  # depth of the frozen encoder
    # "transformer": a small head trained from scratch on last-layer states (v1);
    # "encoder": trainable copies of the encoder's top ``head_layers`` layers, fed by the frozen
    #            states below them (a pretrained start); "none": raw frozen states (ablation)
    head: str = "transformer"
    head_dim: int = 128  # "transformer" head's inner width
    head_heads: int = 4  # attention heads of the head's layers (12 for "encoder", as MiniLM)
    head_layers: int = 1
    head_ffn: int = 1536  # "encoder" head's feed-forward width (MiniLM's)
    use_cosine: bool = False  # feed the pair's stage-1 (pooled) cosine to the match head
    token_dim: int = 64  # width of stored token states (what the index keeps per token)
    max_query_tokens: int = 64
    max_doc_tokens: int = 96  # tokens of a candidate kept at index time (the rest is dropped)
    patch: int = 4
    d_model: int = 96
    n_heads: int = 4
    n_layers: int = 2
    ffn_mult: int = 2
    dropout: float = 0.1
    n_categories: int = len(CATEGORIES)
    n_modes: int = len(MODES)

    @property
    def state_layer(self) -> int | None:
        """Encoder layer whose token states the head reads (None: the last layer)."""
        return self.encoder_layers - self.head_layers if self.head == "encoder" else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerifierConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class Block(nn.Module):
    """Pre-norm Transformer block with key-padding mask."""

    def __init__(self, dim: int, heads: int, ffn_mult: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, ffn_mult * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn_mult * dim, dim)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        # x: (B, T, dim); pad: (B, T) True where padding
        x = x + self.drop(self.attend(self.norm1(x), pad))
        return x + self.drop(self.mlp(self.norm2(x)))

    def attend(self, h: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """``self.attn``'s weights through ``scaled_dot_product_attention``: the same result as
        ``self.attn(h, h, h, key_padding_mask=pad)``, about 3x faster on CPU at inference than
        MultiheadAttention's masked fast path, and exported to ONNX as plain MatMul/Softmax."""
        b, t, dim = h.shape
        heads = self.attn.num_heads
        qkv = F.linear(h, self.attn.in_proj_weight, self.attn.in_proj_bias)  # (B, T, 3 * dim)
        qkv = qkv.view(b, t, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)  # (3, B, nh, T, hs)
        bias = torch.zeros(b, 1, 1, t, dtype=h.dtype, device=h.device).masked_fill(pad[:, None, None, :], -1e4)
        p = self.attn.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias, dropout_p=p)  # (B, nh, T, hs)
        return self.attn.out_proj(out.transpose(1, 2).reshape(b, t, dim))


class EncoderLayer(nn.Module):
    """A post-norm BERT layer (MiniLM's), so the head can start from the encoder's own weights."""

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.attn_out = nn.Linear(dim, dim)
        self.attn_norm = nn.LayerNorm(dim, eps=1e-12)
        self.ffn_in = nn.Linear(dim, ffn)
        self.ffn_out = nn.Linear(ffn, dim)
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        # x: (B, L, dim); pad: (B, L) True where padding
        b, length, dim = x.shape
        split = lambda t: t.view(b, length, self.heads, dim // self.heads).transpose(1, 2)  # noqa: E731  (B, nh, L, hs)
        bias = torch.zeros(b, 1, 1, length, dtype=x.dtype, device=x.device).masked_fill(pad[:, None, None, :], -1e4)
        p = self.dropout if self.training else 0.0
        h = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)), split(self.value(x)),
                                           attn_mask=bias, dropout_p=p)
        h = h.transpose(1, 2).reshape(b, length, dim)  # (B, L, dim)
        x = self.attn_norm(x + F.dropout(self.attn_out(h), p, self.training))
        return self.ffn_norm(x + F.dropout(self.ffn_out(F.gelu(self.ffn_in(x))), p, self.training))


class TokenHead(nn.Module):
    """Shared query/candidate head: frozen states (B, L, 384) -> unit vectors (B, L, token_dim)."""

    def __init__(self, cfg: VerifierConfig) -> None:
        super().__init__()
        self.kind = cfg.head
        self.trainable = cfg.head != "none"
        if not self.trainable:
            if cfg.token_dim != cfg.encoder_dim:
                raise ValueError("head='none' stores raw encoder states: token_dim must equal encoder_dim")
            return
        if cfg.head == "encoder":
            self.layers = nn.ModuleList(
                EncoderLayer(cfg.encoder_dim, cfg.head_heads, cfg.head_ffn, cfg.dropout) for _ in range(cfg.head_layers)
            )
            self.out = nn.Linear(cfg.encoder_dim, cfg.token_dim)
            return
        self.inp = nn.Sequential(nn.LayerNorm(cfg.encoder_dim), nn.Linear(cfg.encoder_dim, cfg.head_dim))
        self.pos = nn.Embedding(max(cfg.max_query_tokens, cfg.max_doc_tokens), cfg.head_dim)
        self.blocks = nn.ModuleList(
            Block(cfg.head_dim, cfg.head_heads, 2, cfg.dropout) for _ in range(cfg.head_layers)
        )
        self.out = nn.Sequential(nn.LayerNorm(cfg.head_dim), nn.Linear(cfg.head_dim, cfg.token_dim))

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # states: (B, L, E); mask: (B, L) True for real tokens
        if not self.trainable:
            return F.normalize(states, dim=-1) * mask[..., None]
        if self.kind == "encoder":
            x = states
            for layer in self.layers:
                x = layer(x, ~mask)
            return F.normalize(self.out(x), dim=-1) * mask[..., None]
        positions = torch.arange(states.shape[1], device=states.device)
        x = self.inp(states) + self.pos(positions)[None]
        pad = ~mask
        for block in self.blocks:
            x = block(x, pad)
        return F.normalize(self.out(x), dim=-1) * mask[..., None]


def similarity_map(q: torch.Tensor, q_mask: torch.Tensor, d: torch.Tensor, d_mask: torch.Tensor) -> torch.Tensor:
    """Cosine map plus row-max, col-max and valid channels.

    q: (B, Lq, t), d: (B, Ld, t) unit vectors (zeros at padding); masks True for real tokens.
    Returns (B, 4, Lq, Ld).
    """
    sim = torch.einsum("bqt,bdt->bqd", q, d)  # (B, Lq, Ld)
    valid = (q_mask[:, :, None] & d_mask[:, None, :]).float()
    neg = torch.finfo(sim.dtype).min
    row_max = sim.masked_fill(valid == 0, neg).amax(dim=2, keepdim=True).clamp_min(-1)  # (B, Lq, 1)
    col_max = sim.masked_fill(valid == 0, neg).amax(dim=1, keepdim=True).clamp_min(-1)  # (B, 1, Ld)
    channels = torch.stack(
        [sim * valid, row_max.expand_as(sim) * valid, col_max.expand_as(sim) * valid, valid], dim=1
    )
    return channels


class Verifier(nn.Module):
    """Token head + similarity-map Transformer -> match logit and category logits."""

    def __init__(self, cfg: VerifierConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.patch
        self.head = TokenHead(cfg)
        self.patch_embed = nn.Linear(4 * p * p, cfg.d_model)
        self.row_pos = nn.Embedding(math.ceil(cfg.max_query_tokens / p), cfg.d_model)
        self.col_pos = nn.Embedding(math.ceil(cfg.max_doc_tokens / p), cfg.d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
        self.mode_embed = nn.Embedding(cfg.n_modes, cfg.d_model)
        self.blocks = nn.ModuleList(
            Block(cfg.d_model, cfg.n_heads, cfg.ffn_mult, cfg.dropout) for _ in range(cfg.n_layers)
        )
        self.norm = nn.LayerNorm(cfg.d_model)
        self.match_head = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, 1))
        self.category_head = nn.Linear(cfg.d_model, cfg.n_categories)
        if cfg.use_cosine:
            self.cosine_embed = nn.Linear(3, cfg.d_model)  # (cos, cos^2, cos^3) -> the CLS token
            self.cosine_skip = nn.Linear(1, 1)  # the logit can always fall back on stage 1
        nn.init.normal_(self.cls, std=0.02)

    def init_head_from_encoder(self, encoder_state: dict[str, torch.Tensor]) -> None:
        """Copy the encoder's top ``head_layers`` layers into an "encoder" head (the pretrained start).

        ``encoder_state``: the BertModel state dict (``encoder.layer.{i}.attention.self.query.weight`` ...).
        """
        if self.cfg.head != "encoder":
            raise ValueError(f"head={self.cfg.head!r} has no encoder layers to initialise")
        names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                 "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
                 "ffn_in": "intermediate.dense", "ffn_out": "output.dense", "ffn_norm": "output.LayerNorm"}
        first = self.cfg.encoder_layers - self.cfg.head_layers
        state = {}
        for i in range(self.cfg.head_layers):
            for ours, theirs in names.items():
                for kind in ("weight", "bias"):
                    state[f"layers.{i}.{ours}.{kind}"] = encoder_state[f"encoder.layer.{first + i}.{theirs}.{kind}"]
        missing, _ = self.head.load_state_dict(state, strict=False)
        if any(not name.startswith("out.") for name in missing):
            raise ValueError(f"encoder weights left head parameters unset: {missing}")

    def project(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token head: what the index stores for a candidate, and what a query gets at search time."""
        return self.head(states, mask)

    def score_projected(
        self,
        q: torch.Tensor,
        q_mask: torch.Tensor,
        d: torch.Tensor,
        d_mask: torch.Tensor,
        mode: torch.Tensor,
        cosine: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Score pairs of head outputs. q: (B, Lq, t), d: (B, Ld, t), mode: (B,) int,
        cosine: (B,) stage-1 cosine of each pair (required when ``cfg.use_cosine``).

        Returns match logits (B,), category logits (B, n_categories), raw cosine map (B, Lq, Ld).
        """
        cfg, p = self.cfg, self.cfg.patch
        q, q_mask = q[:, : cfg.max_query_tokens], q_mask[:, : cfg.max_query_tokens]
        d, d_mask = d[:, : cfg.max_doc_tokens], d_mask[:, : cfg.max_doc_tokens]
        maps = similarity_map(q, q_mask, d, d_mask)  # (B, 4, Lq, Ld)
        batch, _, lq, ld = maps.shape
        pq, pd = math.ceil(lq / p), math.ceil(ld / p)
        maps = F.pad(maps, (0, pd * p - ld, 0, pq * p - lq))  # pad to whole patches only
        patches = maps.reshape(batch, 4, pq, p, pd, p).permute(0, 2, 4, 1, 3, 5)  # (B, Pq, Pd, 4, p, p)
        patches = patches.reshape(batch, pq * pd, 4 * p * p)
        pad = patches[..., 3 * p * p :].sum(-1) == 0  # (B, Pq*Pd): no valid cell in the patch
        rows = torch.arange(pq, device=maps.device).repeat_interleave(pd)
        cols = torch.arange(pd, device=maps.device).repeat(pq)
        x = self.patch_embed(patches) + self.row_pos(rows)[None] + self.col_pos(cols)[None]
        cls = self.cls.expand(batch, 1, -1) + self.mode_embed(mode)[:, None]
        if cfg.use_cosine:
            if cosine is None:
                raise ValueError("this verifier reads the stage-1 cosine of each pair; pass cosine=(B,)")
            c = cosine.to(x.dtype)[:, None]  # (B, 1)
            cls = cls + self.cosine_embed(torch.cat([c, c**2, c**3], dim=1))[:, None]
        x = torch.cat([cls, x], dim=1)  # (B, 1 + Pq*Pd, d_model)
        pad = torch.cat([torch.zeros(batch, 1, dtype=torch.bool, device=pad.device), pad], dim=1)
        for block in self.blocks:
            x = block(x, pad)
        pooled = self.norm(x[:, 0])
        logits = self.match_head(pooled).squeeze(-1)
        if cfg.use_cosine:
            logits = logits + self.cosine_skip(c).squeeze(-1)
        return logits, self.category_head(pooled), maps[:, 0, :lq, :ld]

    def forward(
        self,
        q_states: torch.Tensor,
        q_mask: torch.Tensor,
        d_states: torch.Tensor,
        d_mask: torch.Tensor,
        mode: torch.Tensor,
        cosine: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        categories: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Frozen states in, logits out; the loss too when labels are given (one path for both)."""
        q = self.project(q_states, q_mask)
        d = self.project(d_states, d_mask)
        logits, cat_logits, _ = self.score_projected(q, q_mask, d, d_mask, mode, cosine)
        loss = None
        if labels is not None:
            loss = F.binary_cross_entropy_with_logits(logits, labels.float())
            if categories is not None:
                known = categories >= 0
                if known.any():
                    loss = loss + 0.5 * F.cross_entropy(cat_logits[known], categories[known])
        return logits, cat_logits, loss


@dataclass
class ModeCalibration:
    """Temperature scaling of the match logit, and operating points on calibrated p_match.

    full: accept if p >= accept, reject if p < reject, abstain between.
    strict: accept only if p >= strict_accept (a low false-accept operating point).
    """

    temperature: float = 1.0
    bias: float = 0.0
    accept: float = 0.5
    reject: float = 0.5
    strict_accept: float = 0.9

    def p_match(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits / self.temperature + self.bias)


@dataclass
class Calibration:
    """Per-mode calibration plus the held-out metrics it was fitted on (shipped with the weights)."""

    relevance: ModeCalibration = field(default_factory=ModeCalibration)
    identity: ModeCalibration = field(default_factory=ModeCalibration)
    metrics: dict[str, Any] = field(default_factory=dict)

    def for_mode(self, mode: str) -> ModeCalibration:
        return self.identity if mode == "identity" else self.relevance

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            relevance=ModeCalibration(**data.get("relevance", {})),
            identity=ModeCalibration(**data.get("identity", {})),
            metrics=data.get("metrics", {}),
        )
