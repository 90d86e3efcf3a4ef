"""LlamaIndex adapter (extra ``[llamaindex]``: llama-index-core only).

``VerirankPostprocessor`` is a node post-processor: it drops the nodes the verifier rejects,
orders the rest by verirank's final score (set as the node's score), and writes ``p_match``,
``verirank_decision`` and ``verirank_reasons`` into each kept node's metadata (left out of what
the LLM and the embedder see).
"""

from __future__ import annotations

from typing import Any

from verirank._optional import require
from verirank.integrations._annotate import KEYS, verdict_metadata

require("llama_index.core", extra="llamaindex")

from llama_index.core.postprocessor.types import BaseNodePostprocessor  # noqa: E402
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle  # noqa: E402
from pydantic import Field  # noqa: E402


class VerirankPostprocessor(BaseNodePostprocessor):
    """Verify retrieved nodes against the query; keep the ones not rejected."""

    pipeline: Any = Field(description="a verirank.Pipeline with a verifier (no index needed)", exclude=True)
    level: str = "full"  # light | full | strict (strict also drops abstains)
    mode: str = "relevance"  # relevance | identity
    top_n: int | None = None

    @classmethod
    def class_name(cls) -> str:
        return "VerirankPostprocessor"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("VerirankPostprocessor needs the query; pass query_str or query_bundle")
        if not nodes:
            return []
        texts = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]
        hits = self.pipeline.rerank(query_bundle.query_str, texts, self.top_n, mode=self.mode, level=self.level,
                                    keep_rejected=False)
        kept = []
        for hit in hits:
            node = nodes[int(hit.id)].node
            node.metadata.update(verdict_metadata(hit))
            for keys in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
                keys.extend(k for k in KEYS if k not in keys)
            kept.append(NodeWithScore(node=node, score=hit.score))
        return kept


__all__ = ["VerirankPostprocessor"]
