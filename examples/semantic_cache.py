"""A semantic cache that does not serve the wrong answer.

A plain semantic cache answers a new prompt with the answer cached for the nearest prompt above a
cosine threshold. all-MiniLM-L6-v2 puts "What is not the capital of France?" close to "What is
the capital of France?", so such a cache serves the wrong answer. verirank's guard asks the
verifier (identity mode) whether the two prompts ask the same thing before serving.

    python examples/semantic_cache.py
"""

from __future__ import annotations

import sys

import verirank
from verirank.integrations.semantic_cache import GuardedSemanticCache

CACHED = {
    "What is not the capital of France?": "Lyon, Marseille or any French city but Paris.",
    "Who wrote the novel Dune?": "Frank Herbert.",
    "Is the museum north of the river?": "Yes, on the north bank.",
    "Is it safe to take aspirin with ibuprofen?": "Taking them together raises the risk of stomach bleeding.",
    "Did Brazil beat Germany in 2014?": "No: Germany won the semi-final 7-1.",
}
# (prompt, should the cached answer be served?)
ASKED = [
    ("What is the capital of France?", False),  # negation near-miss of a cached prompt
    ("Who wrote Dune?", True),  # a rewording
    ("Is the museum south of the river?", False),  # spatial flip
    ("Is it unsafe to take aspirin with ibuprofen?", False),  # negation by prefix: the shipped verifier misses it
    ("Did Germany beat Brazil in 2014?", False),  # role reversal in a question: the shipped verifier misses it
    ("How tall is Mount Everest?", False),  # nothing near
]


def main(pipeline: verirank.Pipeline | None = None) -> list:
    cache = GuardedSemanticCache(pipeline or verirank.Pipeline.default(), min_similarity=0.7)
    for prompt, answer in CACHED.items():
        cache.put(prompt, answer)
    lookups = [cache.get(prompt) for prompt, _ in ASKED]
    for look, (_, should_serve) in zip(lookups, ASKED):
        print(f"\n{look.prompt!r} ({'right' if look.hit == should_serve else 'WRONG'}: "
              f"{'served' if look.hit else 'not served'}, should {'' if should_serve else 'not '}be)")
        if look.cached_prompt is None:
            print("  miss: no cached prompt is near")
            continue
        verdict = look.verdict
        reason = verdict.reasons[0] if verdict and verdict.reasons else None
        span = f" ({reason.category.value}: {reason.candidate_span.text!r})" if reason and reason.candidate_span else ""
        state = "SERVED" if look.hit else "refused"
        print(f"  nearest cached prompt {look.cached_prompt!r}, cosine {look.similarity:.3f}")
        print(f"  {state}: {verdict.decision.value}, p_match {verdict.p_match:.2f}{span}")
        if look.hit:
            print(f"  answer: {look.answer}")
    return lookups


if __name__ == "__main__":
    main()
    sys.exit(0)
