"""Context guards applied by ``generate`` around every category's rewrite.

The category rules see one parsed sentence; these guards look at how long it is, at discourse
words in it and at the rest of the passage.  Each one comes from the row-by-row audits in
``reports/nearmiss_audit``: a flip in a long sentence, in a sentence with a reason or contrast
("because", "but", "in order to"), or of a word the passage uses again elsewhere was the most
common way left for a rewrite to contradict its own context.  They cost yield, not correctness.
"""

from __future__ import annotations

import re
from typing import Any

from verirank.nearmiss.base import Perturbation
from verirank.types import Category

# Longest sentence (in words) each category rewrites.  Rounds 3+4 validity by length: negation
# 96% up to 16 words vs 86% above; numeric 96% up to 20 vs 83%; comparative 82% up to 16 vs 66%;
# spatial (without before/after) 94% up to 20 on the replayed rows vs 85% for all lengths.
MAX_WORDS: dict[Category, int] = {
    Category.NEGATION: 16,
    Category.NUMERIC: 20,
    Category.COMPARATIVE: 16,
    Category.EXCLUSION: 16,
    Category.SPATIAL: 20,
}
# A reason, purpose or contrast in the sentence: flipping a polarity next to it makes the
# sentence argue against itself ("the sale rose because demand fell").
DISCOURSE = re.compile(
    r"\b(because|since|but|although|though|however|whereas|while|thus|therefore|hence|so that|in order|"
    r"due to|despite|besides|yet|to prevent|so as to|result\w* in|lead\w* to|led to|contribut\w* to|caus\w+|saving|allowing|"
    r"enabling|render\w*|suit\w*|essential|dictat\w*|arose|arise\w*|necessitat\w*)\b",
    re.IGNORECASE)
DISCOURSE_CATEGORIES = {Category.NEGATION, Category.COMPARATIVE, Category.EXCLUSION}
WORD = re.compile(r"[a-z]+")


def _mostly_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) > len(letters) / 2


def words(sentence: Any) -> int:
    return sum(1 for t in sentence if not t.is_punct and not t.is_space)


def accepts(category: Category, sentence: Any, passage: str, pert: Perturbation,
            max_words: int | None = None) -> bool:
    """Whether a rewrite of ``sentence`` (a spaCy doc) inside ``passage`` passes the context guards.

    ``max_words`` overrides the category's sentence-length limit (``MAX_WORDS``); 0 means none.
    """
    if category in (Category.MATCH, Category.ROLE_REVERSAL, Category.NEGATION) and _mostly_upper(sentence.text):
        return False  # ALL-CAPS text: the parse is poor and a new verb would come out in mixed case
    limit = MAX_WORDS.get(category, 0) if max_words is None else max_words
    if limit and words(sentence) > limit:
        return False
    if category in DISCOURSE_CATEGORIES and DISCOURSE.search(sentence.text):
        return False
    if category is Category.MATCH:
        return True
    if category is Category.NUMERIC and any(len(re.findall(re.escape(run), passage)) > 1
                                            for run in re.findall(r"\d{2,}", pert.source_span.text)):
        return False  # "the 350 headset ... the Jabra350": the other mention would contradict the change
    changed = WORD.findall(pert.source_span.text.lower())
    if len(changed) != 1:
        return True
    target = WORD.findall(pert.target_span.text.lower())
    if category in (Category.SPATIAL, Category.COMPARATIVE) and len(target) == 1 and re.search(
            rf"\b{target[0][:5]}", passage.lower()):
        return False  # the passage already names the new side ("the leading edge is straight", then a
        # "trailing edge" flipped to "leading"): the two mentions would clash
    # One flipped word whose stem the passage uses again ("maximal ... maximum"): the other
    # mention would contradict the flip.
    stem = changed[0][:5] if len(changed[0]) > 5 else changed[0]
    return len(re.findall(rf"\b{stem}", passage.lower())) <= 1
