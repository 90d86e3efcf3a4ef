"""End-to-end verifier training on CPU: data building, state caching, the loop, calibration.

    verirank train --config train.json --out runs/verifier

Reproducible for a seed; checkpoints every ``checkpoint_every`` steps and resumes from
``OUT/last.pt``. The frozen encoder runs once per unique text (cached as float16); the
loop trains the token head and the similarity-map Transformer only.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from verirank.errors import ConfigError
from verirank.verifier import data as vdata
from verirank.verifier import trainset
from verirank.verifier.model import Calibration, ModeCalibration, Verifier, VerifierConfig
from verirank.verifier.runtime import DOC_WINDOWS
from verirank.verifier.states import StateCache

log = logging.getLogger(__name__)
# relevance groups: inverse-cloze, then verifier.relevance_groups
RELEVANCE_KINDS = ("ict", "exclusion", "question", "statement", "direction")


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    data_root: str = "../shared/data"
    relevance_corpora: tuple[str, ...] = ("npl", "cacm", "lisa")
    heldout_corpora: tuple[str, ...] = ("cranfield", "cisi", "med")  # never read by training
    heldout_pair_sets: tuple[str, ...] = ("mrpc",)  # never read by training
    # identity training sources (their train splits; dev splits calibrate; test splits held out)
    identity_sources: tuple[str, ...] = ("paws", "snli", "cad_nli", "breaking_nli", "vsr", "hans", "cannot")
    # share of identity groups per batch drawn from each source ("generated": the generator's groups)
    source_weights: dict[str, float] = field(default_factory=lambda: {
        "paws": 0.16, "snli": 0.14, "cad_nli": 0.16, "breaking_nli": 0.12, "vsr": 0.12, "hans": 0.07,
        "cannot": 0.08, "generated": 0.15, "swaps": 0.0})
    max_generator_anchors: int = 20000
    max_relevance_queries_per_corpus: int = 2500
    max_docs_per_corpus: int = 5000  # documents sampled per training corpus (queries + neighbours)
    max_relevance_groups: int | None = None  # relevance groups kept for training (long passages cost encoding)
    steps: int = 3000
    groups_per_batch: int = 32  # identity batches (short sentences)
    relevance_groups_per_batch: int = 16  # relevance batches (passages: larger maps)
    relevance_fraction: float = 0.4  # share of steps that train relevance mode
    candidates_per_group: int = 4
    in_batch_negatives: int = 2
    lr: float = 1e-3
    head_lr: float | None = None  # learning rate of the token head (None: ``lr``); low for a pretrained start
    weight_decay: float = 0.01
    warmup_steps: int = 150
    infonce_weight: float = 1.0
    pairwise_weight: float = 1.0  # logistic loss on (positive, negative) logit pairs of a group
    init_head_from_encoder: bool = True  # "encoder" heads start as copies of the encoder's top layers
    init_from: str | None = None  # a run's last.pt or a checkpoint directory whose weights start this one
    swap_categories: tuple[str, ...] = ("role_reversal", "binding", "spatial")  # rules of verifier.swaps used
    state_cache: str | None = None  # frozen-encoder cache directory (None: OUT/state_cache); stages may share one
    max_abstain: float = 0.1  # abstain band on calibration pairs (identity) at the shipped thresholds
    relevance_max_abstain: float | None = None  # same for relevance mode (None: keep 97% of matches out of reject)
    constraint_groups: bool = False  # add relevance groups with exclusion and question negatives
    question_swaps: tuple[str, ...] = ("role_reversal", "binding")  # verifier.swaps rules that break a question
    question_negations: bool = False  # a question's statement negated answers it too (a positive)
    statement_groups: bool = False  # also the statement itself as the query (needs constraint_groups)
    question_opposites: bool = False  # each question group twinned with its question asked the other way
    # WordNet 3.0 directory (verifier.lexicon; fetched there if empty): one-word rewrites of the question
    # statements, a sister noun (a negative) and an antonym (an answer); None: Breaking NLI's only
    wordnet: str | None = None
    # identity groups of each question against its own negation (source "question_negation")
    question_identity: bool = False
    # route sentences against their direction swaps: relevance kind "direction", identity source "directions"
    direction_groups: bool = False
    # share of relevance batches per kind of group (RELEVANCE_KINDS); None: uniform over groups
    relevance_weights: dict[str, float] | None = None
    dev_fraction: float = 0.06
    checkpoint_every: int = 200
    eval_every: int = 500
    threads: int = 2
    verifier: VerifierConfig = field(default_factory=VerifierConfig)

    def __post_init__(self) -> None:
        unknown = set(self.relevance_weights or {}) - set(RELEVANCE_KINDS)
        if unknown:
            raise ConfigError(f"relevance_weights names {sorted(unknown)}; the kinds of relevance group are "
                              f"{', '.join(RELEVANCE_KINDS)}")
        if self.relevance_weights and not self.constraint_groups and set(self.relevance_weights) - {"ict"}:
            raise ConfigError("relevance_weights gives exclusion or question groups a share, but constraint_groups "
                              "is false, so none are built; set constraint_groups: true or drop those weights")
        if self.statement_groups and not self.constraint_groups:
            raise ConfigError("statement_groups needs constraint_groups: true (they are built with the question groups)")
        for kind, switch in (("statement", "statement_groups"), ("direction", "direction_groups")):
            if (self.relevance_weights or {}).get(kind) and not getattr(self, switch):
                raise ConfigError(f"relevance_weights gives {kind} groups a share, but {switch} is false; "
                                  f"set {switch}: true or drop that weight")
        if (self.question_identity or self.direction_groups or self.question_opposites or self.wordnet) \
                and not self.constraint_groups:
            raise ConfigError("question_identity, question_opposites, wordnet and direction_groups need constraint_groups: "
                              "true "
                              "(they are built with the question groups)")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        verifier = VerifierConfig.from_json(data.pop("verifier", {}))
        fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(verifier=verifier, **fields)


# ---- data ----------------------------------------------------------------------------------------
def build_examples(cfg: TrainConfig, encoder: Any, report: Callable[[str], None] = log.info) -> list[vdata.Example]:
    """All training groups (identity + relevance), deterministic for ``cfg.seed``."""
    examples = trainset.build_identity(cfg, report) + trainset.build_relevance(cfg, encoder, report)
    examples = [ex for ex in examples if len(ex.candidates) >= 1]
    random.Random(cfg.seed).shuffle(examples)
    return examples


def save_examples(examples: Sequence[vdata.Example], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(asdict(ex)) + "\n")


def load_examples(path: Path) -> list[vdata.Example]:
    with path.open(encoding="utf-8") as f:
        return [vdata.Example(**json.loads(line)) for line in f]


def relevance_kind(ex: vdata.Example) -> str:
    """The constraint group kinds by name ("exclusion", "question", ...), "ict" for the inverse-cloze ones."""
    return ex.source if ex.source in RELEVANCE_KINDS else "ict"


# ---- batches -------------------------------------------------------------------------------------
def pad_states(arrays: Sequence[np.ndarray], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged (L_i, E) -> (B, L, E) float32 padded to the longest in the batch, and a mask."""
    length = max(1, min(max_tokens, max(a.shape[0] for a in arrays)))
    dim = arrays[0].shape[1]
    out = np.zeros((len(arrays), length, dim), dtype=np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for i, a in enumerate(arrays):
        n = min(length, a.shape[0])
        out[i, :n] = a[:n]
        mask[i, :n] = True
    return torch.from_numpy(out), torch.from_numpy(mask)


@dataclass
class Batch:
    q_states: torch.Tensor
    q_mask: torch.Tensor
    c_states: torch.Tensor
    c_mask: torch.Tensor
    pair_query: torch.Tensor  # (P,) index into queries
    pair_cand: torch.Tensor  # (P,) index into candidates
    mode: torch.Tensor  # (P,)
    labels: torch.Tensor  # (P,)
    categories: torch.Tensor  # (P,)
    group: torch.Tensor  # (P,) group id (= query index)
    cosine: torch.Tensor  # (P,) stage-1 cosine of each pair


def make_batch(
    groups: Sequence[vdata.Example],
    cache: StateCache,
    vcfg: VerifierConfig,
    rng: random.Random,
    per_group: int,
    in_batch: int,
) -> Batch:
    cand_texts: list[str] = []
    cand_row: dict[str, int] = {}
    pq, pc, modes, labels, cats = [], [], [], [], []
    positives_by_mode: dict[int, list[str]] = {}
    for ex in groups:
        for text, label in zip(ex.candidates, ex.labels):
            if label == 1:
                positives_by_mode.setdefault(ex.mode, []).append(text)

    def add_pair(qi: int, text: str, mode: int, label: int, cat: int) -> None:
        if text not in cand_row:
            cand_row[text] = len(cand_texts)
            cand_texts.append(text)
        pq.append(qi)
        pc.append(cand_row[text])
        modes.append(mode)
        labels.append(label)
        cats.append(cat)

    for qi, ex in enumerate(groups):
        order = list(range(len(ex.candidates)))
        rng.shuffle(order)
        # positives, then near-misses with a category; at least one near-miss when the group has any
        order.sort(key=lambda j: (ex.labels[j] != 1, ex.categories[j] < 0))
        negatives = [j for j in order if ex.labels[j] != 1]
        n_pos = min(len(order) - len(negatives), per_group - min(1, len(negatives)))
        chosen = order[:n_pos] + negatives[: per_group - n_pos]
        for j in chosen:
            add_pair(qi, ex.candidates[j], ex.mode, ex.labels[j], ex.categories[j])
        pool = [t for t in positives_by_mode.get(ex.mode, []) if t not in ex.candidates and t != ex.query]
        for text in rng.sample(pool, min(in_batch, len(pool))):
            add_pair(qi, text, ex.mode, 0, -1)
    q_states, q_mask = pad_states([cache.get(ex.query) for ex in groups], vcfg.max_query_tokens)
    c_states, c_mask = pad_states([cache.get(t) for t in cand_texts], vcfg.max_doc_tokens)
    q_pooled = np.stack([cache.pooled(ex.query) for ex in groups])
    c_pooled = np.stack([cache.pooled(t) for t in cand_texts])
    cosine = torch.from_numpy((q_pooled[pq] * c_pooled[pc]).sum(-1).astype(np.float32))
    as_long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return Batch(q_states, q_mask, c_states, c_mask, as_long(pq), as_long(pc), as_long(modes),
                 as_long(labels), as_long(cats), as_long(pq), cosine)


def batch_logits(model: Verifier, b: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    q = model.project(b.q_states, b.q_mask)
    c = model.project(b.c_states, b.c_mask)
    logits, cat_logits, _ = model.score_projected(
        q[b.pair_query], b.q_mask[b.pair_query], c[b.pair_cand], b.c_mask[b.pair_cand], b.mode, b.cosine
    )
    return logits, cat_logits


def loss_fn(logits: torch.Tensor, cat_logits: torch.Tensor, b: Batch, infonce_weight: float,
            pairwise_weight: float = 0.0) -> torch.Tensor:
    loss = F.binary_cross_entropy_with_logits(logits, b.labels.float())
    if pairwise_weight:
        # every (positive, negative) pair of one group: log(1 + exp(l_neg - l_pos))
        same = b.group[:, None] == b.group[None, :]
        pairs = same & (b.labels[:, None] == 1) & (b.labels[None, :] == 0)
        if pairs.any():
            gap = logits[:, None] - logits[None, :]  # (P, P): row positive minus column negative
            loss = loss + pairwise_weight * F.softplus(-gap[pairs]).mean()
    known = b.categories >= 0
    if known.any():
        loss = loss + 0.5 * F.cross_entropy(cat_logits[known], b.categories[known])
    # InfoNCE per group: the positive against its group's negatives (near-miss, hard, in-batch)
    n_groups = int(b.group.max()) + 1
    scores = torch.full((n_groups, int(torch.bincount(b.group).max())), float("-inf"))
    slot = torch.zeros_like(b.group)
    counts: dict[int, int] = {}
    for i, g in enumerate(b.group.tolist()):
        slot[i] = counts.get(g, 0)
        counts[g] = slot[i].item() + 1
    scores = scores.index_put((b.group, slot), logits)
    target_mask = torch.zeros_like(scores, dtype=torch.bool).index_put((b.group, slot), b.labels == 1)
    has_pos = target_mask.any(dim=1) & (torch.bincount(b.group, minlength=n_groups) > 1)
    if has_pos.any():
        target = target_mask.float().argmax(dim=1)
        loss = loss + infonce_weight * F.cross_entropy(scores[has_pos], target[has_pos])
    return loss


# ---- evaluation & calibration ----------------------------------------------------------------------
@torch.no_grad()
def predict(model: Verifier, examples: Sequence[vdata.Example], cache: StateCache, vcfg: VerifierConfig,
            batch_groups: int = 64) -> list[dict[str, Any]]:
    """Logits for every (query, candidate) of ``examples`` (no in-batch extras)."""
    model.eval()
    examples = sorted(examples, key=lambda ex: ex.mode)  # one mode per batch keeps maps small
    rows = []
    rng = random.Random(0)
    for start in range(0, len(examples), batch_groups):
        groups = examples[start : start + batch_groups]
        b = make_batch(groups, cache, vcfg, rng, per_group=10**6, in_batch=0)
        logits, cat_logits = batch_logits(model, b)
        for i in range(len(logits)):
            rows.append({
                "group": start + int(b.group[i]), "mode": int(b.mode[i]), "label": int(b.labels[i]),
                "category": int(b.categories[i]), "logit": float(logits[i]),
                "pred_category": int(cat_logits[i].argmax()),
            })
    return rows


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per mode: AUROC, pairwise accuracy (positive > near-miss within a group), category accuracy."""
    out: dict[str, Any] = {}
    for mode_name, mode in vdata.MODE_INDEX.items():
        mode_rows = [r for r in rows if r["mode"] == mode]
        if not mode_rows:
            continue
        labels = np.array([r["label"] for r in mode_rows])
        logits = np.array([r["logit"] for r in mode_rows])
        by_group: dict[int, list[dict]] = {}
        for r in mode_rows:
            by_group.setdefault(r["group"], []).append(r)
        wins = [
            float(p["logit"] > n["logit"])
            for g in by_group.values() for p in g if p["label"] == 1 for n in g if n["label"] == 0
        ]
        cats = [r["pred_category"] == r["category"] for r in mode_rows if r["label"] == 0 and r["category"] > 0]
        out[mode_name] = {
            "pairs": len(mode_rows),
            "auroc": _auroc(labels, logits),
            "pairwise_acc_near_miss": float(np.mean(wins)) if wins else None,
            "category_acc": float(np.mean(cats)) if cats else None,
        }
    return out


def _auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return None
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit_mode_calibration(logits: np.ndarray, labels: np.ndarray, target_far: float = 0.01,
                         max_abstain: float | None = None) -> ModeCalibration:
    """Temperature + bias by NLL (LBFGS), then operating points on the calibrated scale.

    ``max_abstain``: accept at 0.5 + m and reject below 0.5 - m, with the widest m <= 0.25 that leaves
    at most this share of the pairs in between; None keeps 97% of true matches out of reject.
    """
    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t, bias], lr=0.5, max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x / log_t.exp() + bias, y)
        loss.backward()
        return loss

    opt.step(closure)
    temperature, b = float(log_t.detach().exp()), float(bias.detach())
    p = 1 / (1 + np.exp(-(logits / temperature + b)))
    pos, neg = p[labels == 1], p[labels == 0]
    strict = float(np.quantile(neg, 1 - target_far)) if len(neg) else 0.9
    if max_abstain is not None:
        band = max((m for m in np.linspace(0, 0.25, 26) if np.mean(np.abs(p - 0.5) < m) <= max_abstain), default=0.0)
        return ModeCalibration(temperature=temperature, bias=b, accept=0.5 + band, reject=0.5 - band,
                               strict_accept=max(strict, 0.5 + band))
    reject = float(min(0.5, np.quantile(pos, 0.03))) if len(pos) else 0.5  # keep 97% of true matches
    return ModeCalibration(temperature=temperature, bias=b, accept=0.5, reject=reject, strict_accept=max(strict, 0.5))


def expected_calibration_error(p: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (p >= lo) & (p < hi) if hi < 1 else (p >= lo)
        if sel.any():
            ece += sel.mean() * abs(p[sel].mean() - labels[sel].mean())
    return float(ece)


def calibrate(rows: Sequence[dict[str, Any]], max_abstain: float | None = None,
              relevance_max_abstain: float | None = None) -> Calibration:
    """Per mode; ``max_abstain`` and ``relevance_max_abstain`` set each mode's abstain band (see
    ``fit_mode_calibration``)."""
    bands = {"identity": max_abstain, "relevance": relevance_max_abstain}
    cal = Calibration()
    for mode_name, mode in vdata.MODE_INDEX.items():
        sel = [r for r in rows if r["mode"] == mode]
        if len({r["label"] for r in sel}) < 2:
            continue
        logits = np.array([r["logit"] for r in sel])
        labels = np.array([r["label"] for r in sel])
        mc = fit_mode_calibration(logits, labels, max_abstain=bands[mode_name])
        setattr(cal, mode_name, mc)
        p = 1 / (1 + np.exp(-(logits / mc.temperature + mc.bias)))
        cal.metrics[f"{mode_name}_dev_ece"] = expected_calibration_error(p, labels)
        cal.metrics[f"{mode_name}_dev_abstain"] = float(np.mean((p >= mc.reject) & (p < mc.accept)))
    return cal


# ---- the loop --------------------------------------------------------------------------------------
def train(cfg: TrainConfig, out_dir: str | Path, report: Callable[[str], None] = log.info) -> Path:
    from verirank.encoders import load_encoder
    from verirank.verifier import checkpoint

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    (out / "train_config.json").write_text(json.dumps(cfg.to_json(), indent=2))
    vcfg = cfg.verifier
    encoder = None
    examples_path, cache_dir = out / "examples.jsonl", Path(cfg.state_cache) if cfg.state_cache else out / "state_cache"
    if examples_path.exists():
        examples = load_examples(examples_path)
        report(f"loaded {len(examples)} cached groups")
    else:
        encoder = load_encoder("torch")
        t0 = time.perf_counter()
        examples = build_examples(cfg, encoder, report)
        save_examples(examples, examples_path)
        report(f"built {len(examples)} groups in {time.perf_counter() - t0:.0f}s")
    relevance = vdata.MODE_INDEX["relevance"]
    if cfg.max_relevance_groups is not None:
        kept = [i for i, ex in enumerate(examples) if ex.mode == relevance]
        drop = set(kept) - set(random.Random(cfg.seed).sample(kept, min(len(kept), cfg.max_relevance_groups)))
        examples = [ex for i, ex in enumerate(examples) if i not in drop]
    relevance_train, relevance_dev = vdata.split_dev([ex for ex in examples if ex.mode == relevance],
                                                     cfg.dev_fraction, cfg.seed)
    if cfg.constraint_groups:
        extra_path = out / "constraint_examples.json"
        if extra_path.exists():
            extra = {side: [vdata.Example(**e) for e in groups] for side, groups in json.loads(extra_path.read_text()).items()}
        else:
            extra = trainset.build_constraint_relevance(cfg, relevance_train, relevance_dev, report)
            extra_path.write_text(json.dumps({side: [asdict(e) for e in groups] for side, groups in extra.items()}))
        relevance_train, relevance_dev = relevance_train + extra["train"], relevance_dev + extra["dev"]
        examples = examples + extra.get("identity", [])  # files written before identity groups lack the key
    calibration_ex = trainset.build_calibration(cfg)
    texts = [t for ex in [*examples, *relevance_train, *relevance_dev, *calibration_ex] for t in (ex.query, *ex.candidates)]
    if (cache_dir / "texts.json").exists():  # resumed or reused: encode only what it lacks
        cache = StateCache.load(cache_dir)
    else:
        cache = StateCache(max(vcfg.max_query_tokens, vcfg.max_doc_tokens), vcfg.state_layer)
    if cache.state_layer != vcfg.state_layer:
        raise ValueError(f"{cache_dir} holds layer {cache.state_layer} states, the head reads {vcfg.state_layer}; "
                         "delete the cache or train into a new directory")
    if any(t not in cache for t in texts):
        encoder = encoder or load_encoder("torch")
        t0 = time.perf_counter()

        def encode(part: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
            enc = encoder.encode(part, batch_size=64, state_layer=vcfg.state_layer)
            return enc.token_states, enc.pooled

        cache.fill(texts, encode,
                   on_progress=lambda done, total: report(f"encoded {done}/{total}") if done % 5120 < 256 else None)
        cache.save(cache_dir)
        report(f"encoded up to {len(cache)} unique texts in {time.perf_counter() - t0:.0f}s")
    identity_pools: dict[str, list[vdata.Example]] = {}
    for ex in examples:
        if ex.mode != relevance:
            identity_pools.setdefault(ex.source, []).append(ex)
    dev_ex = calibration_ex + relevance_dev
    relevance_pools: dict[str, list[vdata.Example]] = {}
    for ex in relevance_train:
        relevance_pools.setdefault(relevance_kind(ex), []).append(ex)
    report(f"identity groups { {k: len(v) for k, v in identity_pools.items()} }, relevance groups "
           f"{ {k: len(v) for k, v in relevance_pools.items()} }, dev groups {len(dev_ex)} "
           "(identity: dev splits of the human sets)")

    torch.manual_seed(cfg.seed)
    model = Verifier(vcfg)
    if cfg.init_from:
        model.load_state_dict(initial_weights(cfg.init_from))
        report(f"weights from {cfg.init_from}")
    elif vcfg.head == "encoder" and cfg.init_head_from_encoder:
        from safetensors.torch import load_file

        from verirank.encoders.minilm import model_dir

        model.init_head_from_encoder(load_file(str(model_dir() / "model.safetensors")))
    groups = []
    for in_head in (True, False):
        named = [(n, p) for n, p in model.named_parameters() if n.startswith("head.") == in_head]
        lr = (cfg.head_lr or cfg.lr) if in_head else cfg.lr
        groups += [{"params": [p for n, p in named if p.dim() >= 2 and "pos" not in n], "weight_decay": cfg.weight_decay, "lr": lr},
                   {"params": [p for n, p in named if p.dim() < 2 or "pos" in n], "weight_decay": 0.0, "lr": lr}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.lr)
    schedule = lambda step: min(1.0, (step + 1) / cfg.warmup_steps) * 0.5 * (1 + math.cos(math.pi * min(step, cfg.steps) / cfg.steps))  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    step, history = 0, []
    rng = random.Random(cfg.seed)
    resume = out / "last.pt"
    if resume.exists():
        state = torch.load(resume, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, history = state["step"], state["history"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        report(f"resumed at step {step}")
    t0, running = time.perf_counter(), []
    while step < cfg.steps:
        model.train()
        # one mode per batch: identity pairs are short, so their maps stay small
        if rng.random() < cfg.relevance_fraction and relevance_train:
            if cfg.relevance_weights:
                groups = trainset.sample_groups(relevance_pools, cfg.relevance_weights,
                                                cfg.relevance_groups_per_batch, rng)
            else:
                groups = rng.sample(relevance_train, min(len(relevance_train), cfg.relevance_groups_per_batch))
        else:
            groups = trainset.sample_groups(identity_pools, cfg.source_weights, cfg.groups_per_batch, rng)
        b = make_batch(groups, cache, vcfg, rng, cfg.candidates_per_group, cfg.in_batch_negatives)
        logits, cat_logits = batch_logits(model, b)
        loss = loss_fn(logits, cat_logits, b, cfg.infonce_weight, cfg.pairwise_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        running.append(float(loss.detach()))
        if step % 50 == 0:
            report(f"step {step}/{cfg.steps} loss {np.mean(running):.4f} lr {sched.get_last_lr()[0]:.2e} "
                   f"{(time.perf_counter() - t0) / len(running):.2f}s/step")
            running, t0 = [], time.perf_counter()
        if step % cfg.eval_every == 0 or step == cfg.steps:
            summary = summarize(predict(model, dev_ex[::3], cache, vcfg))
            history.append({"step": step, **summary})
            report(f"dev @ {step}: {json.dumps(summary)}")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "step": step, "history": history, "rng": rng.getstate(),
                        "torch_rng": torch.get_rng_state()}, out / "last.tmp")
            (out / "last.tmp").replace(resume)

    model.eval()
    dev_rows = predict(model, dev_ex, cache, vcfg)
    calibration = calibrate(dev_rows, cfg.max_abstain, cfg.relevance_max_abstain)
    calibration.metrics["dev"] = summarize(dev_rows)
    identity_groups = sum(len(v) for v in identity_pools.values())
    info = {
        "training": {"train_config": cfg.to_json(), "history": history,
                     "train_groups": identity_groups + len(relevance_train), "dev_groups": len(dev_ex)},
        "data": {"trained_on": [*[f"{s} (train split)" for s in cfg.identity_sources],
                                "near-misses and paraphrases generated from those sets' sentences",
                                "noun-phrase and modifier swaps of those sets' sentences (verifier.swaps)",
                                *[f"{c} corpus (inverse-cloze)" for c in cfg.relevance_corpora],
                                *(["exclusion queries on those corpora's inverse-cloze groups",
                                   "yes/no questions from the NLI sets' train statements (verifier.relevance_groups)"]
                                  if cfg.constraint_groups else []),
                                *(["those statements as queries, with role, binding and direction swaps as negatives"]
                                  if cfg.statement_groups else [])],
                 "calibrated_on": [f"{s} (dev split)" for s in cfg.identity_sources],
                 "held_out": [*[f"{s} (test split)" for s in cfg.identity_sources], *cfg.heldout_corpora,
                              *cfg.heldout_pair_sets, "handwritten near-miss set"]},
        "licences": [LICENCES[s] for s in (*cfg.identity_sources, *cfg.relevance_corpora) if s in LICENCES],
        "limits": ["English only", f"a document is verified over the windows of {vcfg.max_doc_tokens} tokens an "
                   f"index stores ({DOC_WINDOWS} by default: the encoder's 256-token pass); text beyond them is not "
                   "seen, except by the exclusion check's text match", "see metrics for held-out sets"],
    }
    final = checkpoint.save(model, calibration, out / "checkpoint", info)
    report(f"saved {final}")
    return final


def initial_weights(source: str) -> dict[str, torch.Tensor]:
    """Weights that start a fine-tuning stage: a run's last.pt, or a saved checkpoint directory."""
    from verirank.verifier import checkpoint

    path = Path(source)
    if path.is_dir():
        return checkpoint.load(path)[0].state_dict()
    if not path.exists():
        raise FileNotFoundError(f"init_from {source} does not exist; run the earlier stage first "
                                "(see the Makefile's verifier target) or point it at a checkpoint directory")
    return torch.load(path, weights_only=False)["model"]


LICENCES = {
    "paws": "paws (PAWS-Wiki, dev split): Google, 'may be freely used for any purpose'",
    "snli": "snli (dev split): CC BY-SA 4.0",
    "cad_nli": "cad_nli (counterfactually-augmented SNLI, train part): repo Apache-2.0, SNLI text CC BY-SA 4.0",
    "breaking_nli": "breaking_nli: CC BY-SA 4.0",
    "vsr": "vsr (Visual Spatial Reasoning captions): Apache-2.0",
    "hans": "hans (regenerated with the official templates): MIT",
    "cannot": "cannot: CC BY-SA 4.0 (dmlls/cannot-dataset)",
    "npl": "npl corpus: classic IR collection, no licence stated (research use)",
    "cacm": "cacm corpus: classic IR collection, no licence stated (research use)",
    "lisa": "lisa corpus: classic IR collection, no licence stated (research use)",
}


def ablation(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``cfg`` with verifier fields changed (e.g. head="none")."""
    return replace(cfg, verifier=replace(cfg.verifier, **changes))
