"""verirank: retrieval that does not silently return the wrong match.

``import verirank`` loads no torch, spaCy, FastAPI or matplotlib; those load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verirank._version import __version__
from verirank.errors import (
    BackendUnavailable,
    CheckpointError,
    ConfigError,
    DimensionMismatch,
    EncoderMismatch,
    IndexError_,
    InputError,
    MissingDependency,
    VerirankError,
)
from verirank.types import (
    Category,
    Constraint,
    ConstraintKind,
    Decision,
    Document,
    IndexInfo,
    Level,
    Mode,
    NearMissPair,
    QueryConstraints,
    Reason,
    SearchHit,
    Span,
    TokenAlignment,
    Verdict,
)

if TYPE_CHECKING:
    from verirank.pipeline import Pipeline


def __getattr__(name: str) -> Any:
    if name == "Pipeline":
        from verirank.pipeline import Pipeline

        return Pipeline
    if name == "parse_constraints":
        from verirank.constraints import parse_constraints

        return parse_constraints
    raise AttributeError(f"module 'verirank' has no attribute {name!r}")


__all__ = [
    "BackendUnavailable",
    "Category",
    "CheckpointError",
    "Constraint",
    "ConstraintKind",
    "ConfigError",
    "Decision",
    "DimensionMismatch",
    "Document",
    "EncoderMismatch",
    "IndexError_",
    "IndexInfo",
    "InputError",
    "Level",
    "MissingDependency",
    "Mode",
    "NearMissPair",
    "QueryConstraints",
    "Pipeline",
    "Reason",
    "SearchHit",
    "Span",
    "TokenAlignment",
    "Verdict",
    "VerirankError",
    "__version__",
    "parse_constraints",
]
