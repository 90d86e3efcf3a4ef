"""Thin adapters over ``verirank.Pipeline``; the core never imports them.

- ``verirank.integrations.langchain``: ``VerirankCompressor`` (for ContextualCompressionRetriever)
  and ``VerirankRetriever`` (extra ``[langchain]``)
- ``verirank.integrations.llamaindex``: ``VerirankPostprocessor`` (extra ``[llamaindex]``)
- ``verirank.integrations.semantic_cache``: ``CacheGuard`` and ``GuardedSemanticCache`` (no extra)
"""
