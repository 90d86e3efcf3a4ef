"""Shared pieces of the near-miss generator: the Perturbation record and text edits on spaCy docs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verirank.types import Category, Span


@dataclass(frozen=True)
class Perturbation:
    """A rewritten text and what changed: ``source_span`` in the original, ``target_span`` in ``text``."""

    text: str
    category: Category
    source_span: Span
    target_span: Span


def replace_spans(text: str, edits: Sequence[tuple[int, int, str]], category: Category) -> Perturbation | None:
    """Apply non-overlapping (start, end, replacement) edits; spans cover the first..last edit."""
    edits = sorted(edits)
    for (s1, e1, _), (s2, _, _) in zip(edits, edits[1:]):
        if s2 < e1:
            return None
    out, pos, shift = [], 0, 0
    t_start = t_end = None
    for start, end, new in edits:
        out.append(text[pos:start])
        if t_start is None:
            t_start = start + shift
        out.append(new)
        shift += len(new) - (end - start)
        t_end = end + shift
        pos = end
    out.append(text[pos:])
    new_text = "".join(out)
    if new_text == text or not new_text.strip():
        return None
    s_start, s_end = edits[0][0], edits[-1][1]
    return Perturbation(
        text=new_text,
        category=category,
        source_span=Span(start=s_start, end=s_end, text=text[s_start:s_end]),
        target_span=Span(start=t_start or 0, end=t_end or 0, text=new_text[t_start:t_end]),
    )


def match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def span_text(doc: Any, start: int, end: int) -> tuple[int, int]:
    """Character offsets of tokens [start, end)."""
    return doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)


def simple_np(token: Any, max_tokens: int = 6) -> tuple[int, int] | None:
    """Token range of a short, clause-free noun phrase headed by ``token`` (else None)."""
    left, right = token.left_edge.i, token.right_edge.i + 1
    if right - left > max_tokens or token.pos_ not in ("NOUN", "PROPN"):
        return None
    doc = token.doc
    if (left > 0 and not doc[left - 1].whitespace_ and doc[left - 1].text not in "(\"'") or (
        right < len(doc) and not doc[right - 1].whitespace_ and doc[right].is_alpha
    ):
        return None  # part of a hyphenated or glued word
    for t in token.doc[left:right]:
        if t.pos_ in ("VERB", "AUX", "PUNCT", "CCONJ", "SCONJ", "PRON") or t.dep_ in ("relcl", "acl", "prep", "appos"):
            return None
    return left, right


def whole_word(token: Any) -> bool:
    """True when ``token`` is a standalone word (not inside "e-mail" or "great-great")."""
    doc = token.doc
    before = token.i == 0 or bool(doc[token.i - 1].whitespace_)
    after = bool(token.whitespace_) or token.i + 1 == len(doc) or not doc[token.i + 1].is_alpha
    return before and after


def lower_first(phrase: Any) -> str:
    """Lower-case a phrase moved away from the sentence start, unless it starts with a name."""
    first = phrase[0]
    text = phrase.text
    if first.pos_ in ("DET", "PRON", "ADJ", "NUM") or (first.pos_ == "NOUN" and not first.text.isupper()):
        return text[:1].lower() + text[1:]
    return text


def is_plural(token: Any) -> bool:
    return token.tag_ in ("NNS", "NNPS") or "Plur" in token.morph.get("Number")
