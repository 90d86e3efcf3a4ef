"""Near-miss generator: seven structural categories plus paraphrase positives.

Each category module (``negation``, ``role_reversal``, ``spatial``, ``binding``, ``comparative``,
``numeric``, ``exclusion``) exposes ``perturb(doc, rng=None) -> Perturbation | None`` over a parsed
one-sentence spaCy doc; ``paraphrase.perturb`` makes meaning-preserving rewrites.  ``generate``
runs them over raw texts.  spaCy is imported on first use only (the ``nearmiss`` extra).
"""

from verirank.nearmiss.base import Perturbation
from verirank.nearmiss.generate import PERTURBERS, generate, write_jsonl, write_manifest, write_testset

__all__ = ["PERTURBERS", "Perturbation", "generate", "write_jsonl", "write_manifest", "write_testset"]
