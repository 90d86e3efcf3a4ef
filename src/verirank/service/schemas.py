"""Request bodies of the HTTP API (responses reuse verirank.types)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from verirank.types import Level, Mode


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Request):
    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(default=10, ge=1, le=1000)
    level: Level = Level.OFF
    mode: Mode = Mode.RELEVANCE
    candidates: int | None = Field(default=None, ge=1, le=5000)
    budget_ms: float | None = Field(default=None, ge=0)
    keep_rejected: bool = False
    where: dict[str, Any] | None = None


class VerifyRequest(_Request):
    query: str = Field(min_length=1, max_length=10_000)
    candidates: list[str] = Field(min_length=1, max_length=1000)
    mode: Mode = Mode.RELEVANCE
    level: Level = Level.FULL


class AddRequest(_Request):
    texts: list[str] = Field(min_length=1, max_length=10_000)
    ids: list[str] | None = None
    metadata: list[dict[str, Any]] | None = None
    upsert: bool = False
