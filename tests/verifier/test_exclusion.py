"""Exclusion evidence: which query tokens an excluded span covers, and how strongly a candidate
mentions it (best token cosine, averaged over the span)."""

from __future__ import annotations

import numpy as np
import pytest

from verirank.types import Constraint, ConstraintKind
from verirank.verifier.exclusion import excluded_terms, mentions, span_tokens


def test_span_tokens_are_the_tokens_overlapping_the_span_and_never_empty_special_tokens():
    offsets = np.array([[0, 5], [6, 9], [10, 13], [14, 20], [0, 0]])  # "hotel but not pools" + a special token
    assert span_tokens(offsets, 14, 19).tolist() == [3]
    assert span_tokens(offsets, 6, 20).tolist() == [1, 2, 3]
    assert span_tokens(offsets, 21, 30).tolist() == []


def _unit(*rows):
    a = np.array(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_a_candidate_holding_the_excluded_token_has_full_evidence_and_names_where():
    query = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    offsets = np.array([[0, 6], [7, 10], [11, 16]])  # "hotels not pools"
    pools = Constraint(kind=ConstraintKind.EXCLUSION, text="pools", start=11, end=16)
    text = "A spa with pools"
    cand = _unit([1, 1, 0], [0, 1, 0], [0, 0, 1])  # tokens "A spa", "with", "pools"
    spans = np.array([[0, 5], [6, 10], [11, 16]])
    (m,) = mentions(query, offsets, [pools], cand, spans, text)
    assert abs(m.evidence - 1.0) < 1e-6 and m.candidate_span.text == "pools"
    (far,) = mentions(query, offsets, [pools], _unit([1, 0, 0], [0, 1, 0]), spans[:2], "A spa with")
    assert far.evidence < 0.01
    (empty,) = mentions(query, offsets, [pools], np.zeros((0, 3), np.float32), None, "")
    assert empty.evidence == 0.0 and empty.candidate_span is None


def test_a_candidate_that_names_the_excluded_thing_anywhere_has_full_evidence_whatever_its_states():
    pytest.importorskip("lemminflect")
    query = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    offsets = np.array([[0, 6], [7, 14], [15, 26]])  # "hotels without those pools" cut to 3 tokens
    pools = Constraint(kind=ConstraintKind.EXCLUSION, text="those pools", start=15, end=26)
    assert excluded_terms(pools) == ["pool", "pools"]
    text = "Rooms are large. The rooftop pool opens in May."
    states = _unit([1, 0, 0], [0, 1, 0])  # nothing like the query's excluded tokens
    (m,) = mentions(query, offsets, [pools], states, None, text)
    assert m.evidence == 1.0 and m.candidate_span.text == "pool" and text[m.candidate_span.start:].startswith("pool")
    (other,) = mentions(query, offsets, [pools], states, None, "Rooms are large; the whirlpool is new.")
    assert other.evidence < 0.01  # a word that contains the term is not a mention
