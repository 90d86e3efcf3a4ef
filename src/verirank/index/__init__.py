"""Vector indexes: the :class:`VectorIndex` protocol and its backends."""

from verirank.index.base import IndexSpec, RawHit, StoredDocument, VectorIndex
from verirank.index.embedded import EmbeddedIndex

__all__ = ["EmbeddedIndex", "IndexSpec", "RawHit", "StoredDocument", "VectorIndex"]
