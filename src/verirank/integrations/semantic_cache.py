"""A guard for semantic caches: may the answer cached for one prompt be served for another?

A semantic cache serves a stored answer when a new prompt embeds close to a cached one; dense
embeddings put "What is the capital of France?" next to "What is not the capital of France?".
``CacheGuard`` asks the verifier, in identity mode, whether the two prompts ask the same thing;
``GuardedSemanticCache`` is a small in-memory cache that serves an answer only when it does.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from verirank.types import Decision, Level, Mode, Verdict

log = logging.getLogger(__name__)


class CacheGuard:
    """``allows(prompt, cached_prompt)``: serve the cached answer only on an identity-mode accept
    (an abstain is a miss). ``level="strict"`` moves to the low false-accept operating point,
    which with the shipped checkpoint also refuses most rewordings (p_match 0.55-0.70)."""

    def __init__(self, pipeline: Any, level: str | Level = Level.FULL) -> None:
        self.pipeline = pipeline
        self.level = Level(level)

    def check(self, prompt: str, cached_prompt: str) -> Verdict:
        return self.check_many(prompt, [cached_prompt])[0]

    def check_many(self, prompt: str, cached_prompts: list[str]) -> list[Verdict]:
        return self.pipeline.verify(prompt, cached_prompts, mode=Mode.IDENTITY, level=self.level)  # type: ignore[no-any-return]

    def allows(self, prompt: str, cached_prompt: str) -> bool:
        return self.check(prompt, cached_prompt).decision is Decision.ACCEPT


class CacheLookup(BaseModel):
    """The outcome of ``GuardedSemanticCache.get``: the answer when one may be served, else None,
    with the nearest cached prompt, its stage-1 similarity and the guard's verdict."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    answer: str | None = None
    cached_prompt: str | None = None
    similarity: float | None = None
    verdict: Verdict | None = None

    @property
    def hit(self) -> bool:
        return self.answer is not None


class GuardedSemanticCache:
    """An in-memory semantic cache over a dedicated verirank ``Pipeline`` (its index holds the
    cached prompts, answers in metadata). ``get`` looks at the ``candidates`` nearest cached
    prompts at stage-1 cosine >= ``min_similarity`` and serves the first one the guard accepts."""

    def __init__(self, pipeline: Any, *, min_similarity: float = 0.8, candidates: int = 3,
                 level: str | Level = Level.FULL) -> None:
        self.pipeline = pipeline
        self.guard = CacheGuard(pipeline, level)
        self.min_similarity = min_similarity
        self.candidates = candidates

    def put(self, prompt: str, answer: str) -> None:
        self.pipeline.add([prompt], ids=[str(uuid.uuid4())], metadata=[{"answer": answer}])

    def get(self, prompt: str) -> CacheLookup:
        if len(self.pipeline.index) == 0:
            return CacheLookup(prompt=prompt)
        near = [h for h in self.pipeline.search(prompt, self.candidates, level="off") if h.score >= self.min_similarity]
        if not near:
            return CacheLookup(prompt=prompt)
        verdicts = self.guard.check_many(prompt, [h.text for h in near])
        for hit, verdict in zip(near, verdicts):
            if verdict.decision is Decision.ACCEPT:
                return CacheLookup(prompt=prompt, answer=hit.metadata["answer"], cached_prompt=hit.text,
                                   similarity=hit.score, verdict=verdict)
        log.debug("cache miss for %r: %d near prompts, none accepted", prompt, len(near))
        return CacheLookup(prompt=prompt, cached_prompt=near[0].text, similarity=near[0].score, verdict=verdicts[0])


__all__ = ["CacheGuard", "CacheLookup", "GuardedSemanticCache"]
