"""Shared pieces of the near-miss generator: the Perturbation record and text edits on spaCy docs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verirank.nearmiss._nlp import noun_lemmas
from verirank.types import Category, Span

Edit = tuple[int, int, str]  # (start char, end char, replacement)


@dataclass(frozen=True)
class Perturbation:
    """A rewritten text and what changed: ``source_span`` in the original, ``target_span`` in ``text``."""

    text: str
    category: Category
    source_span: Span
    target_span: Span


def default_rng(rng: random.Random | None) -> random.Random:
    """The caller's generator, or a fixed-seed one so ``perturb(doc)`` is deterministic too."""
    return rng if rng is not None else random.Random(0)


def replace_spans(text: str, edits: Sequence[Edit], category: Category) -> Perturbation | None:
    """Apply non-overlapping edits; the spans run from the first to the last edit (both texts)."""
    edits = sorted(edits)
    for (_, e1, _), (s2, _, _) in zip(edits, edits[1:]):
        if s2 < e1:
            return None
    out, pos, shift = [], 0, 0
    t_start: int | None = None
    t_end = 0
    for start, end, new in edits:
        out.append(text[pos:start])
        if t_start is None:
            t_start = start
        out.append(new)
        shift += len(new) - (end - start)
        t_end = end + shift
        pos = end
    out.append(text[pos:])
    new_text = "".join(out)
    if new_text == text or not new_text.strip() or t_start is None:
        return None
    s_start, s_end = edits[0][0], edits[-1][1]
    return Perturbation(
        text=new_text,
        category=category,
        source_span=Span(start=s_start, end=s_end, text=text[s_start:s_end]),
        target_span=Span(start=t_start, end=t_end, text=new_text[t_start:t_end]),
    )


def token_edit(token: Any, new: str) -> Edit:
    return token.idx, token.idx + len(token.text), new


def match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def article_fix(doc: Any, word_index: int, new_word: str) -> Edit | None:
    """An edit turning the "a"/"an" right before ``doc[word_index]`` into the form ``new_word`` needs."""
    if word_index == 0:
        return None
    art = doc[word_index - 1]
    if art.lower_ not in ("a", "an"):
        return None
    want = "an" if new_word[:1].lower() in "aeiou" else "a"
    if want == art.lower_:
        return None
    return token_edit(art, match_case(want, art.text))


def replace_word(doc: Any, token: Any, new: str, category: Category) -> Perturbation | None:
    """``token`` replaced by ``new`` (case matched), with "a"/"an" before it redone."""
    edits = [token_edit(token, match_case(new, token.text))]
    fix = article_fix(doc, token.i, new)
    if fix is not None:
        edits.append(fix)
    return replace_spans(doc.text, edits, category)


def span_chars(doc: Any, start: int, end: int) -> tuple[int, int]:
    """Character offsets of tokens [start, end)."""
    return doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)


def whole_word(token: Any) -> bool:
    """True when ``token`` stands alone (not inside "e-mail", "two-dimensional", "1955's")."""
    doc = token.doc
    before = token.i == 0 or bool(doc[token.i - 1].whitespace_) or doc[token.i - 1].text in "(\"'“"
    after = bool(token.whitespace_) or token.i + 1 == len(doc) or doc[token.i + 1].text in (",", ".", ";", ":", ")", "!", "?", "\"", "”")
    return before and after


def simple_np(token: Any, max_tokens: int = 6) -> tuple[int, int] | None:
    """Token range of a short, clause-free noun phrase headed by ``token`` (else None)."""
    left, right = token.left_edge.i, token.right_edge.i + 1
    if right - left > max_tokens or token.pos_ not in ("NOUN", "PROPN"):
        return None
    doc = token.doc
    if not whole_word(doc[left]) or not whole_word(doc[right - 1]):
        return None  # part of a hyphenated or glued word
    if "/" in doc.text[max(0, doc[left].idx - 2) : doc[right - 1].idx + len(doc[right - 1].text) + 2]:
        return None  # "/panel flutter,/" -- markup around the phrase
    for t in doc[left:right]:
        if t.pos_ in ("VERB", "AUX", "PUNCT", "CCONJ", "SCONJ", "PRON", "NUM") or t.dep_ in ("relcl", "acl", "prep", "appos"):
            return None
    # an entity must not stick out of the phrase ("the [New York] Times" cut in two)
    for t in (doc[left], doc[right - 1]):
        if t.ent_type_:
            ent = next((e for e in doc.ents if e.start <= t.i < e.end), None)
            if ent is not None and (ent.start < left or ent.end > right):
                return None
    return left, right


def np_text_at(doc: Any, rng: tuple[int, int], sentence_start: bool) -> str:
    """The words of a noun phrase, cased for where it will stand."""
    words = doc[rng[0] : rng[1]].text
    if sentence_start:
        return words[:1].upper() + words[1:] if doc[0].text[:1].isupper() else words  # keep "the ..." titles
    return lower_first(doc[rng[0] : rng[1]]) if rng[0] == 0 else words


NAME_ENTS = {"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def lower_first(phrase: Any) -> str:
    """Lower-case a phrase moved away from the sentence start, unless it starts with a name."""
    first = phrase[0]
    text = phrase.text
    if first.lower_ in ("the", "a", "an") and first.pos_ == "DET" and len(phrase) > 1:
        return text[:1].lower() + text[1:]  # "by the Supreme Court", not "by The Supreme Court"
    if first.text == "I" or first.ent_type_ in NAME_ENTS or first.pos_ == "PROPN" or (
            len(first.text) > 1 and first.text.isupper()):
        return text
    return text[:1].lower() + text[1:]


def is_plural(token: Any) -> bool:
    return token.tag_ in ("NNS", "NNPS") or "Plur" in token.morph.get("Number")


def number_is_clear(token: Any) -> bool:
    """Whether the parser's singular/plural for a noun can be trusted for verb agreement: not a
    plural without -s ("Zuazua" tagged NNS) nor a singular whose noun lemma differs ("ganglia")."""
    word = token.lower_
    if is_plural(token):
        return word.endswith("s") or token.pos_ != "PROPN" and bool(noun_lemmas(word) - {word})  # "children"
    return token.pos_ == "PROPN" or not noun_lemmas(word) - {word}


def is_title(doc: Any) -> bool:
    """No final full stop or exclamation mark: a title or heading, not a stated claim."""
    return doc[-1].text not in (".", "!")


def has_quote(doc: Any) -> bool:
    return any(ch in doc.text for ch in "\"“”")


def root_of(doc: Any) -> Any | None:
    return next((t for t in doc if t.dep_ == "ROOT"), None)
