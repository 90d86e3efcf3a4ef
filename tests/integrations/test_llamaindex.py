"""The LlamaIndex node post-processor with the real llama-index-core."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core")
from llama_index.core.postprocessor.types import BaseNodePostprocessor  # noqa: E402
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode  # noqa: E402

from verirank.integrations.llamaindex import VerirankPostprocessor  # noqa: E402


QUERY = "Aspirin should not be taken together with ibuprofen."


def test_postprocessor_drops_rejected_and_annotates_kept(verifier_pipe, docs):
    post = VerirankPostprocessor(pipeline=verifier_pipe, mode="identity")
    assert isinstance(post, BaseNodePostprocessor)
    nodes = [NodeWithScore(node=TextNode(text=t, id_=f"n{i}", metadata={"n": i}), score=0.9) for i, t in enumerate(docs)]
    kept = post.postprocess_nodes(nodes, query_str=QUERY)
    assert [n.node.node_id for n in kept] == ["n0"]
    node = kept[0].node
    assert node.metadata["verirank_decision"] == "accept" and node.metadata["n"] == 0
    assert kept[0].score == pytest.approx(node.metadata["verirank_score"])
    assert "p_match" not in node.get_content(metadata_mode=MetadataMode.LLM)  # annotations stay out of prompts
    assert post.postprocess_nodes([], query_str=QUERY) == []
    with pytest.raises(ValueError, match="query"):
        post.postprocess_nodes(nodes)


def test_postprocessor_in_a_query_engine(verifier_pipe, docs):
    """Inside LlamaIndex's own retrieval: a vector index (mock embeddings) and a query engine."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.llms import MockLLM

    index = VectorStoreIndex.from_documents([Document(text=t) for t in docs], embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=3,
                                   node_postprocessors=[VerirankPostprocessor(pipeline=verifier_pipe, mode="identity")])
    response = engine.query(QUERY)
    assert [n.node.get_content() for n in response.source_nodes] == [docs[0]]
    assert response.source_nodes[0].node.metadata["verirank_decision"] == "accept"
