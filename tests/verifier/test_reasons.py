"""Evidence spans of a reject: the words that differ, on both sides."""

from __future__ import annotations

import numpy as np

from verirank.types import Category, Decision, Mode
from verirank.verifier.runtime import Candidate, QueryStates, differing_words, explain


def test_swap_spans_cover_the_moved_words_on_both_sides():
    q, c = differing_words("the dog bit the man", "the man bit the dog")
    assert (q.text, c.text) == ("dog bit the man", "man bit the dog")


def test_replaced_and_dropped_words():
    q, c = differing_words("The museum is north of the river.", "The museum is south of the river.")
    assert (q.text, q.start, c.text) == ("north", 14, "south")
    q, c = differing_words("Aspirin should not be taken with ibuprofen.", "Aspirin should be taken with ibuprofen.")
    assert q.text == "not" and c is None
    assert differing_words("Same words here.", "same words HERE") is None


def test_explain_names_the_category_and_differing_words_in_identity_mode():
    probs = np.array([0.05, 0.05, 0.7, 0.05, 0.05, 0.04, 0.03, 0.03])  # role_reversal likeliest
    query = QueryStates("Germany beat Brazil.", np.zeros((3, 4)), np.zeros((3, 2)))
    cand = Candidate("Brazil beat Germany.", np.zeros((3, 4)), np.zeros((3, 2)), 0.98)
    (reason,) = explain(query, cand, probs, np.zeros((3, 3)), Decision.REJECT, Mode.IDENTITY)
    assert reason.category is Category.ROLE_REVERSAL
    assert (reason.query_span.text, reason.candidate_span.text) == ("Germany beat Brazil", "Brazil beat Germany")
    (accepted,) = explain(query, cand, probs, np.zeros((3, 3)), Decision.ACCEPT, Mode.IDENTITY)
    assert accepted.category is Category.MATCH and accepted.candidate_span is None
