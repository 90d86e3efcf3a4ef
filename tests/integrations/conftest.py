from __future__ import annotations

import pytest

import verirank

DOCS = ["Aspirin should not be taken together with ibuprofen.",
        "Aspirin should be taken together with ibuprofen.",
        "Interest rates rose sharply in March."]


@pytest.fixture(scope="module")
def verifier_pipe(torch_encoder, shipped_verifier):
    """A pipeline with the shipped verifier and a small in-memory index."""
    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    pipe.add(DOCS, ids=["fact", "negated", "rates"], metadata=[{"src": "a"}, {"src": "b"}, {"src": "c"}])
    return pipe


@pytest.fixture()
def docs() -> list[str]:
    return list(DOCS)
