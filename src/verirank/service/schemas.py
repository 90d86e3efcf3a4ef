"""Request and response bodies of the HTTP API (hits and verdicts reuse verirank.types).

Batch limits here are the hard caps; ``ServiceConfig`` may set lower ones per deployment.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from verirank.types import Decision, Level, Mode, Reason

MAX_QUERY_CHARS = 10_000
MAX_CANDIDATES = 1000
MAX_DOCUMENTS = 1000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Query(_Request):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query is whitespace only; send the text to search for")
        return value


class SearchRequest(_Query):
    k: int = Field(default=10, ge=1, le=1000)
    level: Level | None = None  # None: full when the served index has a verifier, else off
    mode: Mode = Mode.RELEVANCE
    candidates: int | None = Field(default=None, ge=1, le=5000)
    budget_ms: float | None = Field(default=None, ge=0)
    keep_rejected: bool = False
    where: dict[str, Any] | None = None


class VerifyRequest(_Query):
    candidates: list[str] = Field(min_length=1, max_length=MAX_CANDIDATES)
    mode: Mode = Mode.RELEVANCE
    level: Level = Level.FULL


class ExplainRequest(_Query):
    candidate: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    mode: Mode = Mode.RELEVANCE
    level: Level = Level.FULL


class RerankDocument(BaseModel):
    """Cohere's document object: ``{"text": ...}`` (other fields are ignored)."""

    model_config = ConfigDict(extra="allow")
    text: str


class RerankRequest(_Query):
    """Cohere ``/v1/rerank`` and ``/v2/rerank`` request, plus verirank's ``level`` and ``mode``."""

    model_config = ConfigDict(extra="ignore")  # Cohere clients send fields we do not use
    documents: list[str | RerankDocument] = Field(min_length=1, max_length=MAX_CANDIDATES)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool = False
    model: str | None = None
    level: Level = Level.FULL
    mode: Mode = Mode.RELEVANCE

    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: dict[str, str] | None = None
    # verirank's additions
    p_match: float
    decision: Decision
    reasons: list[Reason]
    stage1_score: float


class RerankResponse(BaseModel):
    id: str
    results: list[RerankResult]
    meta: dict[str, Any] = Field(default_factory=dict)


class DocumentIn(_Request):
    id: str = Field(min_length=1, max_length=512)
    text: str = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)


class DocumentsRequest(_Request):
    """Batch upsert: documents with an existing id are replaced."""

    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class DocumentsResponse(BaseModel):
    ids: list[str]
    count: int


class DocumentOut(BaseModel):
    id: str
    text: str
    metadata: dict[str, Any]


class ErrorBody(BaseModel):
    """Every 4xx/5xx body: a machine-readable ``error`` and a ``detail`` that says what to do."""

    error: str
    detail: Any


class Health(BaseModel):
    status: Literal["ok", "loading", "unavailable"]
    detail: str = ""
    documents: int | None = None
    verifier: bool | None = None
