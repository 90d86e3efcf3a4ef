"""LangChain adapters (extra ``[langchain]``: langchain-core only).

``VerirankCompressor`` is a document compressor for ``ContextualCompressionRetriever``: it drops
the documents the verifier rejects, orders the rest by verirank's final score, and writes
``p_match``, ``verirank_decision`` and ``verirank_reasons`` into each kept document's metadata.
``VerirankRetriever`` retrieves straight from a verirank ``Pipeline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verirank._optional import require
from verirank.integrations._annotate import verdict_metadata

require("langchain_core", extra="langchain")

from langchain_core.callbacks import CallbackManagerForRetrieverRun, Callbacks  # noqa: E402
from langchain_core.documents import BaseDocumentCompressor, Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from pydantic import ConfigDict, Field  # noqa: E402


class VerirankCompressor(BaseDocumentCompressor):
    """Verify retrieved documents against the query; keep the ones not rejected."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Any = Field(description="a verirank.Pipeline with a verifier (no index needed)")
    level: str = "full"  # light | full | strict (strict also drops abstains)
    mode: str = "relevance"  # relevance | identity
    top_n: int | None = None

    def compress_documents(self, documents: Sequence[Document], query: str,
                           callbacks: Callbacks | None = None) -> Sequence[Document]:
        if not documents:
            return []
        hits = self.pipeline.rerank(query, [d.page_content for d in documents], self.top_n, mode=self.mode,
                                    level=self.level, keep_rejected=False)
        kept = []
        for hit in hits:
            doc = documents[int(hit.id)]
            kept.append(Document(page_content=doc.page_content, metadata={**doc.metadata, **verdict_metadata(hit)},
                                 id=doc.id))
        return kept


class VerirankRetriever(BaseRetriever):
    """Search a verirank ``Pipeline`` (stage-1 recall + verification) from LangChain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Any = Field(description="a verirank.Pipeline over an index")
    k: int = 4
    level: str = "full"
    mode: str = "relevance"
    candidates: int | None = None
    where: dict[str, Any] | None = None
    keep_rejected: bool = False

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.pipeline.search(query, self.k, level=self.level, mode=self.mode, candidates=self.candidates,
                                    where=self.where, keep_rejected=self.keep_rejected)
        return [Document(page_content=h.text, id=h.id,
                         metadata={**h.metadata, "id": h.id, **verdict_metadata(h)}) for h in hits]


__all__ = ["VerirankCompressor", "VerirankRetriever"]
