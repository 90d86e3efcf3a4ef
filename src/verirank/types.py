"""Typed values crossing verirank's public surface (no tensors, no dicts)."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Decision(str, Enum):
    ACCEPT = "accept"
    REJECT = "reject"
    ABSTAIN = "abstain"


class Level(str, Enum):
    """How much stage-2 verification a search pays for."""

    OFF = "off"  # stage 1 only
    LIGHT = "light"  # verify the top few candidates
    FULL = "full"  # verify every candidate
    STRICT = "strict"  # full, low false-accept operating point, abstains dropped


class Mode(str, Enum):
    """What the verifier is asked: does the candidate answer, or state the same thing."""

    RELEVANCE = "relevance"
    IDENTITY = "identity"


class Category(str, Enum):
    """Structural near-miss categories (plus ``match`` for no near-miss found)."""

    NEGATION = "negation"
    ROLE_REVERSAL = "role_reversal"
    SPATIAL = "spatial"
    BINDING = "binding"
    COMPARATIVE = "comparative"
    NUMERIC = "numeric"
    EXCLUSION = "exclusion"
    MATCH = "match"

    @classmethod
    def near_misses(cls) -> list[Category]:
        return [c for c in cls if c is not cls.MATCH]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConstraintKind(str, Enum):
    EXCLUSION = "exclusion"
    NEGATION = "negation"
    NUMBER = "number"
    COMPARATIVE = "comparative"
    DIRECTION = "direction"
    ENTITY = "entity"


class Constraint(_Frozen):
    """One constraint: its kind, the words it covers (``query[start:end] == text``) and details
    ({"op", "value"|"low"+"high", "unit"} for numbers, {"from", "to"} or {"agent", "verb",
    "patient"} for directions, {"direction", "property", "than"} for comparatives, {"cue"} for
    exclusions and negations, {"label"} for entities)."""

    kind: ConstraintKind
    text: str
    start: int = Field(ge=0)
    end: int
    detail: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _span_not_empty(self) -> Constraint:
        if self.end <= self.start or not self.text.strip():
            raise ValueError(f"constraint span [{self.start}, {self.end}) {self.text!r} is empty; "
                             "give a span with text")
        return self


class QueryConstraints(_Frozen):
    """A query, its ``core`` and its constraints in query order.

    ``core`` is the query with its exclusion clauses cut out (the query itself when it has none,
    or when nothing else would be left), for stage-1 search. ``opposite`` is a yes/no question
    asked the other way ("Is breakfast not included ...?" for "Is breakfast included ...?"; None
    for any other query): a passage answers the question whichever way it answers, so relevance
    verification reads both (``verirank.questions``).
    """

    query: str
    core: str
    constraints: list[Constraint] = Field(default_factory=list)
    opposite: str | None = None

    @model_validator(mode="after")
    def _spans_match_query(self) -> QueryConstraints:
        for c in self.constraints:
            if self.query[c.start : c.end] != c.text:
                raise ValueError(f"constraint text {c.text!r} is not query[{c.start}:{c.end}]; fix its offsets")
        return self

    @property
    def exclusions(self) -> list[str]:
        return [c.text for c in self.constraints if c.kind is ConstraintKind.EXCLUSION]

    @property
    def empty(self) -> bool:
        return not self.constraints


class Document(_Frozen):
    """A document to index: an id, its text and free-form JSON metadata."""

    id: str
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError("document id is empty; give every document a non-empty id")
        return value


class Span(_Frozen):
    """A character span ``[start, end)`` in a text, with the text it covers."""

    start: int
    end: int
    text: str


class Reason(_Frozen):
    """Why the verifier decided: the likeliest near-miss category and the aligned spans."""

    category: Category
    confidence: float = Field(ge=0.0, le=1.0)
    query_span: Span | None = None
    candidate_span: Span | None = None
    note: str = ""


class Verdict(_Frozen):
    """Stage-2 verdict for one (query, candidate) pair."""

    candidate: str
    p_match: float = Field(ge=0.0, le=1.0)
    decision: Decision
    reasons: list[Reason] = Field(default_factory=list)
    mode: Mode = Mode.RELEVANCE

    @model_validator(mode="after")
    def _reject_has_reason(self) -> Verdict:
        if self.decision is Decision.REJECT and not self.reasons:
            raise ValueError("a reject verdict must carry at least one Reason")
        return self

    def decided(self, decision: Decision, note: str) -> Verdict:
        """This verdict turned into ``decision``, ``note`` (why) appended to each of its reasons."""
        return self.model_copy(update={"decision": decision, "reasons": [
            r.model_copy(update={"note": f"{r.note}; {note}"}) for r in self.reasons]})

    def rejected_for(self, reason: Reason) -> Verdict:
        """This verdict turned into a rejection, ``reason`` first (a check that found a violation)."""
        return self.model_copy(update={"decision": Decision.REJECT, "reasons": [reason, *self.reasons]})


class SearchHit(_Frozen):
    """One search result: stage-1 recall, plus the stage-2 verdict when verified."""

    id: str
    text: str
    score: float  # final ranking score (stage-1 cosine when not verified)
    stage1_score: float
    rank: int
    metadata: dict[str, Any] = Field(default_factory=dict)
    verified: bool = False
    p_match: float | None = None
    decision: Decision | None = None
    reasons: list[Reason] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)  # parsed from the query and checked (relevance)

    @field_validator("score", "stage1_score")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"score must be finite, got {value}")
        return value


class TokenAlignment(_Frozen):
    """A pair's verdict and the token-similarity map the verifier read: ``similarity[i][j]`` is the
    cosine of query token i and candidate token j (projected token states), tokens as char spans."""

    query: str
    candidate: str
    query_tokens: list[Span]
    candidate_tokens: list[Span]
    similarity: list[list[float]]
    verdict: Verdict


class NearMissPair(_Frozen):
    """An (anchor, text) pair with a label: 1 = states the same (paraphrase), 0 = near-miss.

    ``anchor_span`` / ``text_span`` mark what was changed (character offsets), when known.
    """

    anchor: str
    text: str
    label: int = Field(ge=0, le=1)
    category: Category  # the near-miss category; for positives, the category it was paired with
    anchor_span: Span | None = None
    text_span: Span | None = None
    source: str = ""  # dataset or generator that produced it
    seed: int | None = None


class IndexInfo(_Frozen):
    """What an index holds and which models produced it."""

    backend: str
    path: str | None
    count: int
    dim: int
    encoder_id: str
    token_head_id: str
    token_dim: int
    token_dtype: str
    ann: str
    bytes_on_disk: int | None = None
    bytes_per_document: float | None = None
    truncated_documents: int = 0


__all__ = [
    "Category",
    "Decision",
    "Document",
    "IndexInfo",
    "Level",
    "Mode",
    "NearMissPair",
    "Reason",
    "SearchHit",
    "Span",
    "TokenAlignment",
    "Verdict",
]
