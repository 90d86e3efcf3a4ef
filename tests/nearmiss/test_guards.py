"""The context guards ``generate`` applies around every category."""

from __future__ import annotations

import pytest

pytest.importorskip("spacy")

from verirank.nearmiss import guards  # noqa: E402
from verirank.nearmiss._nlp import nlp  # noqa: E402
from verirank.nearmiss.generate import generate  # noqa: E402
from verirank.types import Category  # noqa: E402

LONG = ("The library in the centre of the old town is open to the students of the local school during "
        "the long summer months of this year.")


def near_misses(texts, category, **kw):
    return [p for p in generate(texts, [category], positives=False, **kw) if p.label == 0]


def test_long_sentences_are_skipped_unless_the_limit_is_lifted():
    assert guards.words(nlp()(LONG)) > guards.MAX_WORDS[Category.NEGATION]
    assert near_misses([LONG], Category.NEGATION) == []
    lifted = near_misses([LONG], Category.NEGATION, max_words=0)
    assert len(lifted) == 1 and " not " in lifted[0].text


def test_a_reason_or_contrast_blocks_polarity_flips():
    assert near_misses(["Sales rose because demand was high."], Category.NEGATION) == []
    assert near_misses(["Demand was high."], Category.NEGATION) != []


def test_a_flipped_word_used_again_in_the_passage_is_skipped():
    text = "The upper surface was painted. The upper surface dried quickly."
    assert near_misses([text], Category.SPATIAL) == []
    assert near_misses(["The upper surface was painted."], Category.SPATIAL) != []


def test_a_later_sentence_is_tried_when_the_first_is_guarded():
    text = LONG + " The museum is north of the river."
    pairs = near_misses([text], Category.SPATIAL)
    assert len(pairs) == 1 and pairs[0].text.endswith("The museum is south of the river.")


def test_a_negative_word_limit_is_refused():
    with pytest.raises(ValueError, match="max_words"):
        generate(["The museum is north of the river."], max_words=-1)
