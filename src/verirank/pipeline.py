"""``Pipeline``: encode -> recall (stage 1) -> verify (stage 2) -> typed hits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirank.encoders import Encoder, load_encoder
from verirank.encoders.base import check_texts, extend_states
from verirank.errors import ConfigError, InputError, MissingDependency
from verirank.index.base import IndexSpec, RawHit, VectorIndex, search_stored
from verirank.index.factory import create_index, index_exists, open_index
from verirank.tokenhead import IdentityHead, TokenHead
from verirank.types import (
    Category, ConstraintKind, Decision, Document, Level, Mode, QueryConstraints, Reason, SearchHit, Span, TokenAlignment,
    Verdict,
)

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 10_000
LIGHT_TOP = 5  # level="light" verifies this many of the top stage-1 candidates
VERIFY_CHUNK = 8  # candidates verified per step when a latency budget is set
VERIFY_BATCH = 64  # candidates per verifier forward otherwise: bounds the attention maps' memory
RERANK_WEIGHT = 0.05  # final score = stage-1 cosine + RERANK_WEIGHT * (p_match - 0.5)
REJECT_PENALTY = 1.0  # kept rejected hits (keep_rejected=True) sink below every accepted one
# relevance checks' settings a checkpoint fits (read from its meta; a pipeline copy carries them)
FITTED_SETTINGS = ("exclusion_threshold", "direction_margin", "direction_cosine_weight", "contrast_cosine",
                   "contrast_margin", "unrelated_gap")


def as_documents(
    texts: Sequence[str] | Sequence[Document],
    ids: Sequence[str] | None = None,
    metadata: Sequence[dict[str, Any]] | None = None,
    id_offset: int = 0,
) -> list[Document]:
    """Normalise ``add`` input: strings (+ ids, metadata) or ready Documents."""
    if isinstance(texts, str):
        raise InputError("add() takes a list of texts; wrap a single text in a list")
    if texts and all(isinstance(t, Document) for t in texts):
        docs = list(texts)  # type: ignore[arg-type]
        check_texts([d.text for d in docs], "document text")
        return docs
    check_texts(texts, "document text")  # type: ignore[arg-type]
    if ids is not None and len(ids) != len(texts):
        raise InputError(f"{len(texts)} texts but {len(ids)} ids; pass one id per text")
    if metadata is not None and len(metadata) != len(texts):
        raise InputError(f"{len(texts)} texts but {len(metadata)} metadata dicts; pass one per text")
    ids = list(ids) if ids is not None else [str(id_offset + i) for i in range(len(texts))]
    return [
        Document(id=str(i), text=t, metadata=(metadata[n] if metadata else {}))  # type: ignore[index]
        for n, (i, t) in enumerate(zip(ids, texts))
    ]


class Pipeline:
    """Two-stage retrieval: an unchanged embedder for recall, a verifier for precision."""

    def __init__(self, encoder: Encoder, index: VectorIndex, verifier: Any = None,
                 rerank_weight: float | None = None) -> None:
        self.encoder = encoder
        self.verifier = verifier
        shipped_weight = verifier.meta.get("rerank_weight") if verifier is not None else None
        # how far p_match may move a verified hit: argument, else the checkpoint's tuned value
        self.rerank_weight = rerank_weight if rerank_weight is not None else (shipped_weight or RERANK_WEIGHT)
        # relevance mode rejects a candidate that mentions what the query excludes at this evidence
        # (fitted per checkpoint by benchmarks/tune_exclusion.py; None: exclusions are not checked)
        self.exclusion_threshold = verifier.meta.get("exclusion_threshold") if verifier is not None else None
        # relevance mode rejects a candidate that fits the query's reversed direction better by more
        # than this margin, its stage-1 cosine gap counted at this weight (verifier.direction; fitted
        # by benchmarks/tune_direction.py; margin None: not checked)
        self.direction_margin = verifier.meta.get("direction_margin") if verifier is not None else None
        self.direction_cosine_weight = float(verifier.meta.get("direction_cosine_weight", 0.0)) if verifier is not None else 0.0
        # relevance mode rejects a candidate stage 1 reads as an accepted one (cosine at least
        # contrast_cosine) that the verifier scores contrast_margin lower (verifier.contrast; fitted
        # by benchmarks/tune_contrast.py; None: not checked)
        self.contrast_cosine = verifier.meta.get("contrast_cosine") if verifier is not None else None
        self.contrast_margin = verifier.meta.get("contrast_margin") if verifier is not None else None
        # ... and a candidate the verifier scores under its reject_beside_accept that stage 1 ranks at
        # least unrelated_gap under an accepted one (verifier.contrast.far_below; fitted by
        # benchmarks/tune_unrelated.py; None: not checked)
        self.unrelated_gap = verifier.meta.get("unrelated_gap") if verifier is not None else None
        # relevance mode also scores a yes/no question asked the other way and accepts what either
        # reading accepts (verirank.questions; benchmarks/question_polarity.py measures it)
        self.opposite_questions = True
        self.token_head: TokenHead = verifier if verifier is not None else IdentityHead(encoder.dim)
        self.index = index
        # told (stage, seconds) after each index round trip of search ("recall"); the service's metrics
        self.stage_observer: Callable[[str, float], None] | None = None
        index.spec.check_compatible(self._spec())

    def _spec(self, token_dtype: str = "int8") -> IndexSpec:
        max_stored_tokens = getattr(self.token_head, "max_tokens", 128)
        return IndexSpec(
            encoder_id=self.encoder.encoder_id,
            space=self.encoder.space,
            dim=self.encoder.dim,
            token_head_id=self.token_head.head_id,
            token_dim=self.token_head.dim,
            token_dtype=token_dtype,
            max_stored_tokens=max_stored_tokens,
        )

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def default(
        cls,
        index_dir: str | Path | None = None,
        *,
        runtime: str = "torch",
        encoder: Encoder | None = None,
        backend: str | None = None,
        verifier: Any = "shipped",
        **index_options: Any,
    ) -> Pipeline:
        """Shipped encoder + shipped verifier over an index: in memory, or at ``index_dir`` (a
        directory, or a ``postgresql://`` DSN); an existing index there is opened.

        ``verifier``: "shipped", "shipped-onnx" (its model on ONNX Runtime, needs the ``onnx``
        extra), a checkpoint directory, a loaded verifier, or None (stage 1 only).
        """
        encoder = encoder or load_encoder(runtime)
        loaded = _load_verifier(verifier)
        if index_exists(index_dir, backend, **index_options):
            return cls(encoder, open_index(index_dir, backend, **index_options), loaded)  # type: ignore[arg-type]
        head: TokenHead = loaded if loaded is not None else IdentityHead(encoder.dim)
        spec = IndexSpec(encoder.encoder_id, encoder.space, encoder.dim, head.head_id, head.dim,
                         max_stored_tokens=getattr(head, "max_tokens", 128))
        return cls(encoder, create_index(spec, index_dir, backend, **index_options), loaded)

    @classmethod
    def open(cls, index_dir: str | Path, *, runtime: str = "torch", encoder: Encoder | None = None,
             backend: str | None = None, verifier: Any = "auto", **index_options: Any) -> Pipeline:
        """Reopen a persisted index (directory or ``postgresql://`` DSN) with its encoder and token head.

        ``verifier="auto"`` loads the shipped verifier when the index was built with its token head.
        """
        index = open_index(index_dir, backend, **index_options)
        encoder = encoder or load_encoder(runtime)
        if verifier == "auto":
            verifier = None if index.spec.token_head_id == "identity" else "shipped"
        return cls(encoder, index, _load_verifier(verifier))

    # ---- writes --------------------------------------------------------------------------
    def add(
        self,
        texts: Sequence[str] | Sequence[Document],
        ids: Sequence[str] | None = None,
        metadata: Sequence[dict[str, Any]] | None = None,
        *,
        batch_size: int = 32,
        overwrite: bool = False,
    ) -> list[str]:
        """Encode and index texts; returns their ids. Existing ids raise unless ``overwrite``."""
        docs = as_documents(texts, ids, metadata, id_offset=len(self.index))
        if not docs:
            return []
        encoded = self._encode_documents([d.text for d in docs], self.index.spec.max_stored_tokens, batch_size)
        self.index.add(
            docs,
            encoded.pooled,
            self.token_head.project(encoded.token_states),
            encoded.offsets,
            encoded.truncated,
            overwrite=overwrite,
        )
        return [d.id for d in docs]

    def _encode_documents(self, texts: list[str], max_tokens: int, batch_size: int = 32) -> Any:
        """Pooled vectors (the encoder window) and token states up to ``max_tokens`` per text,
        continued past the encoder window so a long document's later text is verified too."""
        encoded = self.encoder.encode(texts, batch_size=batch_size, state_layer=self.token_head.state_layer)
        return extend_states(self.encoder, texts, encoded, max_tokens, self.token_head.state_layer)

    def upsert(self, texts: Sequence[str] | Sequence[Document], ids: Sequence[str] | None = None,
               metadata: Sequence[dict[str, Any]] | None = None, **options: Any) -> list[str]:
        return self.add(texts, ids, metadata, overwrite=True, **options)

    def delete(self, ids: Sequence[str]) -> int:
        return self.index.delete(ids)

    # ---- reads ---------------------------------------------------------------------------
    @staticmethod
    def _check_query(query: str) -> None:
        if not isinstance(query, str) or not query.strip():
            raise InputError("query is empty or whitespace; pass the text to search for")
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"query has {len(query)} characters (limit {MAX_QUERY_CHARS}); shorten it")

    def _encode_query(self, query: str | list[str]) -> Any:
        texts = [query] if isinstance(query, str) else query
        for text in texts:
            self._check_query(text)
        return self.encoder.encode(texts, state_layer=self.token_head.state_layer)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        level: str | Level | None = None,
        mode: str | Mode = Mode.RELEVANCE,
        candidates: int | None = None,
        where: dict[str, Any] | None = None,
        budget_ms: float | None = None,
        keep_rejected: bool = False,
    ) -> list[SearchHit]:
        """Top-k hits for ``query``, ordered by the final score.

        ``level="off"`` is exactly stage 1; the default is ``full`` when the pipeline has a verifier,
        else ``off``. Otherwise ``candidates`` stage-1 hits (default 2k) are verified (only the top
        few at ``light``), in score order until ``budget_ms`` is spent; rejected hits are dropped
        unless ``keep_rejected`` (then returned last, marked). In relevance mode the verdicts reorder
        and drop hits only on a query with a parsed constraint (``verdicts_act``); rejections
        beside an accepted candidate (``check_contrast``) act on every query.
        """
        level = self.default_level if level is None else _level(level)
        mode = _mode(mode)
        if candidates is not None and (not isinstance(candidates, int) or candidates < 1):
            raise InputError(f"candidates must be a positive integer, got {candidates!r}")
        started = time.perf_counter()
        verifying = level is not Level.OFF
        if verifying and self.verifier is None:
            raise ConfigError(f"level={level.value!r} needs a verifier; this pipeline has none (use level='off' "
                              "or Pipeline.default(verifier='shipped'))")
        checked = self._constraints(query) if verifying and mode is Mode.RELEVANCE else None
        acts = verdicts_act(mode, level, checked)
        full_query = None
        if checked is not None and checked.exclusions and self.exclusion_threshold is not None:
            # recall and relevance read the query without its exclusion clauses; the clauses are
            # checked against each candidate from the full query's token states
            both = self._encode_query([query, checked.core])
            full_query, encoded = both.row(0), both.row(1)
            query = checked.core
        else:
            encoded = self._encode_query(query)
        n_candidates = max(k, candidates or (2 * k if verifying else k))
        recall_started = time.perf_counter()
        found = search_stored(self.index, encoded.pooled, n_candidates, where, with_states=verifying)[0]
        if self.stage_observer is not None:
            self.stage_observer("recall", time.perf_counter() - recall_started)
        raw = [RawHit(h.id, h.score) for h in found]  # one round trip for hits + token states
        stored = {h.id: h.document for h in found}
        if not verifying:
            return [SearchHit(id=h.id, text=stored[h.id].text, score=h.score, stage1_score=h.score, rank=r,
                              metadata=stored[h.id].metadata) for r, h in enumerate(raw[:k])]
        to_verify = raw[:LIGHT_TOP] if level is Level.LIGHT else raw
        stage1 = {h.id: h.score for h in to_verify}
        verdicts = self._verify_stored(query, encoded, [stored[h.id] for h in to_verify], stage1, mode, level,
                                       started, budget_ms, acts, self.opposite_reading(checked))
        ids = list(verdicts)
        listed = [verdicts[i] for i in ids]
        cands = candidates_of([stored[i] for i in ids], stage1)
        if acts and checked is not None:
            if full_query is not None:
                listed = self.check_exclusions(checked, full_query, cands, listed)
            if budget_ms is None or 1000 * (time.perf_counter() - started) < budget_ms:
                listed = self.check_direction(checked, query, cands, listed, level)
            else:
                log.debug("latency budget %.0f ms spent before the direction check", budget_ms)
        listed, rejected = self.check_contrast(mode, [c.vector for c in cands], listed, [c.stage1_score for c in cands],
                                               self.fits_one_window(cands))
        verdicts, by_contrast = dict(zip(ids, listed)), {ids[j] for j in rejected}
        constraints = checked.constraints if checked is not None else []
        ranked = []
        for h in raw:
            verdict = verdicts.get(h.id)
            score = self._score(h.score, verdict, mode, level, keep_rejected, acts or h.id in by_contrast)
            if score is not None:
                ranked.append((score, h, verdict))
        ranked.sort(key=lambda item: -item[0])
        return [
            SearchHit(id=h.id, text=stored[h.id].text, score=score, stage1_score=h.score, rank=r,
                      metadata=stored[h.id].metadata, verified=v is not None,
                      p_match=v.p_match if v else None, decision=v.decision if v else None,
                      reasons=v.reasons if v else [], constraints=constraints if v else [])
            for r, (score, h, v) in enumerate(ranked[:k])
        ]

    @property
    def default_level(self) -> Level:
        """``search``'s level when none is given: ``full`` with a verifier, else ``off``."""
        return Level.FULL if self.verifier is not None else Level.OFF

    def _score(self, stage1: float, verdict: Verdict | None, mode: Mode, level: Level, keep_rejected: bool,
               acts: bool) -> float | None:
        """``final_score`` under the evidence rule: stage 1 when the verdicts do not act (see
        ``verdicts_act``); in relevance mode only decided verdicts (accept / reject) move a hit."""
        return final_score(stage1, verdict if acts else None, self.rerank_weight, level, keep_rejected,
                           move_abstained=mode is not Mode.RELEVANCE)

    def opposite_reading(self, checked: QueryConstraints | None) -> Any:
        """The verifier's input for a yes/no question asked the other way (``checked.opposite``), to pass
        as ``verify(..., opposite=)``; None for any other query or with ``opposite_questions`` off."""
        if not self.opposite_questions or checked is None or checked.opposite is None:
            return None
        from verirank.verifier.runtime import query_states

        return query_states(self.verifier, checked.opposite, self._encode_query(checked.opposite))

    def _constraints(self, query: str) -> QueryConstraints | None:
        """The query's parsed constraints, or None without the parser (the ``nearmiss`` extra)."""
        self._check_query(query)
        try:
            from verirank.constraints import parse_constraints

            return parse_constraints(query)
        except MissingDependency as exc:
            log.warning("query constraints are not checked: %s", exc)
            return None

    def check_exclusions(self, checked: QueryConstraints, full_query: Any, candidates: Sequence[Any],
                         verdicts: Sequence[Verdict]) -> list[Verdict]:
        """Reject candidates that mention what the query excludes (``verirank.verifier.exclusion``).
        ``full_query``: the encoded query with its exclusion clauses; ``candidates``: verifier inputs."""
        from verirank.verifier.exclusion import mentions

        exclusions = [c for c in checked.constraints if c.kind is ConstraintKind.EXCLUSION]
        q_states = self.verifier.project_query(full_query.token_states[0])
        out = []
        for cand, verdict in zip(candidates, verdicts):
            found = mentions(q_states, full_query.offsets[0], exclusions, cand.states, cand.spans, cand.text)
            hit = max(found, key=lambda m: m.evidence)
            if hit.evidence < self.exclusion_threshold:
                out.append(verdict)
                continue
            reason = Reason(category=Category.EXCLUSION, confidence=min(1.0, max(0.0, hit.evidence)),
                            query_span=Span(start=hit.constraint.start, end=hit.constraint.end,
                                            text=hit.constraint.text),
                            candidate_span=hit.candidate_span, note="mentions what the query excludes")
            out.append(verdict.rejected_for(reason))
        return out

    def check_direction(self, checked: QueryConstraints, query: str, candidates: Sequence[Any],
                        verdicts: Sequence[Verdict], level: Level = Level.FULL) -> list[Verdict]:
        """Reject candidates that fit the query's reversed direction better than the query
        (``verirank.verifier.direction``): one more verifier pass, only for a query with a direction
        and a checkpoint with a fitted ``direction_margin``. ``candidates`` are the verifier inputs
        ``verdicts`` were made from; candidates already rejected are not scored again."""
        from verirank.verifier.direction import direction_of, reversal

        constraint = direction_of(checked) if self.direction_margin is not None else None
        out = list(verdicts)
        open_ = [i for i, v in enumerate(out) if v.decision is not Decision.REJECT]
        fits = self.reversed_fits(query, [candidates[i] for i in open_], level) if constraint else None
        for i, fit in zip(open_, fits or []):
            out[i] = reversal(out[i], fit, self.direction_margin, self.direction_cosine_weight, constraint)
        return out

    def check_contrast(self, mode: Mode, vectors: Sequence[np.ndarray | None], verdicts: Sequence[Verdict],
                       stage1: Sequence[float | None] | None = None,
                       whole: Sequence[bool] | None = None) -> tuple[list[Verdict], set[int]]:
        """Reject abstentions that an accepted candidate of the same query shows to be wrong
        (``verirank.verifier.contrast``; relevance mode): one stage 1 reads as the accepted one
        (cosine of recall vectors at least ``contrast_cosine``) but the verifier scores
        ``contrast_margin`` lower; one the verifier scores under ``reject_beside_accept`` and stage 1
        ranks ``unrelated_gap`` under the accepted one (``stage1``: each candidate's cosine to the
        query). ``whole``: whether each candidate fits one scorer window (``contrast.fits_one_window``);
        the contrast pairs only those. Returns the verdicts and the positions it rejected: those act on the
        ranking even on a query whose other verdicts do not (the accepted candidate is the evidence)."""
        from verirank.verifier.contrast import contrast_rejection, contrasted, far_below, unrelated_rejection

        out = list(verdicts)
        if mode is not Mode.RELEVANCE:
            return out, set()
        rejected: set[int] = set()
        if self.contrast_cosine is not None and self.contrast_margin is not None:
            for j, (i, cosine) in contrasted(out, vectors, self.contrast_cosine, self.contrast_margin, whole).items():
                out[j] = contrast_rejection(verdicts[j], verdicts[i], cosine)
                rejected.add(j)
        below = getattr(self.verifier, "reject_beside_accept", None)
        if self.unrelated_gap is not None and below is not None and stage1 is not None:
            for j, (i, drop) in far_below(out, stage1, self.unrelated_gap, below).items():
                out[j] = unrelated_rejection(out[j], out[i], drop)
                rejected.add(j)
        return out, rejected

    def fits_one_window(self, candidates: Sequence[Any]) -> list[bool]:
        """Whether each candidate fits one window of this pipeline's verifier (its p_match then scores
        all of it)."""
        from verirank.verifier.contrast import fits_one_window

        window = self.verifier.cfg.max_doc_tokens
        return [fits_one_window(c.text, c.states, c.spans, window) for c in candidates]

    def reversed_fits(self, query: str, candidates: Sequence[Any], level: Level = Level.FULL) -> list[Any] | None:
        """How each candidate fits the query's reversed direction (``direction.ReversedFit``; None
        when the rule finds no direction to reverse): its relevance p_match under the reversed
        reading, given the query's stage-1 cosine so that a gap to its p_match under the query is
        the token map's alone, and its stage-1 cosine gap (from its stored recall vector)."""
        from verirank.verifier.direction import ReversedFit, reversed_query
        from verirank.verifier.runtime import query_states

        flipped = reversed_query(query)
        if flipped is None:
            return None
        encoded = self._encode_query(flipped)
        q = query_states(self.verifier, flipped, encoded)
        p = [v.p_match for lo in range(0, len(candidates), VERIFY_BATCH)
             for v in self.verifier.verify(q, candidates[lo : lo + VERIFY_BATCH], Mode.RELEVANCE, level, settle=False)]
        return [ReversedFit(pm, 0.0 if c.vector is None or c.stage1_score is None
                            else float(c.vector @ encoded.pooled[0]) - float(c.stage1_score))
                for pm, c in zip(p, candidates)]

    def _verify_stored(self, query: str, encoded: Any, docs: Sequence[Any], stage1: dict[str, float], mode: Mode,
                       level: Level, started: float, budget_ms: float | None, acts: bool = True,
                       opposite: Any = None) -> dict[str, Verdict]:
        from verirank.verifier.runtime import query_states

        q = query_states(self.verifier, query, encoded)
        out: dict[str, Verdict] = {}
        chunk = VERIFY_CHUNK if budget_ms is not None else VERIFY_BATCH
        for lo in range(0, len(docs), chunk):
            if budget_ms is not None and 1000 * (time.perf_counter() - started) >= budget_ms:
                log.debug("latency budget %.0f ms spent after %d verified candidates", budget_ms, len(out))
                break
            part = docs[lo : lo + chunk]
            cands = candidates_of(part, stage1)
            for doc, verdict in zip(part, self.verifier.verify(q, cands, mode, level, settle=False, opposite=opposite)):
                out[doc.id] = verdict if acts else hold(verdict)
        if not acts:
            return out
        return dict(zip(out, self.verifier.settle(list(out.values()))))  # decided once, over every verified chunk

    def verify(
        self,
        query: str,
        candidates: Sequence[str],
        *,
        mode: str | Mode = Mode.RELEVANCE,
        level: str | Level = Level.FULL,
    ) -> list[Verdict]:
        """Verdicts for ``query`` against each candidate text (no index needed). In relevance mode a
        yes/no question is also read the other way (``verirank.questions``)."""
        mode = _mode(mode)
        q, cands = self._pair_states(query, candidates)
        if not cands:
            return []
        opposite = self.opposite_reading(self._constraints(query)) if mode is Mode.RELEVANCE else None
        return self.verifier.verify(q, cands, mode, _level(level), opposite=opposite)

    def rerank(
        self,
        query: str,
        candidates: Sequence[str],
        top_n: int | None = None,
        *,
        mode: str | Mode = Mode.RELEVANCE,
        level: str | Level = Level.FULL,
        keep_rejected: bool = True,
    ) -> list[SearchHit]:
        """Verify given candidate texts and order them by the final score ``search`` uses (no index).

        ``hit.id`` is the candidate's position in ``candidates``; rejected candidates come last
        (dropped unless ``keep_rejected``); ``top_n`` keeps the first N. The query's constraints are
        checked as in ``search``: candidates are verified against the query without its exclusion
        clauses, and those that mention what it excludes or fit its reversed direction are rejected;
        so are near-twins of an accepted candidate that the verifier scores clearly lower, and
        candidates both scorers put far below an accepted one.
        """
        mode, level = _mode(mode), _level(level)
        if level is Level.OFF:
            raise ConfigError("rerank verifies every candidate; pick level light, full or strict")
        if top_n is not None and (not isinstance(top_n, int) or top_n < 1):
            raise InputError(f"top_n must be a positive integer, got {top_n!r}")
        checked = self._constraints(query) if mode is Mode.RELEVANCE else None
        acts = verdicts_act(mode, level, checked)
        excluding = acts and checked is not None and bool(checked.exclusions) and self.exclusion_threshold is not None
        verified = checked.core if excluding else query  # as in search: verified without its exclusion clauses
        q, cands = self._pair_states(verified, candidates)
        opposite = self.opposite_reading(checked)
        verdicts = self.verifier.verify(q, cands, mode, level, settle=acts, opposite=opposite) if cands else []
        if acts and checked is not None and cands:
            if excluding:
                verdicts = self.check_exclusions(checked, self._encode_query(query), cands, verdicts)
            verdicts = self.check_direction(checked, verified, cands, verdicts, level)
        verdicts = verdicts if acts else [hold(v) for v in verdicts]
        verdicts, by_contrast = self.check_contrast(mode, [c.vector for c in cands], verdicts,
                                                    [c.stage1_score for c in cands], self.fits_one_window(cands))
        ranked = []
        for i, (cand, verdict) in enumerate(zip(cands, verdicts)):
            score = self._score(float(cand.stage1_score), verdict, mode, level, keep_rejected, acts or i in by_contrast)
            if score is not None:
                ranked.append((score, i, cand, verdict))
        ranked.sort(key=lambda item: -item[0])
        return [
            SearchHit(id=str(i), text=cand.text, score=score, stage1_score=float(cand.stage1_score), rank=r,
                      verified=True, p_match=v.p_match, decision=v.decision, reasons=v.reasons)
            for r, (score, i, cand, v) in enumerate(ranked[:top_n])
        ]

    def explain(self, query: str, candidate: str, *, mode: str | Mode = Mode.RELEVANCE,
                level: str | Level = Level.FULL) -> TokenAlignment:
        """The verdict for one pair and the token-similarity map the verifier read (cosine of its
        projected token states), with each token's character span."""
        mode, level = _mode(mode), _level(level)
        if level is Level.OFF:
            raise ConfigError("explain needs a verdict; pick level light, full or strict")
        q, cands = self._pair_states(query, [candidate])
        sim, window = self.verifier.alignment(q, cands[0], mode)  # a long candidate: its best window
        opposite = self.opposite_reading(self._constraints(query)) if mode is Mode.RELEVANCE else None
        verdict = self.verifier.verify(q, cands, mode, level, opposite=opposite)[0]  # as verify() decides
        return TokenAlignment(
            query=query, candidate=candidate,
            query_tokens=_token_spans(query, q.spans), candidate_tokens=_token_spans(candidate, window.spans),
            similarity=np.round(sim, 4).tolist(), verdict=verdict,
        )

    def _pair_states(self, query: str, candidates: Sequence[str]) -> tuple[Any, list[Any]]:
        """Query and candidate texts -> verifier inputs (projected token states, spans, stage-1 cosine)."""
        from verirank.verifier.runtime import Candidate, query_states

        if self.verifier is None:
            raise ConfigError("this pipeline has no verifier; create it with Pipeline.default(verifier='shipped')")
        texts = check_texts(candidates, "candidate")
        self._check_query(query)
        # one encoder call for the query and its candidates (continued past the encoder window)
        enc = self._encode_documents([query, *texts], self.verifier.max_tokens)
        q = query_states(self.verifier, query, enc.row(0))
        if not texts:
            return q, []
        states = self.verifier.project(enc.token_states[1:])
        cosines = enc.pooled[1:] @ enc.pooled[0]
        return q, [Candidate(t, s, o[: len(s)], float(c), v)
                   for t, s, o, c, v in zip(texts, states, enc.offsets[1:], cosines, enc.pooled[1:])]

    def similarity(self, text: str, others: Sequence[str]) -> list[float]:
        """Stage-1 cosine between ``text`` and each of ``others`` (no index needed)."""
        encoded = self.encoder.encode([text, *check_texts(others)])
        return [float(x) for x in encoded.pooled[1:] @ encoded.pooled[0]]

    def info(self) -> Any:
        return self.index.info()

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def candidates_of(docs: Sequence[Any], stage1: dict[str, float]) -> list[Any]:
    """The verifier's inputs for stored documents: token states, spans and stage-1 cosine."""
    from verirank.verifier.runtime import Candidate

    return [Candidate(d.text, d.token_states, d.token_spans, stage1[d.id], d.vector) for d in docs]


def verdicts_act(mode: Mode, level: Level, checked: QueryConstraints | None) -> bool:
    """Whether verdicts may reorder or drop hits. In relevance mode at ``light``/``full`` they act
    only on a query with at least one parsed constraint (what the verifier checks); on a query
    without one, or when the parser is not installed, the verdicts are reported and the ranking
    keeps stage-1 order. Identity mode and ``strict`` always act. (On the classic collections,
    topical queries without constraints, verdicts acting moved nDCG@10 by -0.4 to +1.4 points, never
    significantly: reports/bench/relevance_levels/.)"""
    if mode is Mode.IDENTITY or level is Level.STRICT:
        return True
    return checked is not None and bool(checked.constraints)


HOLD_NOTE = "kept in stage-1 order: the query states no constraint to check"


def hold(verdict: Verdict) -> Verdict:
    """A verdict that does not act: a rejection is reported as an abstention, with the reason why."""
    if verdict.decision is not Decision.REJECT:
        return verdict
    return verdict.decided(Decision.ABSTAIN, HOLD_NOTE)


def final_score(stage1: float, verdict: Verdict | None, weight: float, level: Level,
                keep_rejected: bool = False, move_abstained: bool = True) -> float | None:
    """A hit's final score, or None when it is dropped. Unverified hits keep their stage-1 score;
    a verified one moves by ``weight * (p_match - 0.5)`` (an abstention only if ``move_abstained``);
    a rejected one is dropped (or, kept, sinks below every other); at ``strict`` an abstention is
    dropped."""
    if verdict is None:
        return stage1
    if verdict.decision is Decision.REJECT:
        return stage1 + weight * (verdict.p_match - 0.5) - REJECT_PENALTY if keep_rejected else None
    if verdict.decision is Decision.ABSTAIN:
        if level is Level.STRICT:
            return None
        if not move_abstained:
            return stage1
    return stage1 + weight * (verdict.p_match - 0.5)


def _load_verifier(verifier: Any) -> Any:
    if verifier is None or verifier is False:
        return None
    from verirank.verifier.runtime import NearMissVerifier

    if isinstance(verifier, NearMissVerifier):
        return verifier
    if verifier == "shipped":
        return NearMissVerifier.load()
    if verifier == "shipped-onnx":  # the same checkpoint, token head and scorer on ONNX Runtime
        from verirank.verifier.onnx_scorer import load_onnx_verifier

        return load_onnx_verifier()
    return NearMissVerifier.load(verifier)


def _token_spans(text: str, spans: np.ndarray) -> list[Span]:
    return [Span(start=int(a), end=int(b), text=text[int(a) : int(b)]) for a, b in spans]


def _mode(mode: str | Mode) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise ConfigError(f"mode={mode!r}; choose one of {[m.value for m in Mode]}") from None


def _level(level: str | Level) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise ConfigError(f"level={level!r}; choose one of {[lv.value for lv in Level]}") from None
