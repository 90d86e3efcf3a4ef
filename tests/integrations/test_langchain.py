"""The LangChain adapters with the real langchain-core."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")
from langchain_core.documents import BaseDocumentCompressor, Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402

from verirank.integrations.langchain import VerirankCompressor, VerirankRetriever  # noqa: E402


QUERY = "Aspirin should not be taken together with ibuprofen."


def test_compressor_drops_rejected_and_annotates_kept(verifier_pipe, docs):
    compressor = VerirankCompressor(pipeline=verifier_pipe, mode="identity")
    assert isinstance(compressor, BaseDocumentCompressor)
    given = [Document(page_content=t, metadata={"n": i}, id=f"doc{i}") for i, t in enumerate(docs)]
    kept = compressor.compress_documents(given, QUERY)
    assert [d.page_content for d in kept] == [docs[0]]
    meta = kept[0].metadata
    assert meta["n"] == 0 and kept[0].id == "doc0" and meta["verirank_decision"] == "accept"
    assert 0.5 < meta["p_match"] <= 1 and meta["verirank_reasons"][0]["category"] == "match"
    assert compressor.compress_documents([], QUERY) == []


def test_compressor_keeps_order_by_final_score_in_relevance_mode(verifier_pipe, docs):
    given = [Document(page_content=t) for t in reversed(docs)]
    kept = VerirankCompressor(pipeline=verifier_pipe, top_n=2).compress_documents(given, "Can I take aspirin with ibuprofen?")
    scores = [d.metadata["verirank_score"] for d in kept]
    assert len(kept) <= 2 and scores == sorted(scores, reverse=True)


def test_retriever_searches_the_pipeline(verifier_pipe):
    retriever = VerirankRetriever(pipeline=verifier_pipe, k=3, mode="identity")
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(QUERY)
    assert [d.id for d in docs] == ["fact"]  # the negated near-miss is rejected, the unrelated one too
    assert docs[0].metadata["src"] == "a" and docs[0].metadata["verirank_decision"] == "accept"
    kept = VerirankRetriever(pipeline=verifier_pipe, k=3, mode="identity", keep_rejected=True).invoke(QUERY)
    assert [d.metadata["verirank_decision"] for d in kept][1:] == ["reject", "reject"]
