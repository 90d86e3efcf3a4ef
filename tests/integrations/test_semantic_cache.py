"""The semantic-cache guard: a near-miss prompt must not be served another prompt's answer."""

from __future__ import annotations

import pytest

import verirank
from verirank.integrations.semantic_cache import CacheGuard, GuardedSemanticCache


@pytest.fixture()
def cache(torch_encoder, shipped_verifier):
    return GuardedSemanticCache(verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier))


def test_guard_refuses_the_negated_prompt(verifier_pipe):
    guard = CacheGuard(verifier_pipe)
    verdict = guard.check("What is the capital of France?", "What is not the capital of France?")
    assert verdict.decision is verirank.Decision.REJECT and verdict.reasons[0].category is verirank.Category.NEGATION
    assert not guard.allows("What is the capital of France?", "What is not the capital of France?")
    assert guard.allows("What is the capital of France?", "What's the capital of France?")
    strict = CacheGuard(verifier_pipe, level="strict")
    assert not strict.allows("What is the capital of France?", "What is not the capital of France?")


def test_cache_serves_paraphrases_only(cache):
    assert not cache.get("What is the capital of France?").hit  # empty cache
    cache.put("What is not the capital of France?", "Lyon, for one.")
    near_miss = cache.get("What is the capital of France?")
    assert not near_miss.hit and near_miss.answer is None
    assert near_miss.cached_prompt == "What is not the capital of France?" and near_miss.similarity > 0.8
    assert near_miss.verdict.decision is verirank.Decision.REJECT
    cache.put("What is the capital of France?", "Paris.")
    served = cache.get("What's the capital of France?")
    assert served.hit and served.answer == "Paris." and served.cached_prompt == "What is the capital of France?"
    assert not cache.get("How do I bake sourdough bread?").hit  # nothing near


def test_example_runs(torch_encoder, shipped_verifier, capsys):
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "semantic_cache.py"))
    lookups = example["main"](verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier))
    assert [look.hit for look in lookups][:3] == [False, True, False]
    assert "refused: reject" in capsys.readouterr().out
