"""The verifier at inference time: numpy in, typed verdicts out (tensors stay in this package)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from verirank._optional import require
from verirank.encoders.base import batches_by_length
from verirank.errors import ConfigError
from verirank.types import Category, Decision, Level, Mode, Reason, Span, Verdict
from verirank.verifier.baselines import maxsim

log = logging.getLogger(__name__)

DOC_WINDOWS = 3  # windows of max_doc_tokens stored per document: 3 x 96 covers the encoder's 256-token pass
# (query, window) pairs per scorer forward, shortest windows together: 100 cranfield candidates (239
# windows) verify about 15% faster on one CPU thread than in a single pass, with identical scores
PAIR_BATCH = 32
# windows of a long candidate the scorer reads: those whose MaxSim with the query is highest (it
# scores as its best window either way). On the six classic collections' top 20 (6,576 candidates of
# 2-3 windows) MaxSim's window is the scorer's own best in 89%; half the pairs are scored, p_match moves
# 0.002 or less on average and 8 of 10,220 decisions change (benchmarks/window_choice.py)
SCORED_WINDOWS = 1


@dataclass(frozen=True)
class Candidate:
    """What stage 2 needs of a candidate: its text, stored token states and their char spans (and,
    for the direction and contrast checks, its recall vector)."""

    text: str
    states: np.ndarray  # (Ld, token_dim) head output, as stored in the index
    spans: np.ndarray  # (Ld, 2) character offsets into ``text``
    stage1_score: float | None = None  # pooled cosine with the query (what stage 1 ranked by)
    vector: np.ndarray | None = None  # (D,) recall vector, L2-normalised


@dataclass(frozen=True)
class QueryStates:
    text: str
    states: np.ndarray  # (Lq, token_dim) head output
    spans: np.ndarray  # (Lq, 2)
    vector: np.ndarray | None = None  # (D,) recall vector, L2-normalised


def query_states(verifier: Any, text: str, encoded: Any) -> QueryStates:
    """A query's verifier input from its encoding (row 0 of ``encoded``): head states, spans (cut
    to ``max_query_tokens``) and recall vector. ``verifier`` is a NearMissVerifier or a stand-in
    with its API."""
    return QueryStates(text, verifier.project_query(encoded.token_states[0]),
                       encoded.offsets[0][: verifier.cfg.max_query_tokens], np.asarray(encoded.pooled[0]))


class NearMissVerifier:
    """A loaded checkpoint: the token head (for the index) and the verdict function."""

    def __init__(self, model: Any, calibration: Any, meta: dict[str, Any], path: Path | None = None,
                 doc_windows: int = DOC_WINDOWS) -> None:
        self._torch = require("torch", extra="torch")
        if not isinstance(doc_windows, int) or doc_windows < 1:
            raise ConfigError(f"doc_windows must be a positive integer, got {doc_windows!r}")
        self.model = model
        self.calibration = calibration
        self.meta = meta
        self.path = path
        self.cfg = model.cfg
        self.doc_windows = doc_windows
        self.scored_windows = SCORED_WINDOWS
        # relevance mode: once a query's candidate is accepted, abstentions below this p_match are
        # rejected (fitted by benchmarks/tune_rerank.py; None: never)
        self.reject_beside_accept: float | None = meta.get("reject_beside_accept")

    @classmethod
    def load(cls, path: str | Path | None = None, doc_windows: int = DOC_WINDOWS) -> NearMissVerifier:
        """Load a checkpoint directory (default: the one shipped in the package).

        ``doc_windows``: how many windows of ``max_doc_tokens`` tokens an index stores per document
        (the per-document storage budget); verification reads every stored window.
        """
        from verirank.verifier import checkpoint

        directory = Path(path) if path is not None else checkpoint.shipped_path()
        model, calibration, meta = checkpoint.load(directory)
        return cls(model, calibration, meta, directory, doc_windows)

    @property
    def scored_windows(self) -> int | None:
        """How many of a long candidate's windows the scorer reads, those with the highest MaxSim
        against the query (None: every window)."""
        return self._scored_windows_n

    @scored_windows.setter
    def scored_windows(self, n: int | None) -> None:
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ConfigError(f"scored_windows must be a positive integer or None (every window), got {n!r}")
        self._scored_windows_n = n

    # ---- TokenHead protocol (what the index stores) ----------------------------------------
    @property
    def head_id(self) -> str:
        return str(self.meta["token_head_id"])

    @property
    def dim(self) -> int:
        return int(self.cfg.token_dim)

    @property
    def max_tokens(self) -> int:
        """Token states stored per document: ``doc_windows`` windows of ``max_doc_tokens``."""
        return int(self.cfg.max_doc_tokens) * self.doc_windows

    @property
    def state_layer(self) -> int | None:
        return self.cfg.state_layer

    def project(self, states: Sequence[np.ndarray], max_tokens: int | None = None, batch_size: int = 64) -> list[np.ndarray]:
        """Frozen encoder states (L, 384) -> head states (min(L, max_tokens), token_dim).

        The head reads each window of ``max_doc_tokens`` tokens on its own (as in training); a
        document's windows are concatenated.
        """
        torch = self._torch
        limit = max_tokens or self.max_tokens
        size = min(limit, self.cfg.max_doc_tokens)
        pieces = [(i, lo, hi) for i, s in enumerate(states) for lo, hi in windows(min(len(s), limit), size)]
        projected: list[np.ndarray] = [np.empty(0)] * len(pieces)
        with torch.inference_mode():
            for idx in batches_by_length([hi - lo for _, lo, hi in pieces], batch_size):
                x, mask = _pad([states[pieces[j][0]][pieces[j][1] : pieces[j][2]] for j in idx])
                y = self.model.project(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
                for row, j in enumerate(idx):
                    projected[j] = y[row, : int(mask[row].sum())].copy()
        out: list[list[np.ndarray]] = [[] for _ in states]
        for (i, _, _), y in zip(pieces, projected):
            out[i].append(y)
        return [np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32) for parts in out]

    def project_query(self, states: np.ndarray) -> np.ndarray:
        return self.project([states], max_tokens=self.cfg.max_query_tokens)[0]

    # ---- verdicts ----------------------------------------------------------------------------
    def score(self, query: QueryStates, candidates: Sequence[Candidate], mode: Mode) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """-> calibrated p_match (N,), category probabilities (N, C), cosine maps [(Lq, Ld)]."""
        logits, cats, maps = self.logits(query, candidates, mode)
        return self.calibrated(logits, mode), cats, maps

    def calibrated(self, logits: np.ndarray, mode: Mode | str) -> np.ndarray:
        """Match logits -> calibrated p_match of ``mode``."""
        return self.calibration.for_mode(Mode(mode).value).p_match(self._torch.from_numpy(logits)).numpy()

    def logits(self, query: QueryStates, candidates: Sequence[Candidate], mode: Mode) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """-> uncalibrated match logits (N,), category probabilities (N, C), cosine maps [(Lq, Ld)].

        A candidate longer than one window scores as its best-matching window among those the scorer
        reads (``scored_windows``); its map is that window's.
        """
        n = len(candidates)
        logits, cats, maps, _ = self._best_windows([query] * n, candidates, [Mode(mode)] * n)
        return logits, cats, maps

    def alignment(self, query: QueryStates, candidate: Candidate, mode: Mode | str) -> tuple[np.ndarray, Candidate]:
        """The cosine map (Lq, Lw) the verifier read for a candidate and the window it belongs to
        (the candidate itself when it fits in one window)."""
        _, _, maps, best = self._best_windows([query], [candidate], [Mode(mode)])
        return maps[0], best[0]

    def _best_windows(self, queries: Sequence[QueryStates], candidates: Sequence[Candidate],
                      modes: Sequence[Mode]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[Candidate]]:
        """Score the windows ``_scored_windows`` picks of every pair (queries[i], candidates[i]) in
        modes[i]; keep each candidate's highest-logit window (returned as the last element)."""
        owner, parts = [], []
        for i, c in enumerate(candidates):
            for lo, hi in self._scored_windows(queries[i], c):
                owner.append(i)
                parts.append(c if (lo, hi) == (0, len(c.states)) else
                             replace(c, states=c.states[lo:hi], spans=None if c.spans is None else c.spans[lo:hi]))
        logits, cats, maps = self._pair_logits([queries[i] for i in owner], parts, [modes[i] for i in owner])
        best: dict[int, int] = {}
        for j, i in enumerate(owner):
            if i not in best or logits[j] > logits[best[i]]:
                best[i] = j
        keep = [best[i] for i in range(len(candidates))]
        return logits[keep], cats[keep], [maps[j] for j in keep], [parts[j] for j in keep]

    def _scored_windows(self, query: QueryStates, candidate: Candidate) -> list[tuple[int, int]]:
        """The windows of ``candidate`` the scorer reads: all of them, or the ``scored_windows`` with
        the highest MaxSim against the query (in document order)."""
        spans = windows(len(candidate.states), self.cfg.max_doc_tokens, full_last=True) or [(0, 0)]
        if self.scored_windows is None or len(spans) <= self.scored_windows:
            return spans
        sims = [maxsim(query.states, candidate.states[lo:hi]) for lo, hi in spans]
        keep = sorted(np.argsort(-np.array(sims), kind="stable")[: self.scored_windows])
        return [spans[j] for j in keep]

    def _pair_logits(self, queries: Sequence[QueryStates], candidates: Sequence[Candidate],
                     modes: Sequence[Mode]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Scores of pairs (queries[i], candidates[i]) in modes[i], each within one window, from
        forward passes of ``PAIR_BATCH`` pairs grouped by window length."""
        if not candidates:
            return np.zeros(0), np.zeros((0, self.cfg.n_categories)), []
        batches = batches_by_length([len(c.states) for c in candidates], PAIR_BATCH)
        parts = [self._forward([queries[i] for i in idx], [candidates[i] for i in idx], [modes[i] for i in idx])
                 for idx in batches]
        back = np.argsort([i for idx in batches for i in idx])  # where each pair's scores landed
        maps = [m for part in parts for m in part[2]]
        return (np.concatenate([part[0] for part in parts])[back], np.concatenate([part[1] for part in parts])[back],
                [maps[j] for j in back])

    def _forward(self, queries: Sequence[QueryStates], candidates: Sequence[Candidate],
                 modes: Sequence[Mode]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """One forward pass over pairs (queries[i], candidates[i]) in modes[i], each within one window."""
        torch = self._torch
        q, q_mask = _pad([query.states for query in queries])
        d, d_mask = _pad([c.states for c in candidates])
        cosine = None
        if self.cfg.use_cosine:
            if any(c.stage1_score is None for c in candidates):
                raise ConfigError("this verifier reads each candidate's stage-1 cosine; set Candidate.stage1_score")
            cosine = torch.tensor([float(c.stage1_score) for c in candidates], dtype=torch.float32)  # type: ignore[arg-type]
        with torch.inference_mode():
            logits, cat_logits, maps = self.model.score_projected(
                torch.from_numpy(q), torch.from_numpy(q_mask), torch.from_numpy(d), torch.from_numpy(d_mask),
                torch.tensor([1 if m is Mode.IDENTITY else 0 for m in modes], dtype=torch.long), cosine,
            )
            cats = torch.softmax(cat_logits, dim=-1).numpy()
        return logits.double().numpy(), cats, [maps[i, : qs.states.shape[0], : c.states.shape[0]].numpy()
                                               for i, (qs, c) in enumerate(zip(queries, candidates))]

    def verify(self, query: QueryStates, candidates: Sequence[Candidate], mode: Mode | str = Mode.RELEVANCE,
               level: Level | str = Level.FULL, settle: bool = True,
               opposite: QueryStates | None = None) -> list[Verdict]:
        """Verdicts for ``query`` against each candidate, decided together (``settle``) unless told not to.
        In relevance mode ``opposite`` is the yes/no question asked the other way
        (``verirank.questions``): a candidate it accepts is accepted (``answered``)."""
        if Level(level) is Level.OFF:
            raise ConfigError("level='off' skips verification; call search(level='off') or pick light/full/strict")
        return self.verify_many([VerifyJob(query, candidates, Mode(mode), Level(level), settle, opposite)])[0]

    def verify_many(self, jobs: Sequence[VerifyJob]) -> list[list[Verdict]]:
        """Verdicts for several queries' candidates from one forward pass over all their pairs
        (what the service's micro-batcher runs); same verdicts as ``verify`` on each job."""
        if any(Level(job.level) is Level.OFF for job in jobs):
            raise ConfigError("level='off' skips verification; pick light/full/strict")
        asked = [(job, q) for job in jobs for q in job.queries()]
        pairs = [(q, cand if q is job.query else own_cosine(cand, q), Mode(job.mode))
                 for job, q in asked for cand in job.candidates]
        logits, cats, maps, best = self._best_windows([q for q, _, _ in pairs], [c for _, c, _ in pairs],
                                                      [m for _, _, m in pairs])
        out: list[list[Verdict]] = []
        i = 0
        for job in jobs:
            mode, level = Mode(job.mode), Level(job.level)
            n = len(job.candidates)
            readings = []
            for q in job.queries():
                p = self.calibrated(logits[i : i + n], mode)
                readings.append(self._verdicts(q, best[i : i + n], p, cats[i : i + n], maps[i : i + n], mode, level))
                i += n
            verdicts = readings[0]
            if job.opposite is not None and len(readings) > 1:
                verdicts = [answered(v, o, job.opposite.text) for v, o in zip(verdicts, readings[1])]
            out.append(self.settle(verdicts) if job.settle else verdicts)
        return out

    def settle(self, verdicts: list[Verdict]) -> list[Verdict]:
        """One query's relevance verdicts, decided together: when one candidate is accepted (the
        verifier found what addresses the query), an abstention below ``reject_beside_accept`` is
        rejected. Where nothing is accepted (a query the verifier reads no evidence in) the
        abstentions stand and the ranking keeps stage-1 order. Identity verdicts pass unchanged."""
        below = self.reject_beside_accept
        if below is None or not any(v.mode is Mode.RELEVANCE and v.decision is Decision.ACCEPT for v in verdicts):
            return verdicts
        note = f"below {below:.2f} while another candidate addresses the query"
        return [v.decided(Decision.REJECT, note)
                if v.mode is Mode.RELEVANCE and v.decision is Decision.ABSTAIN and v.p_match < below else v
                for v in verdicts]

    def _verdicts(self, query: QueryStates, candidates: Sequence[Candidate], p: np.ndarray, cats: np.ndarray,
                  maps: Sequence[np.ndarray], mode: Mode, level: Level) -> list[Verdict]:
        cal = self.calibration.for_mode(mode.value)
        verdicts = []
        for i, cand in enumerate(candidates):
            decision = decide(float(p[i]), cal, level)
            verdicts.append(Verdict(candidate=cand.text, p_match=float(np.clip(p[i], 0, 1)), decision=decision,
                                    reasons=explain(query, cand, cats[i], maps[i], decision, mode), mode=mode))
        return verdicts


@dataclass(frozen=True)
class VerifyJob:
    """One query's candidates to verify, for ``NearMissVerifier.verify_many``."""

    query: QueryStates
    candidates: Sequence[Candidate]
    mode: Mode = Mode.RELEVANCE
    level: Level = Level.FULL
    settle: bool = True
    opposite: QueryStates | None = None  # relevance mode: the yes/no question asked the other way

    def queries(self) -> list[QueryStates]:
        """What each candidate is scored against: the query, then (relevance mode) its opposite."""
        if self.opposite is None or Mode(self.mode) is not Mode.RELEVANCE:
            return [self.query]
        return [self.query, self.opposite]


def own_cosine(candidate: Candidate, query: QueryStates) -> Candidate:
    """``candidate`` carrying its stage-1 cosine with ``query`` (the scorer reads it), when both
    recall vectors are known; as it is otherwise."""
    if candidate.vector is None or query.vector is None:
        return candidate
    return replace(candidate, stage1_score=float(candidate.vector @ query.vector))


def answered(verdict: Verdict, other: Verdict, opposite: str) -> Verdict:
    """A candidate's verdict against a yes/no question, given its verdict against the question asked
    the other way (``other``): the passage answers the question either way, so where only ``other``
    accepts it, that one stands, saying why."""
    if other.decision is not Decision.ACCEPT or verdict.decision is Decision.ACCEPT:
        return verdict
    note = f"answers the question asked the other way: {opposite!r}"
    return other.model_copy(update={"reasons": [r.model_copy(update={"note": note}) for r in other.reasons]})


def windows(n_tokens: int, size: int, full_last: bool = False) -> list[tuple[int, int]]:
    """Consecutive ``[lo, hi)`` token windows of at most ``size`` covering ``n_tokens``; with
    ``full_last`` a short last window is widened backwards to ``size`` (overlapping its neighbour)."""
    out = [(lo, min(lo + size, n_tokens)) for lo in range(0, n_tokens, size)]
    if full_last and len(out) > 1:
        out[-1] = (n_tokens - size, n_tokens)
    return out


def decide(p: float, cal: Any, level: Level) -> Decision:
    if level is Level.STRICT:
        return Decision.ACCEPT if p >= cal.strict_accept else Decision.REJECT
    if p >= cal.accept:
        return Decision.ACCEPT
    if p < cal.reject:
        return Decision.REJECT
    return Decision.ABSTAIN


CATEGORY_ORDER = [Category.MATCH, Category.NEGATION, Category.ROLE_REVERSAL, Category.SPATIAL, Category.BINDING,
                  Category.COMPARATIVE, Category.NUMERIC, Category.EXCLUSION]


def explain(query: QueryStates, cand: Candidate, cat_probs: np.ndarray, sim: np.ndarray, decision: Decision,
            mode: Mode = Mode.RELEVANCE) -> list[Reason]:
    """The likeliest near-miss category (learned) and its evidence: in identity mode the words that
    differ between the two texts (replaced, added, dropped or moved), else the least-aligned words."""
    if decision is Decision.ACCEPT:
        return [Reason(category=Category.MATCH, confidence=float(cat_probs[0]), note="structure matches")]
    near = int(np.argmax(cat_probs[1:])) + 1
    confidence = min(1.0, float(cat_probs[near] / max(1e-9, cat_probs[1:].sum())))
    if mode is Mode.IDENTITY:
        spans = differing_words(query.text, cand.text)
        if spans is not None:
            return [Reason(category=CATEGORY_ORDER[near], confidence=confidence, query_span=spans[0],
                           candidate_span=spans[1], note="words that differ between the two texts")]
    q_span = c_span = None
    if sim.size:
        q_span = _word_span(query.text, query.spans, int(np.argmin(sim.max(axis=1))))
        c_span = _word_span(cand.text, cand.spans, int(np.argmin(sim.max(axis=0))))
    return [Reason(category=CATEGORY_ORDER[near], confidence=confidence, query_span=q_span,
                   candidate_span=c_span, note="least-aligned words on each side")]


_WORD = re.compile(r"\w+(?:[-'.]\w+)*")


def differing_words(a: str, b: str) -> tuple[Span | None, Span | None] | None:
    """The words between the longest shared first and last words, on each side: what was replaced,
    added, dropped, or (for a swap) everything from the first to the last moved word. None when the
    texts have the same words in the same order."""
    wa, wb = list(_WORD.finditer(a)), list(_WORD.finditer(b))
    la, lb = [m.group().lower() for m in wa], [m.group().lower() for m in wb]
    if la == lb:
        return None
    head = 0
    while head < min(len(la), len(lb)) and la[head] == lb[head]:
        head += 1
    tail = 0
    while tail < min(len(la), len(lb)) - head and la[-1 - tail] == lb[-1 - tail]:
        tail += 1

    def span(text: str, words: list[re.Match[str]], lo: int, hi: int) -> Span | None:
        if hi <= lo:
            return None
        start, end = words[lo].start(), words[hi - 1].end()
        return Span(start=start, end=end, text=text[start:end])

    return span(a, wa, head, len(wa) - tail), span(b, wb, head, len(wb) - tail)


def _word_span(text: str, spans: np.ndarray, token: int) -> Span | None:
    """Grow a word-piece's char span to the whole word around it."""
    if token >= len(spans):
        return None
    start, end = int(spans[token][0]), int(spans[token][1])
    if end <= start:
        return None
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return Span(start=start, end=end, text=text[start:end])


def _pad(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    length = max(1, max(a.shape[0] for a in arrays))
    out = np.zeros((len(arrays), length, arrays[0].shape[1]), dtype=np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
        mask[i, : a.shape[0]] = True
    return out, mask
