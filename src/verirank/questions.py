"""Yes/no questions asked the other way: "Is breakfast included?" <-> "Is breakfast not included?".

A passage answers a yes/no question whether it says yes or no: "Breakfast is not included in the
room price." answers "Is breakfast included in the room price?". The verifier learned that only in
part; it scores the passage that says no far higher against the question asked the other way. So
relevance verification also reads that opposite question (``Pipeline``), and a passage the
verifier accepts against either one is accepted. The rule here only rewrites the question from its
spaCy parse; the learned scorer decides.
"""

from __future__ import annotations

from typing import Any

# a yes/no question opens with one of these
AUXILIARIES = frozenset({"is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "will", "would",
                         "should", "shall", "must", "has", "have", "had", "may", "might", "ca", "wo", "sha"})
_UNCONTRACTED = {"ca": "can", "wo": "will", "sha": "shall"}  # "Can't" parses as "Ca" + "n't"
# "Could you please give me articles about ...", "Can you find ...": a request to the system, not a question
_REQUEST_VERBS = frozenset({"give", "find", "show", "tell", "list", "send", "provide", "recommend", "suggest", "help",
                            "get", "search", "retrieve", "locate", "point"})
_PRONOUN_SUBJECTS = frozenset({"it", "he", "she", "they", "we", "i", "you", "this", "that", "these", "those",
                               "there"})


def opposite_question(query: str, doc: Any) -> str | None:
    """``query`` asked the other way when it is a one-sentence yes/no question (question mark or
    not) whose polarity one "not" sets, else None. ``doc`` is its spaCy parse (of the same
    characters: its offsets index ``query``).

    "Is breakfast included in the room price?" -> "Is breakfast not included in the room price?";
    "Did Brazil beat Germany?" -> "Did Brazil not beat Germany?"; "Isn't it free?" -> "Is it free?"
    """
    from verirank.nearmiss.negation import POLARITY, SENTENCE_ADVERBS

    words = [t for t in doc if not t.is_space]
    if words and words[-1].text in "?.":  # typed queries often drop the question mark
        words = words[:-1]
    if len(words) < 3 or words[0].lower_ not in AUXILIARIES or len(list(doc.sents)) > 1 or \
            any(t.is_punct and t.text in "?.!;" for t in words):
        return None
    if any(t.lower_ == "please" for t in words) or (words[1].lower_ == "you" and any(
            t.dep_ == "ROOT" and t.lemma_.lower() in _REQUEST_VERBS for t in words)):
        return None
    negations = [t for t in words if t.lower_ in ("not", "n't")]
    if len(negations) > 1 or any(t.lower_ in POLARITY or t.lower_ in SENTENCE_ADVERBS for t in words):
        return None  # "Is there any ...", "Is it never ...": one "not" does not simply flip them
    if negations:
        return _without(query, negations[0], words[0])
    at = _predicate_start(doc, words)
    if at is None:
        return None
    return f"{query[: at.idx].rstrip()} not {query[at.idx :]}"


def _without(query: str, negation: Any, first: Any) -> str | None:
    """The question with its one negation taken out ("Isn't it free?" -> "Is it free?")."""
    if negation.lower_ == "n't":
        if negation.i != first.i + 1:
            return None  # "n't" on a later auxiliary
        aux = _UNCONTRACTED.get(first.lower_, first.text)
        aux = aux.capitalize() if first.text[:1].isupper() else aux
        return f"{aux}{query[negation.idx + len(negation.text):]}"
    return f"{query[: negation.idx].rstrip()} {query[negation.idx + len(negation.text):].lstrip()}"


def _predicate_start(doc: Any, words: list[Any]) -> Any | None:
    """The token "not" goes before: after the subject, at the verb or predicate it denies."""
    first = words[0]
    if first.dep_ != "ROOT":  # "Does the train have ...", "Can aspirin be taken ...": before the verb group
        root = next(t for t in doc if t.dep_ == "ROOT")
        if root.i <= first.i + 1 or root.pos_ not in ("VERB", "AUX"):
            return None
        auxiliaries = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i > first.i + 1]
        return auxiliaries[0] if auxiliaries else root
    # "Is breakfast included ...", "Is the man happy?", "Is the museum north of the river?"
    subject = next((c for c in doc.noun_chunks if c.start == first.i + 1), None)
    if subject is None:
        if words[1].lower_ not in _PRONOUN_SUBJECTS:
            return None
        end = words[1].i + 1
    else:
        end = subject.end
    if end > words[-1].i:
        return None
    later = {i for c in doc.noun_chunks if c.start >= end for i in range(c.start, c.end)}
    return next((t for t in doc[end : words[-1].i + 1] if t.pos_ in ("VERB", "AUX", "ADJ") and t.i not in later),
                doc[end])
